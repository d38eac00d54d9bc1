/**
 * Classification data for guided training from a `--data` spec (`sim`, `imagefolder:DIR`, `cifar100:DIR`),
 * through the seeded, prefetching {@link BatchLoader}: training batches are shuffled and augmented as pure
 * functions of (seed, epoch, batch), so a resumed run sees exactly the batches an uninterrupted one would,
 * and the next batches are built while the GPU runs the current step.
 * @module
 */
import { UserError } from "../errors.ts";
import { ensureSimWorld } from "../data/synth/mod.ts";
import { BatchLoader, type ImageBatch, openImageSource } from "../data/images/mod.ts";
import { Random } from "../random.ts";
import type { ClassificationData } from "./guided_run.ts";
import { CONTROL_SEED, type LabeledBatch } from "./guided.ts";

/** Options of {@link openClassificationData}. */
export interface DataOptions {
  /** Model input side. */
  size: number;
  seed: number;
  /** Simulated-world folder for `sim` (generated if missing). */
  sim: string;
  /** Class folder names to keep (ImageFolder sources). */
  classesFile?: string;
  /** Also produce the images the predictor sees under the shuffle control. */
  shuffle: boolean;
  /** Smallest crop area fraction of RandomResizedCrop (torchvision: 0.08). */
  cropScale?: number;
  /** Decoding worker threads (0 = this thread). */
  workers?: number;
}

/**
 * Opens `spec`: `sim`, `imagefolder:DIR` (DIR/train and DIR/val) or `cifar100:DIR` (train.bin, test.bin).
 *
 * @example
 * ```ts
 * // The labels of the first training epoch of the simulated world at 32 px.
 * async function firstEpochLabels() {
 *   const data = await openClassificationData("sim", { size: 32, seed: 0, sim: "data/sim", shuffle: false });
 *   for await (const batch of data.train(0, 32)) console.log(batch.labels);
 *   data.close();
 * }
 * ```
 */
export async function openClassificationData(spec: string, o: DataOptions): Promise<ClassificationData> {
  if (spec === "sim") await ensureSimWorld(o.sim);
  const resolved = spec === "sim" ? `sim:${o.sim}` : spec;
  const options = { classesFile: o.classesFile };
  const [train, val] = await Promise.all([
    openImageSource(resolved, "train", options),
    openImageSource(resolved, "val", options),
  ]);
  if (train.classes.join("\n") !== val.classes.join("\n")) {
    throw new UserError(`${spec}: training and validation class folders differ`);
  }
  // one class trains to accuracy 1 without learning anything; empty splits train on nothing
  if (train.classes.length < 2) {
    throw new UserError(
      `${spec}: ${train.classes.length} class folder(s) (${
        train.classes.join(", ") || "none"
      }); a classifier needs at least 2`,
    );
  }
  for (const [split, source] of [["training", train], ["validation", val]] as const) {
    if (source.length === 0) throw new UserError(`${spec}: the ${split} split holds no images`);
  }
  const partners = o.shuffle ? new Random(`${CONTROL_SEED}/shuffle`).permutation(train.length) : undefined;
  const loaders = new Map<string, BatchLoader>();
  const loader = (split: "train" | "val", batch: number) => {
    const key = `${split}/${batch}`;
    let l = loaders.get(key);
    if (!l) {
      l = split === "train"
        ? new BatchLoader(train, {
          transform: { kind: "train", size: o.size, scale: [o.cropScale ?? 0.08, 1] },
          batch,
          seed: o.seed,
          partners,
          workers: o.workers,
        })
        : new BatchLoader(val, { transform: { kind: "val", size: o.size }, batch, workers: o.workers });
      loaders.set(key, l);
    }
    return l;
  };
  return {
    classes: [...train.classes],
    trainSize: train.length,
    source: resolved,
    train: (epoch, batch) => labeled(loader("train", batch).epoch(epoch)),
    val: (batch) => labeled(loader("val", batch).epoch(0)),
    close: () => loaders.forEach((l) => l.close()),
  };
}

async function* labeled(batches: AsyncIterable<ImageBatch>): AsyncIterable<LabeledBatch> {
  for await (const b of batches) {
    yield { images: b.images, labels: b.labels, count: b.count, predictorImages: b.partnerImages };
  }
}
