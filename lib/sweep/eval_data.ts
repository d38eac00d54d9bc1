/**
 * The sweep's evaluation set: the simulated world's validation split, with the validation transform at the
 * model size, as the `images` + `labels` safetensors file `deno task attack --data` reads (the attack task
 * has no `sim-val` source yet).
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
 * await writeEvalData("data/sim", 32, "runs/sweep/data/eval.safetensors");
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
    await writeSafetensors(file, {
      images: {
        shape: [batch.count, 3, size, size],
        data: batch.images.subarray(0, batch.count * 3 * size * size),
      },
      labels: {
        shape: [batch.count],
        data: BigInt64Array.from(batch.labels.subarray(0, batch.count), BigInt),
      },
    }, { metadata: { source: `sim:${sim} val`, transform: `val ${size}px` } });
    return batch.count;
  }
  throw new Error(`${sim}: the validation split is empty`);
}
