// resvg-wasm: SVG → PNG in WebAssembly (no native addon, no per-platform packages); see lib/plot/png.ts.
export { initWasm, Resvg } from "npm:@resvg/resvg-wasm@2.6.2";
/** URL of the package's WebAssembly module, which {@link initWasm} needs as bytes. */
export const RESVG_WASM_URL: string = import.meta.resolve("npm:@resvg/resvg-wasm@2.6.2/index_bg.wasm");
