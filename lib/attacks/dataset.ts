/**
 * The labelled images an attack or a model analysis runs on, read from an image-folder spec or a safetensors
 * file at the model's input size and checked against the model.
 * @module
 */
import { UsageError, UserError } from "../errors.ts";
import { readSafetensors, type Tensor } from "../io/safetensors.ts";
import { loadEvalSet } from "../data/images/eval_set.ts";
import type { Dataset } from "./evaluate.ts";

/** What {@link loadDataset} checks the data against. */
export interface DatasetModel {
  /** N×C×H×W. */
  readonly inputShape: readonly [number, number, number, number];
  readonly classes: number;
}

/**
 * Loads `spec` — `sim-val`, `sim:DIR`, `imagefolder:DIR`, `cifar100:DIR` (validation split, resized to the
 * model) or a safetensors file with `images` (uint8 or float in [0, 1], N×C×H×W) and integer `labels` — keeping
 * the first `limit` points. Errors start with `spec`.
 *
 * @example
 * ```ts
 * import type { Dataset } from "./evaluate.ts";
 * // The first 64 validation images of the simulated world (data/sim) for a 10-class, 32-px model.
 * async function simVal(): Promise<Dataset> {
 *   return await loadDataset("sim-val", { inputShape: [32, 3, 32, 32], classes: 10 }, 64);
 * }
 * ```
 */
export async function loadDataset(
  spec: string,
  model: DatasetModel,
  limit: number | undefined,
): Promise<Dataset> {
  if (spec === "sim-val" || /^(sim|imagefolder|cifar100):/.test(spec)) {
    const [, c, h] = model.inputShape;
    if (c !== 3) throw new UserError(`${spec}: image folders are RGB; the model takes ${c} channels`);
    const set = await loadEvalSet(spec === "sim-val" ? "sim" : spec, h, limit);
    if (set.count === 0) throw new UserError(`${spec}: the validation split holds no images`);
    const bad = set.labels.findIndex((v) => v >= model.classes);
    if (bad >= 0) {
      throw new UserError(`${spec}: ${set.classes.length} classes, but the model has ${model.classes}`);
    }
    return { images: set.images, labels: set.labels, count: set.count, dim: c * h * h };
  }
  let file;
  try {
    file = await readSafetensors(spec);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UsageError(`${spec}: no such file`);
    throw e;
  }
  const images = file.tensors.get("images"), labels = file.tensors.get("labels");
  if (!images || !labels) throw new UserError(`${spec}: needs tensors 'images' and 'labels'`);
  const [, c, h, w] = model.inputShape;
  const [n, ...chw] = images.shape;
  if (images.shape.length !== 4 || chw[0] !== c || chw[1] !== h || chw[2] !== w) {
    throw new UserError(
      `${spec}: images are [${images.shape}], the model takes N×${c}×${h}×${w} (check the model or the data)`,
    );
  }
  if (labels.shape.length !== 1 || labels.shape[0] !== n) {
    throw new UserError(`${spec}: labels are [${labels.shape}], expected [${n}]`);
  }
  if (n === 0) throw new UserError(`${spec}: holds no images (N = 0)`);
  const count = Math.min(n, limit ?? n), dim = c * h * w;
  let pixels: Float32Array;
  if (images.dtype === "U8") {
    pixels = Float32Array.from(images.data.subarray(0, count * dim) as Uint8Array, (v) => v / 255);
  } else if (images.data instanceof Float32Array) pixels = images.data.slice(0, count * dim);
  else throw new UserError(`${spec}: images must be uint8 or float, not ${images.dtype}`);
  if (pixels.some((v) => !(v >= 0 && v <= 1))) {
    throw new UserError(`${spec}: float images must lie in [0, 1] (found values outside)`);
  }
  const classes = integerLabels(labels, spec).slice(0, count);
  const bad = classes.findIndex((v) => v >= model.classes);
  if (bad >= 0) {
    throw new UserError(
      `${spec}: label ${classes[bad]} at index ${bad} is outside the model's ${model.classes} classes`,
    );
  }
  return { images: pixels, labels: classes, count, dim };
}

function integerLabels(tensor: Tensor, file: string): Uint32Array {
  const { data } = tensor;
  if (data instanceof Float32Array) {
    throw new UserError(`${file}: 'labels' must be integer, not ${tensor.dtype}`);
  }
  const values = Array.from(data as ArrayLike<number | bigint>, Number);
  const negative = values.findIndex((v) => v < 0);
  if (negative >= 0) {
    throw new UserError(`${file}: label ${values[negative]} at index ${negative} is negative`);
  }
  return Uint32Array.from(values);
}
