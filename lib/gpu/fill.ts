/** Buffer fill: clears gradient accumulators and sets constants on the GPU. @module */
import type { Dispatch, Gpu } from "./device.ts";
import { grid1d } from "./grid.ts";

/** A dispatch that sets the first `count` floats of `buffer` to `value`. */
export async function fill(gpu: Gpu, buffer: GPUBuffer, count: number, value = 0): Promise<Dispatch> {
  const pipeline = await gpu.pipeline({ file: "fill", entry: "main" });
  return gpu.bind(pipeline, [buffer, gpu.uniform([count, { f32: value }])], grid1d(count));
}
