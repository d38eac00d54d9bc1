/**
 * tfjs (CPU backend) as an independent oracle for the tests. A full npm: specifier rather than a deno.json
 * import: with nodeModulesDir "auto" Deno installs every package of the import map on a user's first run, and
 * tfjs is only for tests (and the benchmark, `bench/peers.ts`).
 * @module
 */
export * from "npm:@tensorflow/tfjs@4.22.0";
