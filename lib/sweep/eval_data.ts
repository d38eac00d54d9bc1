/**
 * The sweep's evaluation set: the simulated world's validation split, with the validation transform at the
 * model size, as the `images` + `labels` safetensors file `deno task attack --data` reads (the attack task
 * has no `sim-val` source yet). Rows are interleaved class by class, because `deno task attack --n N` takes
 * the first N and the folder order is sorted by class: without this a small N would attack two classes.
 * @module
 */
import { BatchLoader, openImageSource } from "../data/images/mod.ts";
import { writeSafetensors } from "../io/safetensors.ts";
import { exists } from "./run_job.ts";

/**
 * Writes `file` (float32 images N×3×size×size in [0, 1], int64 labels) unless it exists; returns N.
 *
 * @example
 * ```ts
 * // The sweep's evaluation images (the simulated world's validation split at 32 px), written once.
 * async function evalData(out: string) {
 *   await writeEvalData("data/sim", 32, `${out}/data/eval.safetensors`);
 * }
 * ```
 */
export async function writeEvalData(sim: string, size: number, file: string): Promise<number | null> {
  if (await exists(file)) return null;
  const source = await openImageSource(`sim:${sim}`, "val");
  using loader = new BatchLoader(source, {
    transform: { kind: "val", size },
    batch: source.length,
    shuffle: false,
    workers: 0,
  });
  for await (const batch of loader.epoch(0)) {
    const order = interleaveClasses(batch.labels.subarray(0, batch.count));
    const pixels = 3 * size * size;
    const images = new Float32Array(order.length * pixels);
    order.forEach((row, i) =>
      images.set(batch.images.subarray(row * pixels, (row + 1) * pixels), i * pixels)
    );
    await writeSafetensors(file, {
      images: { shape: [order.length, 3, size, size], data: images },
      labels: { shape: [order.length], data: BigInt64Array.from(order, (row) => BigInt(batch.labels[row])) },
    }, { metadata: { source: `sim:${sim} val`, transform: `val ${size}px`, order: "classes interleaved" } });
    return batch.count;
  }
  throw new Error(`${sim}: the validation split is empty`);
}

/** Row order taking one image of each class in turn (each class in its original order). */
export function interleaveClasses(labels: ArrayLike<number>): number[] {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    if (!byClass.has(labels[i])) byClass.set(labels[i], []);
    byClass.get(labels[i])!.push(i);
  }
  const queues = [...byClass].sort((a, b) => a[0] - b[0]).map(([, rows]) => rows);
  const order: number[] = [];
  for (let k = 0; order.length < labels.length; k++) {
    for (const rows of queues) if (k < rows.length) order.push(rows[k]);
  }
  return order;
}
