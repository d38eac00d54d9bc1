/**
 * A whole evaluation split in memory: the validation transform (Resize + CenterCrop) at the model size, in
 * file order — what attacks and analyses score.
 * @module
 */
import { BatchLoader } from "./loader.ts";
import { openImageSource, type SpecOptions } from "./spec.ts";

/** Images NCHW float32 in [0, 1] with their labels and class names. */
export interface EvalSet {
  images: Float32Array;
  labels: Uint32Array;
  count: number;
  classes: readonly string[];
}

/**
 * The first `limit` images (default all) of the validation split of `spec` (`sim[:DIR]`, `imagefolder:DIR`,
 * `cifar100:DIR`) at `size`×`size`.
 *
 * @example
 * ```ts
 * // 200 validation images of the simulated world at 32 px, with labels.
 * async function simVal() {
 *   return await loadEvalSet("sim:data/sim", 32, 200);
 * }
 * ```
 */
export async function loadEvalSet(
  spec: string,
  size: number,
  limit?: number,
  options: SpecOptions = {},
): Promise<EvalSet> {
  const source = await openImageSource(spec, "val", options);
  const count = Math.min(source.length, limit ?? source.length);
  const pixels = 3 * size * size;
  const images = new Float32Array(count * pixels), labels = new Uint32Array(count);
  using loader = new BatchLoader(source, {
    transform: { kind: "val", size },
    batch: 64,
    shuffle: false,
    workers: 0,
  });
  let at = 0;
  for await (const batch of loader.epoch(0)) {
    const take = Math.min(batch.count, count - at);
    images.set(batch.images.subarray(0, take * pixels), at * pixels);
    labels.set(batch.labels.subarray(0, take), at);
    at += take;
    if (at === count) break;
  }
  return { images, labels, count, classes: source.classes };
}
