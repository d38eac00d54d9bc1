/**
 * The offline statistics of manifold guidance (docs/method.md#manifold-guidance): per class, from a frozen
 * predictor's outputs on the training images, the centre (mean), the radius (RMS distance to the centre) and
 * an orthonormal basis U_d of the class's principal subspace (95 % of its variance, or d directions).
 * Computed once — the predictor's forward on the GPU, the small per-class PCA on the CPU — and kept in the
 * run folder.
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import { UserError } from "../errors.ts";
import { type ProgressReporter, SILENT } from "../progress.ts";
import { fitPca, type PcaSize } from "../linalg/pca.ts";
import { readSafetensors, writeSafetensors } from "../io/safetensors.ts";
import { loadCheckpoint } from "../nn/checkpoint.ts";
import { Plan } from "../nn/plan.ts";
import type { ManifoldTargets } from "../ops/manifold_loss.ts";
import { type LabeledBatch, microBatchOf } from "./guided.ts";
import { microBatching } from "../nn/micro_batch.ts";

/**
 * Per-class targets of `points` (`count` rows of `dim` values, row i labelled `labels[i]` < `classes`).
 * `size` picks the basis: `{ variance: v }` keeps the fewest directions explaining more than v of the class's
 * variance (sklearn's rule), `{ k: d }` keeps d (at most the class's rank, count − 1).
 *
 * @example
 * ```ts
 * // 2-D outputs of 4 images, classes 0, 0, 1, 1
 * const points = new Float32Array([1, 0, 3, 0, 0, 1, 0, 2]);
 * const targets = manifoldTargets(points, new Uint32Array([0, 0, 1, 1]), 4, 2, 2, { variance: 0.95 });
 * console.log(targets.centres, targets.radii); // [2, 0, 0, 1.5], [1, 0.5]
 * ```
 */
export function manifoldTargets(
  points: Float32Array,
  labels: Uint32Array,
  count: number,
  dim: number,
  classes: number,
  size: PcaSize,
): ManifoldTargets {
  const members: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < count; i++) members[labels[i]].push(i);
  const fits = members.map((rows, c) => {
    if (rows.length < 2) {
      throw new UserError(
        `manifold statistics: class ${c} has ${rows.length} training image(s); each class needs at least 2`,
      );
    }
    const x = new Float64Array(rows.length * dim);
    rows.forEach((row, r) => x.set(points.subarray(row * dim, row * dim + dim), r * dim));
    const rank = Math.min(rows.length - 1, dim);
    const fit = fitPca(x, rows.length, dim, "k" in size ? { k: Math.min(size.k, rank) } : size);
    let squared = 0;
    for (let r = 0; r < rows.length; r++) {
      for (let k = 0; k < dim; k++) squared += (x[r * dim + k] - fit.mean[k]) ** 2;
    }
    return { fit, radius: Math.sqrt(squared / rows.length) };
  });
  const rank = Math.max(...fits.map(({ fit }) => fit.k));
  const basis = new Float32Array(classes * rank * dim);
  fits.forEach(({ fit }, c) => basis.set(fit.components, c * rank * dim));
  return {
    classes,
    dim,
    rank,
    centres: Float32Array.from(fits.flatMap(({ fit }) => [...fit.mean])),
    radii: Float32Array.from(fits, ({ radius }) => radius),
    basis,
    dims: Int32Array.from(fits, ({ fit }) => fit.k),
  };
}

/**
 * Runs the predictor checkpoint at `path` (eval-mode BatchNorm) over `batches` and returns its outputs and
 * the labels of the real rows.
 */
export async function predictorOutputs(
  gpu: Gpu,
  path: string,
  { imageSize, batch, steps, batches, progress = SILENT }: {
    imageSize: number;
    batch: number;
    steps: number;
    batches: AsyncIterable<LabeledBatch>;
    progress?: ProgressReporter;
  },
): Promise<{ points: Float32Array; labels: Uint32Array; count: number; dim: number }> {
  const checkpoint = await loadCheckpoint(path);
  // Global average pooling makes the predictor size-agnostic; it runs at the classifier's image size.
  const config = { ...checkpoint.config, imageSize, neuralDim: 0 };
  const micro = microBatching([config], batch, gpu.bindingLimit);
  const plan = await Plan.create(gpu, config, micro.size, { paramGrads: false });
  plan.loadStateDict(checkpoint.weights, path);
  const dim = config.classes;
  const points: Float32Array[] = [], labels: number[] = [];
  const bar = progress.stage("predictor outputs", steps, { unit: "batches" });
  for await (const full of batches) {
    for (let index = 0; index * micro.size < full.count; index++) {
      const b = microBatchOf(full, index, micro.size);
      plan.setInput(b.images);
      gpu.submit(plan.forward("eval"));
      points.push((await plan.read(plan.model.logits)).slice(0, b.count * dim));
      labels.push(...b.labels.subarray(0, b.count));
    }
    bar.tick(1);
  }
  bar.done();
  const all = new Float32Array(labels.length * dim);
  let offset = 0;
  for (const p of points) {
    all.set(p, offset);
    offset += p.length;
  }
  return { points: all, labels: Uint32Array.from(labels), count: labels.length, dim };
}

/** Writes the targets as safetensors (atomically), with `metadata` (e.g. the predictor and the basis rule). */
export async function saveManifoldTargets(
  path: string,
  t: ManifoldTargets,
  metadata: Record<string, string>,
): Promise<void> {
  await writeSafetensors(path, {
    centres: { shape: [t.classes, t.dim], data: t.centres },
    radii: { shape: [t.classes], data: t.radii },
    basis: { shape: [t.classes, t.rank, t.dim], data: t.basis },
    dims: { shape: [t.classes], data: t.dims },
  }, { metadata });
}

/** Reads targets written by {@link saveManifoldTargets}. */
export async function loadManifoldTargets(path: string): Promise<ManifoldTargets> {
  const { tensors } = await readSafetensors(path);
  const get = (name: string) => {
    const tensor = tensors.get(name);
    if (!tensor) throw new UserError(`${path}: no tensor '${name}'; not a manifold statistics file`);
    return tensor;
  };
  const basis = get("basis");
  const [classes, rank, dim] = basis.shape;
  return {
    classes,
    dim,
    rank,
    centres: get("centres").data as Float32Array,
    radii: get("radii").data as Float32Array,
    basis: basis.data as Float32Array,
    dims: get("dims").data as Int32Array,
  };
}
