/**
 * Model-side analyses: features read from a model's forward plan, output-surface smoothness
 * (docs/method.md#smoothness), loss/logit landscapes, and model decisions on a cue-conflict folder for
 * {@link shapeBias}. Every forward and backward pass reuses the fixed-batch {@link Plan} and the attack
 * machinery; the CPU only pads, pools reads and averages.
 * @module
 */
import type { AttackOps } from "../attacks/ops.ts";
import { pgd } from "../attacks/pgd.ts";
import type { Plan } from "../nn/plan.ts";
import { Random } from "../random.ts";
import type { CueConflictTrial } from "./shape_bias.ts";

/** A named [rows, cols] float32 feature table (rows = stimuli). */
export interface FeatureTable {
  /** Stimuli. */
  rows: number;
  /** Features per stimulus. */
  cols: number;
  /** Row-major values, rows × cols. */
  data: Float32Array;
}

/** Copies rows [start, start + take) of `images` into a full fixed batch, zero-padding the rest. */
function padded(images: Float32Array, dim: number, batch: number, start: number, take: number): Float32Array {
  const out = new Float32Array(batch * dim);
  out.set(images.subarray(start * dim, (start + take) * dim));
  return out;
}

/**
 * Runs the plan (eval mode) over `count` images and returns `avgpool` (the pooled penultimate features),
 * `logits` and, when the model has one, `neural_head`, each [count, width]; with `stages`, also each ResNet
 * stage's output averaged over space as `layer1`… ([count, channels]).
 *
 * @example
 * ```ts
 * import type { Plan } from "../nn/mod.ts";
 * // The logits of `count` images (NCHW in [0, 1]) for a model loaded into `plan` (`plan.loadStateDict`).
 * async function logitsOf(plan: Plan, images: Float32Array, count: number): Promise<Float32Array> {
 *   const tables = await modelFeatures(plan, images, count);
 *   return tables.get("logits")!.data;
 * }
 * ```
 */
export async function modelFeatures(
  plan: Plan,
  images: Float32Array,
  count: number,
  options: { stages?: boolean } = {},
): Promise<Map<string, FeatureTable>> {
  const { model, batch } = plan;
  const [, c, h, w] = model.graph.input.shape, dim = c * h * w;
  const nodes = new Map([["avgpool", model.features], ["logits", model.logits]]);
  if (model.neural) nodes.set("neural_head", model.neural);
  if (options.stages) { for (const [name, node] of model.stages) nodes.set(name, node); }
  const tables = new Map<string, FeatureTable>();
  for (const [name, node] of nodes) {
    tables.set(name, { rows: count, cols: node.shape[1], data: new Float32Array(count * node.shape[1]) });
  }
  for (let start = 0; start < count; start += batch) {
    const take = Math.min(batch, count - start);
    plan.setInput(padded(images, dim, batch, start, take));
    plan.gpu.submit(plan.forward("eval"));
    for (const [name, node] of nodes) {
      const table = tables.get(name)!;
      const values = await plan.read(node);
      // Rank-2 nodes are copied; stage maps [N, C, H, W] are averaged over H·W (global average pooling).
      const area = node.shape.slice(2).reduce((a, b) => a * b, 1);
      for (let r = 0; r < take * table.cols; r++) {
        let sum = 0;
        for (let k = 0; k < area; k++) sum += values[r * area + k];
        table.data[start * table.cols + r] = sum / area;
      }
    }
  }
  return tables;
}

/** Smoothness at one ε (pixel units). */
export interface SmoothnessPoint {
  /** The attack's ε in pixel units. */
  eps: number;
  /** Mean over the set of ‖∇ₓCE‖₂² × 2 × 200 at the PGD point (the reference's display scale). */
  value: number;
}

/**
 * Output-surface smoothness (docs/method.md#smoothness): at each ε, L∞ PGD with rel_stepsize 0.01 (40 steps,
 * random start; ε = 0 means the clean point), then g = ∇ₓCE of each example at the clipped adversarial point;
 * value = mean ‖g‖₂² × 2 × 200. The gradient is per example (the CE of that example alone), so the value does
 * not depend on the batch size.
 *
 * @example
 * ```ts
 * import { AttackOps, createAttackModel } from "../attacks/mod.ts";
 * import type { Gpu } from "../gpu/mod.ts";
 * import type { ModelConfig } from "../nn/mod.ts";
 * // Smoothness of a trained model at two ε (pixel units) on `count` images with their labels.
 * async function smoothnessOf(
 *   gpu: Gpu, config: ModelConfig, weights: Map<string, Float32Array>,
 *   images: Float32Array, labels: Uint32Array, count: number,
 * ) {
 *   const ops = await AttackOps.create(await createAttackModel(gpu, config, weights, 16));
 *   return await smoothness(ops, images, labels, count, [0.02, 0.04]); // [{ eps, value }, …]
 * }
 * ```
 */
export async function smoothness(
  ops: AttackOps,
  images: Float32Array,
  labels: Uint32Array,
  count: number,
  eps: readonly number[],
  seed = 0,
): Promise<SmoothnessPoint[]> {
  const { model, gpu, batch, dim } = ops;
  const attack = pgd({ norm: "linf", relStep: 0.01 });
  const random = new Random(seed);
  const sums = new Float64Array(eps.length);
  const norms = ops.rows("smoothness.norms");
  for (let start = 0; start < count; start += batch) {
    const take = Math.min(batch, count - start);
    const rowLabels = new Uint32Array(batch);
    rowLabels.set(labels.subarray(start, start + take));
    ops.setBatch(padded(images, dim, batch, start, take), rowLabels, take);
    for (const [k, e] of eps.entries()) {
      if (e > 0) await attack.run(ops, e, random);
      else gpu.submit([ops.copy(model.input, ops.x0)]);
      gpu.submit([...ops.gradient("ce"), ops.norm(model.inputGrad, 2, norms)]);
      const rows = await gpu.readF32(norms, batch);
      for (let i = 0; i < take; i++) sums[k] += rows[i] * rows[i];
    }
  }
  return eps.map((e, k) => ({ eps: e, value: (sums[k] / count) * 2 * 200 }));
}

/** Direction pairs of {@link landscape}. */
export const LANDSCAPE_DIRECTIONS = ["adv-rand", "rand-rand"] as const;
/** One of {@link LANDSCAPE_DIRECTIONS}. */
export type LandscapeDirections = typeof LANDSCAPE_DIRECTIONS[number];

/** One input's landscape: `loss[i][j]` and `margin[i][j]` at x + a[i]·d₁ + b[j]·d₂ (clipped to the box). */
export interface LandscapeGrid {
  /** The input's position in the data. */
  index: number;
  /** Its true label (the CE's target). */
  label: number;
  /** The grid's a (rows) and b (columns) values, the same on both axes. */
  coordinates: number[];
  /** Cross-entropy of the true label. */
  loss: number[][];
  /** True-class logit minus the largest other logit. */
  margin: number[][];
}

/**
 * 2-D loss and margin landscapes around each of the first `count` inputs. Directions are sign vectors (unit
 * L∞ norm, so `span` is in pixel units like ε): d₁ = sign(∇ₓCE) at the clean point (`adv-rand`) or a random
 * ±1 vector (`rand-rand`), d₂ a random ±1 vector. Grid points run through the model's fixed batch.
 *
 * @example
 * ```ts
 * import type { AttackOps } from "../attacks/mod.ts";
 * // Loss landscapes of the first 4 images on an 11 × 11 grid; `ops` as for {@link smoothness}.
 * async function landscapesOf(ops: AttackOps, images: Float32Array, labels: Uint32Array) {
 *   const grids = await landscape(ops, images, labels, 4, { grid: 11, span: 0.1 });
 *   return grids[0].loss[5][5]; // the first image's clean loss (the grid's centre)
 * }
 * ```
 */
export async function landscape(
  ops: AttackOps,
  images: Float32Array,
  labels: Uint32Array,
  count: number,
  options: { grid: number; span: number; directions?: LandscapeDirections; seed?: number },
): Promise<LandscapeGrid[]> {
  const { model, gpu, batch, dim, box } = ops;
  const { grid, span } = options;
  const random = new Random(options.seed ?? 0);
  // Rounded to 12 digits so that plot axes read 0.05, not 0.05000000000000002.
  const coordinates = Array.from(
    { length: grid },
    (_, i) => grid === 1 ? 0 : Number((-span + (2 * span * i) / (grid - 1)).toPrecision(12)),
  );
  const sign = () => Float32Array.from({ length: dim }, () => (random.uniform(0, 1) < 0.5 ? -1 : 1));
  const out: LandscapeGrid[] = [];
  for (let n = 0; n < count; n++) {
    const x = images.subarray(n * dim, (n + 1) * dim), label = labels[n];
    const rowLabels = new Uint32Array(batch).fill(label);
    let d1: Float32Array;
    if (options.directions === "rand-rand") d1 = sign();
    else {
      ops.setBatch(padded(images, dim, batch, n, 1), rowLabels, 1);
      gpu.submit([ops.copy(model.input, ops.x0), ...ops.gradient("ce")]);
      // A zero gradient component keeps sign 0: that pixel does not move along d₁.
      d1 = (await gpu.readF32(model.inputGrad, dim)).map(Math.sign);
    }
    const d2 = sign();
    const loss: number[][] = coordinates.map(() => []), margin: number[][] = coordinates.map(() => []);
    const points = grid * grid;
    for (let start = 0; start < points; start += batch) {
      const take = Math.min(batch, points - start);
      const pixels = new Float32Array(batch * dim);
      for (let p = 0; p < take; p++) {
        const a = coordinates[Math.floor((start + p) / grid)], b = coordinates[(start + p) % grid];
        for (let i = 0; i < dim; i++) {
          pixels[p * dim + i] = Math.min(box.hi, Math.max(box.lo, x[i] + a * d1[i] + b * d2[i]));
        }
      }
      ops.setBatch(pixels, rowLabels, take);
      gpu.submit([ops.copy(model.input, ops.x0), ...ops.evaluate("ce")]);
      const losses = await gpu.readF32(ops.lossValues, batch);
      const logits = await gpu.readF32(model.logits, batch * model.classes);
      for (let p = 0; p < take; p++) {
        const row = logits.subarray(p * model.classes, (p + 1) * model.classes);
        const other = Math.max(...row.filter((_, k) => k !== label));
        const i = Math.floor((start + p) / grid);
        loss[i].push(losses[p]);
        margin[i].push(row[label] - other);
      }
    }
    out.push({ index: n, label, coordinates, loss, margin });
  }
  return out;
}

/**
 * Turns a model's logits on cue-conflict files into {@link shapeBias} trials: the decision is the arg-max
 * class name among `classes` (the model's outputs, in order), the shape is `classes[labels[r]]` (the image's
 * folder as a model class index).
 *
 * @example
 * ```ts
 * import { shapeBias } from "./shape_bias.ts";
 * // Shape bias of a model's logits on cue-conflict files (`classes[i]` names logit i).
 * function shapeBiasOf(files: string[], logits: FeatureTable, classes: string[], labels: Uint32Array) {
 *   return shapeBias(cueConflictTrials(files, logits, classes, labels), classes).shapeBias;
 * }
 * ```
 */
export function cueConflictTrials(
  files: readonly string[],
  logits: FeatureTable,
  classes: readonly string[],
  labels: Uint32Array,
): CueConflictTrial[] {
  return files.map((file, r) => {
    const row = logits.data.subarray(r * logits.cols, (r + 1) * logits.cols);
    let best = 0;
    for (let k = 1; k < row.length; k++) if (row[k] > row[best]) best = k;
    return { file: file.split("/").pop()!, decision: classes[best], shape: classes[labels[r]] };
  });
}
