/**
 * Reads back the targets of a prepared ROI file (`writePreparedRoi`, `deno task nsd-prep`): image ids and PCA
 * scores of both splits, with names and shapes validated.
 * @module
 */
import { getDataset, readSlice, withH5 } from "./hdf5.ts";
import { NsdFormatError } from "./errors.ts";

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
  /** Mean per-voxel noise ceiling in % (the file's `noise_ceiling_mean`; null when not recorded). */
  noiseCeilingMean: number | null;
}

/** What to do about a damaged or foreign prepared file (it is ours, made by `deno task nsd-prep`). */
export const PREPARED_FIX = "make it (again) with deno task nsd-prep";

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
    if (train.k !== val.k) {
      throw new NsdFormatError(path, `train has ${train.k} columns but val ${val.k}; ${PREPARED_FIX}`);
    }
    const attr = (name: string) => f.attrs[name]?.value;
    return {
      roi: String(attr("roi") ?? "unknown"),
      subject: Number(attr("subject") ?? 1),
      k: train.k,
      trainIds,
      valIds,
      train: train.data,
      val: val.data,
      noiseCeilingMean: finiteOrNull(attr("noise_ceiling_mean")),
    };
  }, PREPARED_FIX);
}

/** An attribute as a finite number, or null when absent or not numeric. */
function finiteOrNull(value: unknown): number | null {
  const n = typeof value === "number" || typeof value === "bigint" ? Number(value) : NaN;
  return Number.isFinite(n) ? n : null;
}
