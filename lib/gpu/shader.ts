/**
 * Loads hand-written WGSL from `kernels/`. Resolved against this module's URL, so it works from a checkout
 * (`file:`) and when `mod.ts` is imported by URL from another project.
 *
 * WGSL has no include, so the loader adds one: a line `#include "_name.wgsl"` is replaced by that file's text,
 * once per compiled module however often it is asked for (files that only make sense inside another are
 * partials, named with a leading `_`). {@link linkKernelSources} joins several roots into one module the same
 * way (the GEMM operand files and their driver).
 * @module
 */
const cache = new Map<string, Promise<string>>();

/** `#include "file.wgsl"` on a line of its own. */
const INCLUDE = /^[ \t]*#include[ \t]+"([^"]+)\.wgsl"[ \t]*$/gm;

/** The raw text of `kernels/<name>.wgsl`, fetched once per process. */
function rawSource(name: string): Promise<string> {
  let source = cache.get(name);
  if (!source) {
    const url = new URL(`../../kernels/${name}.wgsl`, import.meta.url);
    source = fetch(url).then(async (response) => {
      if (!response.ok) throw new Error(`kernel source ${url}: HTTP ${response.status}`);
      return await response.text();
    }, (e) => {
      throw new Error(`kernel source ${url}: ${(e as Error).message}`);
    });
    cache.set(name, source);
    source.catch(() => cache.delete(name));
  }
  return source;
}

/**
 * Replaces the `#include` lines of `source` (named `name` in errors) by the included files, recursively;
 * a file already in `included` becomes an empty line, so each partial appears once.
 */
export async function expandIncludes(
  name: string,
  source: string,
  load: (name: string) => Promise<string>,
  included: Set<string> = new Set([name]),
  chain: readonly string[] = [name],
): Promise<string> {
  const parts: string[] = [];
  let last = 0;
  for (const match of source.matchAll(INCLUDE)) {
    const target = match[1];
    parts.push(source.slice(last, match.index));
    last = match.index + match[0].length;
    if (chain.includes(target)) {
      throw new Error(`kernel ${name}: #include cycle ${[...chain, target].join(" → ")}`);
    }
    if (included.has(target)) continue;
    included.add(target);
    // The #include line keeps its own line break.
    const text = await expandIncludes(target, await load(target), load, included, [...chain, target]);
    parts.push(text.replace(/\n$/, ""));
  }
  parts.push(source.slice(last));
  return parts.join("");
}

/**
 * The WGSL of `kernels/<name>.wgsl` with its includes expanded.
 *
 * @example
 * ```ts
 * const source = await loadKernelSource("softmax_ce"); // with _softmax_rows.wgsl in place of its #include
 * ```
 */
export async function loadKernelSource(name: string): Promise<string> {
  return await expandIncludes(name, await rawSource(name), rawSource);
}

/**
 * One module from several kernel files in order, each partial included once across all of them.
 *
 * @example
 * ```ts
 * const source = await linkKernelSources(["conv2d_forward", "_gemm_cpu"]);
 * ```
 */
export async function linkKernelSources(names: readonly string[]): Promise<string> {
  const included = new Set<string>();
  const parts: string[] = [];
  for (const name of names) {
    if (included.has(name)) continue;
    included.add(name);
    parts.push(await expandIncludes(name, await rawSource(name), rawSource, included));
  }
  return parts.join("\n");
}
