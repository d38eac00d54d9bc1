/**
 * The WebGPU layer: the device wrapper every op and model runs on ({@link getGpu} → {@link Gpu}: pipelines
 * cached by kernel file, entry and constants; uniform blocks; bind groups recorded once as {@link Dispatch}es
 * and submitted in one compute pass; readback), kernel source loading, the 1-D grid helper for more than
 * 65 535 workgroups, a buffer fill, and per-dispatch timing with `timestamp-query`.
 *
 * The programming model is described in `docs/CONVENTIONS.md`; adapter notes in `docs/platform.md`.
 * `lib/gpu/expr.ts` (generated elementwise WGSL) is internal to the ops.
 *
 * @example Fill a buffer on the GPU and read it back
 * ```ts
 * import { fill, getGpu } from "./mod.ts";
 * const gpu = await getGpu();
 * const buffer = gpu.buffer(4 * 4);
 * gpu.submit([await fill(gpu, buffer, 4, 2.5)]);
 * console.log(await gpu.readF32(buffer, 4)); // Float32Array [2.5, 2.5, 2.5, 2.5]
 * ```
 * @module
 */
export {
  type AdapterKind,
  type Dispatch,
  getGpu,
  Gpu,
  GpuError,
  type KernelSpec,
  type SubmitEncoder,
  type UniformField,
} from "./device.ts";
export { loadKernelSource } from "./shader.ts";
export { grid1d } from "./grid.ts";
export { fill } from "./fill.ts";
export { type DispatchTiming, profileDispatches } from "./profile.ts";
