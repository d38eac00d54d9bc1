/**
 * The neural predictor's data (`docs/method.md#neural-predictor`): NSD stimuli by 73k id (read with
 * lib/data/nsd's `readStimuli`, Pillow-bilinear to the model size, once, into shared memory) paired with the
 * PCA-score rows of a prepared ROI file (`deno task nsd-prep`: `train_ids`, `val_ids`, `train`, `val`). No
 * augmentation. Batches come from {@link BatchLoader}s, so shuffling, resume, prefetch and workers behave as
 * for images.
 *
 * Shuffle control: `nsd-prep --shuffle-seed S` already permutes the ids in the file and records `shuffle_seed`;
 * that is honoured as is. A seed given here is applied only to an unshuffled file (asking for a different
 * seed than the file's is an error rather than a silent double permutation).
 * @module
 */
import { UserError } from "../../errors.ts";
import { withH5 } from "../nsd/hdf5.ts";
import { shufflePairing } from "../nsd/prep.ts";
import { readStimuli } from "../nsd/stimuli.ts";
import { PREPARED_FIX, type PreparedTargets, readPreparedTargets } from "../nsd/prepared.ts";
import type { ImageBatch } from "./batch.ts";
import { ImageArray, sharedBytes } from "./image_array.ts";
import { BatchLoader } from "./loader.ts";

/** Images with their target rows. */
export interface TargetBatch {
  /** `[rows, 3, size, size]` in [0, 1]; rows ≥ `count` are zero. */
  images: Float32Array;
  /** `[rows, k]` PCA scores; rows ≥ `count` are zero. */
  targets: Float32Array;
  /** `[count]` 73k ids (0-based) of the images. */
  ids: Int32Array;
  count: number;
}

/** Options of {@link PredictorDataset.open}. */
export interface PredictorDatasetOptions {
  /** Model input side (227 in the paper). */
  size?: number;
  /** Training batch (200 in the paper); whole batches only, reshuffled each epoch. */
  batch: number;
  /** Validation batch (100 in the paper); the last one is zero-padded. Default `batch`. */
  valBatch?: number;
  /** Seeds the training order. Default 0. */
  seed?: number | string;
  /** Shuffled-pairing seed for a file that has none. */
  shuffleSeed?: number;
  /** Loader workers per split (see {@link BatchLoader}). */
  workers?: number;
  /** Images per `readStimuli` call while loading (bounds the transient memory). Default 256. */
  chunk?: number;
}

/**
 * Both splits of a prepared ROI with their stimuli. Call {@link PredictorDataset.close} when done.
 *
 * @example
 * ```ts
 * import { nsdPaths } from "../nsd/paths.ts";
 * // One training epoch of the V1 predictor's data (prepared by `deno task nsd-prep`).
 * async function firstEpoch(nsdRoot: string) {
 *   const stimuli = nsdPaths(nsdRoot, 1).stimuli;
 *   const data = await PredictorDataset.open("runs/prep/V1.h5", stimuli, { batch: 200, valBatch: 100 });
 *   for await (const b of data.train(0)) {
 *     b.images; // [200, 3, 227, 227]
 *     b.targets; // [200, K]
 *   }
 *   data.close();
 * }
 * ```
 */
export class PredictorDataset {
  private constructor(
    /** The prepared file's contents (ids as stored). */
    readonly prepared: PreparedTargets,
    /** The shuffled-pairing seed in force (from the file or applied here), or null. */
    readonly shuffleSeed: number | null,
    /** The 73k ids whose images pair with the training / validation target rows. */
    readonly trainIds: Int32Array,
    readonly valIds: Int32Array,
    readonly trainLoader: BatchLoader,
    readonly valLoader: BatchLoader,
  ) {}

  /** Reads the prepared file and the stimuli of both splits. */
  static async open(
    preparedPath: string,
    stimuliPath: string,
    options: PredictorDatasetOptions,
  ): Promise<PredictorDataset> {
    const { size = 227, batch, valBatch = batch, seed = 0, workers, chunk = 256 } = options;
    const prepared = await readPreparedTargets(preparedPath);
    const recorded = await withH5(
      preparedPath,
      undefined,
      (f) => f.attrs["shuffle_seed"]?.value,
      PREPARED_FIX,
    );
    let shuffleSeed = recorded === undefined ? null : Number(recorded);
    let ids = { trainIds: prepared.trainIds, valIds: prepared.valIds };
    if (options.shuffleSeed !== undefined) {
      if (shuffleSeed !== null && shuffleSeed !== options.shuffleSeed) {
        throw new UserError(
          `${preparedPath}: already shuffled with seed ${shuffleSeed}; drop the shuffle seed or prepare the ROI again`,
        );
      }
      if (shuffleSeed === null) {
        ids = shufflePairing(prepared.trainIds, prepared.valIds, options.shuffleSeed);
        shuffleSeed = options.shuffleSeed;
      }
    }
    const load = async (list: Int32Array, name: string) => {
      const plane = 3 * size * size, pixels = sharedBytes(list.length * plane);
      for (let start = 0; start < list.length; start += chunk) {
        const part = list.subarray(start, start + chunk);
        const read = await readStimuli(stimuliPath, part, { size, dtype: "uint8" });
        pixels.set(read.data as Uint8Array, start * plane);
      }
      return new ImageArray(name, [], size, size, pixels, new Uint32Array(list.length));
    };
    const transform = { kind: "none", size } as const;
    const train = await load(ids.trainIds, `${stimuliPath} (training ids of ${preparedPath})`);
    const val = await load(ids.valIds, `${stimuliPath} (validation ids of ${preparedPath})`);
    return new PredictorDataset(
      prepared,
      shuffleSeed,
      ids.trainIds,
      ids.valIds,
      new BatchLoader(train, { transform, batch, shuffle: true, dropLast: true, seed, workers }),
      new BatchLoader(val, { transform, batch: valBatch, shuffle: false, dropLast: false, workers }),
    );
  }

  /** PCA components per target row. */
  get k(): number {
    return this.prepared.k;
  }

  /** Shuffled whole training batches of `epoch`, from `startBatch` on. */
  async *train(epoch: number, { startBatch = 0 } = {}): AsyncGenerator<TargetBatch> {
    for await (const b of this.trainLoader.epoch(epoch, { startBatch })) {
      yield this.#pair(b, this.prepared.train, this.trainIds);
    }
  }

  /** Validation batches in order. */
  async *val(): AsyncGenerator<TargetBatch> {
    for await (const b of this.valLoader.epoch(0)) yield this.#pair(b, this.prepared.val, this.valIds);
  }

  /** Stops the loaders' workers. */
  close(): void {
    this.trainLoader.close();
    this.valLoader.close();
  }

  #pair(b: ImageBatch, scores: Float32Array, ids: Int32Array): TargetBatch {
    const k = this.k, targets = new Float32Array((b.labels.length) * k);
    for (let r = 0; r < b.count; r++) {
      const row = b.indices[r];
      targets.set(scores.subarray(row * k, (row + 1) * k), r * k);
    }
    return { images: b.images, targets, ids: Int32Array.from(b.indices, (i) => ids[i]), count: b.count };
  }
}
