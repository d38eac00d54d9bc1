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
  /** Mean per-voxel noise ceiling of the ROI in % (the file's `noise_ceiling_mean`; NaN when absent). */
  noiseCeilingMean: number;
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
      noiseCeilingMean: Number(attr("noise_ceiling_mean") ?? NaN),
    };
  });
}
