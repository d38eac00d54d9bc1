/**
 * Reading feature matrices for the analyses from files: named tensors in safetensors files (model
 * features, e.g. one tensor per layer) and the `val` dataset of prepared-ROI HDF5 files (`nsd-prep` output).
 *
 * A source is written `FILE[:NAME]`: NAME picks one tensor (safetensors) or dataset (HDF5, default `val`).
 * Without NAME a safetensors file yields every tensor of rank ≥ 2. Tensors of rank > 2 are flattened to
 * [first dimension, product of the rest] (e.g. N × C × H × W feature maps).
 * @module
 */
import { UserError } from "../errors.ts";
import { getDataset, readSlice, withH5 } from "../data/nsd/hdf5.ts";
import { PREPARED_FIX } from "../data/nsd/prepared.ts";
import { readSafetensors } from "../io/safetensors.ts";
import { type Matrix, matrix } from "./matrix.ts";

/** A feature matrix read from a file, with the name it is reported under. */
export interface NamedMatrix {
  /** `stem:tensor` for safetensors, `stem` (or `stem:dataset`) for HDF5. */
  name: string;
  /** Where it came from: `FILE:NAME`. */
  source: string;
  /** The stored shape before flattening. */
  shape: number[];
  matrix: Matrix;
}

const HDF5 = /\.(h5|hdf5)$/i;

/** Splits `FILE[:NAME]` (a colon inside the file part, e.g. a Windows drive, is kept when no name follows). */
function splitSource(spec: string): { file: string; name?: string } {
  const match = spec.match(/^(.*\.(?:safetensors|h5|hdf5)):([^/\\]+)$/i);
  return match ? { file: match[1], name: match[2] } : { file: spec };
}

function stem(file: string): string {
  return (file.split(/[\\/]/).pop() ?? file).replace(/\.(safetensors|h5|hdf5)$/i, "");
}

/**
 * Reads the feature matrices named by `spec` (see the module docs). Errors are one line naming the file.
 *
 * @example
 * ```ts
 * // A model's avgpool features and the V1 validation betas, for RSA or CKA.
 * async function inputs(featuresFile: string, preparedRoi: string) {
 *   const [avgpool] = await readFeatures(`${featuresFile}:avgpool`);
 *   const [v1] = await readFeatures(preparedRoi); // its `val` dataset
 *   return { avgpool, v1 };
 * }
 * ```
 */
export async function readFeatures(spec: string): Promise<NamedMatrix[]> {
  const { file, name } = splitSource(spec);
  if (HDF5.test(file)) {
    const dataset = name ?? "val";
    const { data, shape } = await withH5(file, undefined, (h5) => {
      const { ds, shape } = getDataset(h5, dataset);
      if (shape.length < 2) {
        throw new UserError(`${file}: dataset '${dataset}' has shape [${shape}], expected 2-D`);
      }
      return { data: readSlice(ds, shape, shape.map((n) => [0, n] as [number, number]), file), shape };
    }, PREPARED_FIX);
    return [
      named(`${stem(file)}${name ? `:${name}` : ""}`, `${file}:${dataset}`, shape, Float32Array.from(data)),
    ];
  }
  if (!(await Deno.stat(file).catch(() => null))) {
    throw new UserError(`${file}: no such file (make it with deno task analyze features --out ${file})`);
  }
  const { tensors } = await readSafetensors(file);
  const picked = name ? [name] : [...tensors.keys()].filter((key) => tensors.get(key)!.shape.length >= 2);
  if (picked.length === 0) {
    throw new UserError(`${file}: no tensor of rank ≥ 2 (stimuli × features) in the file`);
  }
  return picked.map((key) => {
    const tensor = tensors.get(key);
    if (!tensor) {
      throw new UserError(`${file}: no tensor '${key}' (the file holds: ${[...tensors.keys()].join(", ")})`);
    }
    if (!(tensor.data instanceof Float32Array) || tensor.shape.length < 2) {
      throw new UserError(
        `${file}: tensor '${key}' is ${tensor.dtype} [${tensor.shape}], expected a float tensor of rank ≥ 2`,
      );
    }
    return named(`${stem(file)}:${key}`, `${file}:${key}`, [...tensor.shape], tensor.data);
  });
}

function named(name: string, source: string, shape: number[], data: Float32Array): NamedMatrix {
  const rows = shape[0], cols = shape.slice(1).reduce((a, b) => a * b, 1);
  try {
    return { name, source, shape, matrix: matrix(rows, cols, data, source) };
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

/**
 * Reads integer class labels from `FILE:TENSOR` (a safetensors integer or integral float tensor with one
 * value per stimulus) or from a JSON array file.
 *
 * @example
 * ```ts
 * // The labels `deno task analyze features` stored beside the features.
 * async function labelsOf(featuresFile: string) {
 *   return await readLabels(`${featuresFile}:labels`);
 * }
 * ```
 */
export async function readLabels(spec: string): Promise<Int32Array> {
  if (/\.json$/i.test(spec)) {
    let values: unknown;
    try {
      values = JSON.parse(await Deno.readTextFile(spec));
    } catch (e) {
      throw new UserError(`${spec}: cannot read a JSON array of labels (${(e as Error).message})`);
    }
    if (!Array.isArray(values) || !values.every(Number.isInteger)) {
      throw new UserError(`${spec}: expected a JSON array of integer labels`);
    }
    return Int32Array.from(values as number[]);
  }
  const { file, name } = splitSource(spec);
  if (!name) throw new UserError(`${spec}: name the labels tensor as FILE.safetensors:TENSOR`);
  const tensor = (await readSafetensors(file)).tensors.get(name);
  if (!tensor) throw new UserError(`${file}: no tensor '${name}'`);
  const values = Array.from(tensor.data as ArrayLike<number | bigint>, Number);
  if (values.length !== tensor.shape[0] || !values.every(Number.isInteger)) {
    throw new UserError(`${file}: tensor '${name}' [${tensor.shape}] is not one integer label per stimulus`);
  }
  return Int32Array.from(values);
}
