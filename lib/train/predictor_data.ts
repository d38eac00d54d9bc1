/**
 * Data of the neural predictor: a prepared ROI file (`deno task nsd-prep`) and the NSD stimuli of its image
 * ids, held as uint8 at the model size and batched into float32 on the fly.
 * @module
 */
import { getDataset, readSlice, withH5 } from "../data/nsd/hdf5.ts";
import { NsdFormatError } from "../data/nsd/errors.ts";
import { readStimuli } from "../data/nsd/stimuli.ts";
import { shufflePairing } from "../data/nsd/prep.ts";
import { Random } from "../random.ts";
import type { TargetBatch } from "./predictor.ts";

/** What the predictor reads from a prepared ROI file. */
export interface PreparedTargets {
  roi: string;
  subject: number;
  k: number;
  trainIds: Int32Array;
  valIds: Int32Array;
  /** Row-major scores [n, k]. */
  train: Float32Array;
  val: Float32Array;
}

/** Reads the ids and scores of a prepared ROI file, validating names and shapes. */
export async function readPreparedTargets(path: string): Promise<PreparedTargets> {
  return await withH5(path, undefined, (f) => {
    const ids = (name: string) => {
      const { ds, shape } = getDataset(f, name, { shape: [null] });
      return Int32Array.from(readSlice(ds, shape, [[0, shape[0]]], path));
    };
    const trainIds = ids("train_ids"), valIds = ids("val_ids");
    const scores = (name: string, rows: number) => {
      const { ds, shape } = getDataset(f, name, { dtype: "<f", shape: [rows, null] });
      return {
        data: readSlice(ds, shape, [[0, shape[0]], [0, shape[1]]], path) as Float32Array,
        k: shape[1],
      };
    };
    const train = scores("train", trainIds.length), val = scores("val", valIds.length);
    if (train.k !== val.k) throw new NsdFormatError(path, `train has ${train.k} columns but val ${val.k}`);
    const attr = (name: string) => f.attrs[name]?.value;
    return {
      roi: String(attr("roi") ?? "unknown"),
      subject: Number(attr("subject") ?? 1),
      k: train.k,
      trainIds,
      valIds,
      train: train.data,
      val: val.data,
    };
  });
}

/** Images (uint8 NCHW at `size`) paired with target rows. */
export class TargetSplit {
  constructor(
    readonly images: Uint8Array,
    readonly targets: Float32Array,
    readonly k: number,
    readonly size: number,
  ) {}

  get length(): number {
    return this.targets.length / this.k;
  }

  /** Batches of `batch` rows: shuffled by (seed, epoch) and whole when `train`, in order and zero-padded otherwise. */
  async *batches(
    batch: number,
    options: { train: boolean; seed?: number; epoch?: number },
  ): AsyncIterable<TargetBatch> {
    const n = this.length, pixels = 3 * this.size * this.size;
    const order = options.train
      ? new Random(`${options.seed}/predictor/${options.epoch}`).permutation(n)
      : null;
    const count = options.train ? Math.floor(n / batch) * batch : n;
    for (let start = 0; start < count; start += batch) {
      const rows = Math.min(batch, count - start);
      const images = new Float32Array(batch * pixels);
      const targets = new Float32Array(batch * this.k);
      for (let r = 0; r < rows; r++) {
        const i = order ? order[start + r] : start + r;
        for (let p = 0; p < pixels; p++) images[r * pixels + p] = this.images[i * pixels + p] / 255;
        targets.set(this.targets.subarray(i * this.k, (i + 1) * this.k), r * this.k);
      }
      yield { images, targets, count: rows };
    }
  }
}

/**
 * Loads both splits: stimuli by id from the subject's stimulus file (`stimuliFor(subject)`), resized to
 * `size`. `shuffleSeed` breaks the pairing.
 */
export async function loadPredictorData(
  preparedPath: string,
  stimuliFor: (subject: number) => string,
  size: number,
  shuffleSeed?: number,
): Promise<{ prepared: PreparedTargets; train: TargetSplit; val: TargetSplit }> {
  const prepared = await readPreparedTargets(preparedPath);
  const ids = shuffleSeed === undefined
    ? prepared
    : shufflePairing(prepared.trainIds, prepared.valIds, shuffleSeed);
  const load = async (idList: Int32Array) =>
    (await readStimuli(stimuliFor(prepared.subject), idList, { size, dtype: "uint8" })).data as Uint8Array;
  return {
    prepared,
    train: new TargetSplit(await load(ids.trainIds), prepared.train, prepared.k, size),
    val: new TargetSplit(await load(ids.valIds), prepared.val, prepared.k, size),
  };
}
