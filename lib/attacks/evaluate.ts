/**
 * Robustness evaluation: sweeps ε upwards for each attack, attacking only points still robust and carrying
 * fooled points forward (so robust accuracy is monotone by construction, as AutoAttack's worst-case-per-point
 * bookkeeping), and scores every candidate itself: a point counts as fooled only if the model misclassifies
 * the returned image **and** ‖x_adv − x‖ ≤ ε and x_adv lies in the box (violations are counted and reported).
 * Robust accuracy is over all N points, points misclassified when clean included (they count as fooled).
 * @module
 */
import { type ProgressReporter, SILENT } from "../progress.ts";
import { Random } from "../random.ts";
import type { Attack } from "./attack.ts";
import type { AttackOps, Norm } from "./ops.ts";
import { pgd } from "./pgd.ts";
import type { AttackUnit } from "./registry.ts";

/** Labelled images in the box, NCHW float32, `dim` = C·H·W values each. */
export interface Dataset {
  readonly images: Float32Array;
  readonly labels: Uint32Array;
  readonly count: number;
  readonly dim: number;
}

/** A model adversarial examples are transferred to (`transfer` mode). */
export interface TransferTarget {
  readonly name: string;
  readonly ops: AttackOps;
}

/** Options of {@link sweep}. */
export interface SweepOptions {
  /** ε in pixel units, ascending. */
  readonly eps: readonly number[];
  /** The same ε in the user's units, for the report. */
  readonly epsReported?: readonly number[];
  readonly seed?: number;
  /** Where the bar over attacks × ε goes (default: nowhere). */
  readonly progress?: ProgressReporter;
  /** Score each ε's adversarial images on these models too. */
  readonly transfer?: readonly TransferTarget[];
}

/** One attack at one ε. */
export interface SweepRow {
  readonly attack: string;
  readonly norm: Norm;
  readonly eps: number;
  readonly eps_pixel: number;
  readonly n: number;
  readonly clean_accuracy: number;
  readonly robust_accuracy: number;
  /** Points attacked at this ε (clean-correct and not fooled at a smaller ε). */
  readonly attacked: number;
  /** Largest and median ‖x_adv − x‖ (threat-model norm) over the points fooled so far; null if none. */
  readonly max_norm: number | null;
  readonly median_norm: number | null;
  /** Mean model evaluations (gradient steps or queries) per attacked point at this ε. */
  readonly evaluations: number;
  readonly seconds: number;
  /** Returned candidates outside the ε-ball or the box (never counted as fooled; should be 0). */
  readonly out_of_bounds: number;
  /** Points first fooled at this ε by each component (ensembles). */
  readonly by_component: Record<string, number>;
  /** Accuracy of each transfer target on this row's adversarial images. */
  readonly transfer?: Record<string, number>;
  /**
   * Per point, in data order: "1" where it is still classified correctly at this ε, "0" where it is fooled or
   * wrong when clean. Bootstrap intervals resample these, and the sanity checks compare attacks on
   * these paired outcomes with an exact McNemar test instead of a bare difference of accuracies.
   */
  readonly robust_points: string;
}

/** 0/1 flags as a compact string of "0" and "1" characters (one per point). */
export function bitString(flags: ArrayLike<number>): string {
  let out = "";
  for (let i = 0; i < flags.length; i++) out += flags[i] ? "1" : "0";
  return out;
}

/** Results of attacking some points with one attack at one ε. */
interface PointResult {
  readonly index: number;
  readonly fooled: boolean;
  readonly norm: number;
  readonly outOfBounds: boolean;
  readonly evaluations: number;
  readonly adv: Float32Array;
}

/** ‖a − b‖_p over `dim` values from `offset` of each (float64). */
export function perturbationNorm(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  aOffset: number,
  bOffset: number,
  dim: number,
  norm: Norm,
): number {
  let acc = 0;
  for (let i = 0; i < dim; i++) {
    const d = Math.abs(a[aOffset + i] - b[bOffset + i]);
    acc = norm === "linf" ? Math.max(acc, d) : acc + d * d;
  }
  return norm === "linf" ? acc : Math.sqrt(acc);
}

/**
 * The reference's bound ε(1 + 1e-6), plus one float32 rounding of a box-sized value per coordinate: the GPU
 * forms x0 + δ in float32, which can land up to half an ulp of |x| outside an exactly projected ball.
 */
export function normBound(eps: number, norm: Norm, dim: number, box: { lo: number; hi: number }): number {
  const ulp = 2 ** -23 * Math.max(Math.abs(box.lo), Math.abs(box.hi), 1);
  return eps * (1 + 1e-6) + (norm === "linf" ? ulp : ulp * Math.sqrt(dim));
}

/** Foolbox's clipping of a minimal attack's result to ε: L∞ clip, L2 rescale by min(1, ε/‖δ‖); then the box. */
export function clipToBall(
  adv: Float32Array,
  clean: Float32Array,
  cleanOffset: number,
  norm: Norm,
  eps: number,
  box: { lo: number; hi: number },
): Float32Array {
  const dim = adv.length;
  const size = perturbationNorm(adv, clean, 0, cleanOffset, dim, norm);
  const factor = Math.min(1, eps / Math.max(size, 1e-12));
  return Float32Array.from(adv, (v, i) => {
    const x = clean[cleanOffset + i], d = v - x;
    const clipped = norm === "linf" ? Math.min(eps, Math.max(-eps, d)) : d * factor;
    return Math.min(box.hi, Math.max(box.lo, x + clipped));
  });
}

function argmaxRows(logits: Float32Array, classes: number, rows: number): Uint32Array {
  const out = new Uint32Array(rows);
  for (let r = 0; r < rows; r++) {
    let arg = 0;
    for (let k = 1; k < classes; k++) if (logits[r * classes + k] > logits[r * classes + arg]) arg = k;
    out[r] = arg;
  }
  return out;
}

/** Copies `indices` (padded with the first one up to the batch size) into one batch. */
function pack(
  data: Dataset,
  indices: readonly number[],
  batch: number,
): { images: Float32Array; labels: Uint32Array } {
  const images = new Float32Array(batch * data.dim), labels = new Uint32Array(batch);
  for (let r = 0; r < batch; r++) {
    const index = indices[Math.min(r, indices.length - 1)];
    images.set(data.images.subarray(index * data.dim, (index + 1) * data.dim), r * data.dim);
    labels[r] = data.labels[index];
  }
  return { images, labels };
}

/** Predicted classes of the images in `buffer` (the first `batch` rows) and, optionally, those images. */
async function classify(ops: AttackOps, buffer: GPUBuffer, readImages: boolean) {
  const { gpu, model } = ops;
  gpu.submit([...(buffer === model.input ? [] : [ops.copy(model.input, buffer)]), ...model.forward()]);
  const logits = await gpu.readF32(model.logits, ops.batch * model.classes);
  const images = readImages ? await gpu.readF32(model.input, ops.batch * ops.dim) : undefined;
  return { predictions: argmaxRows(logits, model.classes, ops.batch), images };
}

/** Predictions of a model on host images (`count` × dim values), batch by batch. */
export async function predict(ops: AttackOps, images: Float32Array, count: number): Promise<Uint32Array> {
  const out = new Uint32Array(count), input = ops.model.input;
  for (let start = 0; start < count; start += ops.batch) {
    const rows = Math.min(ops.batch, count - start);
    const chunk = new Float32Array(ops.batch * ops.dim);
    chunk.set(images.subarray(start * ops.dim, (start + rows) * ops.dim));
    ops.gpu.write(input, chunk);
    const { predictions } = await classify(ops, input, false);
    out.set(predictions.subarray(0, rows), start);
  }
  return out;
}

/** 1 where the model classifies the clean point correctly. */
export async function cleanCorrect(ops: AttackOps, data: Dataset): Promise<Uint8Array> {
  const predictions = await predict(ops, data.images, data.count);
  return Uint8Array.from(predictions, (p, i) => p === data.labels[i] ? 1 : 0);
}

/**
 * Runs `attack` at `eps` on the given points, batch by batch, and scores each returned image. Minimal
 * attacks are run once per point (results kept in `cache`) and clipped or filtered to `eps`.
 */
async function attackPoints(
  ops: AttackOps,
  data: Dataset,
  attack: Attack,
  indices: readonly number[],
  eps: number,
  random: Random,
  cache: Map<number, { adv: Float32Array; evaluations: number }>,
  onBatch?: (points: number) => void,
): Promise<PointResult[]> {
  const results: PointResult[] = [];
  const bound = normBound(eps, attack.norm, data.dim, ops.box);
  const score = (index: number, adv: Float32Array, prediction: number, evaluations: number) => {
    const norm = perturbationNorm(adv, data.images, 0, index * data.dim, data.dim, attack.norm);
    const outOfBounds = norm > bound || adv.some((v) => !(v >= ops.box.lo && v <= ops.box.hi));
    const fooled = prediction !== data.labels[index] && !outOfBounds;
    results.push({ index, fooled, norm, outOfBounds, evaluations, adv });
  };
  for (let start = 0; start < indices.length; start += ops.batch) {
    const chunk = indices.slice(start, start + ops.batch);
    if (attack.minimal) {
      const missing = chunk.filter((i) => !cache.has(i));
      if (missing.length > 0) {
        const packed = pack(data, missing, ops.batch);
        ops.setBatch(packed.images, packed.labels, missing.length);
        const out = await attack.run(ops, Infinity, random);
        const { images } = await classify(ops, out.adv, true);
        missing.forEach((index, r) => {
          const evaluations = typeof out.evaluations === "number" ? out.evaluations : out.evaluations[r];
          cache.set(index, { adv: images!.slice(r * data.dim, (r + 1) * data.dim), evaluations });
        });
      }
      const clipped = chunk.map((i) => {
        const raw = cache.get(i)!.adv, clean = data.images.subarray(i * data.dim, (i + 1) * data.dim);
        if (attack.minimal === "clip") {
          return clipToBall(raw, data.images, i * data.dim, attack.norm, eps, ops.box);
        }
        // filter: a result outside the ball is no adversarial at this ε (the clean image stands in)
        return perturbationNorm(raw, clean, 0, 0, data.dim, attack.norm) <= bound ? raw : clean.slice();
      });
      const batch = new Float32Array(ops.batch * data.dim);
      clipped.forEach((adv, r) => batch.set(adv, r * data.dim));
      ops.gpu.write(ops.model.input, batch);
      const { predictions } = await classify(ops, ops.model.input, false);
      chunk.forEach((index, r) =>
        score(index, clipped[r], predictions[r], missing.includes(index) ? cache.get(index)!.evaluations : 0)
      );
    } else {
      const { images, labels } = pack(data, chunk, ops.batch);
      ops.setBatch(images, labels, chunk.length);
      const out = await attack.run(ops, eps, random);
      const scored = await classify(ops, out.adv, true);
      chunk.forEach((index, r) => {
        const evaluations = typeof out.evaluations === "number" ? out.evaluations : out.evaluations[r];
        score(
          index,
          scored.images!.slice(r * data.dim, (r + 1) * data.dim),
          scored.predictions[r],
          evaluations,
        );
      });
    }
    onBatch?.(chunk.length);
  }
  return results;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b), mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Evaluates one attack over an ε grid with carry-forward (see the module docs).
 *
 * @example
 * ```ts
 * import { attackUnit } from "./registry.ts";
 * import type { AttackOps } from "./ops.ts";
 * // PGD robust accuracy at two ε of a 10-class model; `data` holds images in [0, 1] and labels.
 * async function pgdCurve(ops: AttackOps, data: Dataset) {
 *   const correct = await cleanCorrect(ops, data);
 *   const rows = await sweep(ops, data, correct, attackUnit("pgd", "linf", 10), { eps: [0.001, 0.003] });
 *   return rows.map((r) => [r.eps, r.robust_accuracy]);
 * }
 * ```
 */
export async function sweep(
  ops: AttackOps,
  data: Dataset,
  correct: Uint8Array,
  unit: AttackUnit,
  options: SweepOptions,
): Promise<SweepRow[]> {
  const random = new Random(options.seed ?? 0);
  const n = data.count;
  const clean = correct.reduce((a, b) => a + b, 0);
  const fooled = new Uint8Array(n), norms = new Float64Array(n);
  // For transfer: the image each point ends at (its adversarial if fooled, else the latest attempt).
  const latest = options.transfer?.length ? data.images.slice() : undefined;
  const caches = unit.components.map(() => new Map<number, { adv: Float32Array; evaluations: number }>());
  // Counted in attacked points (each ε × component attacks the clean-correct points not yet fooled; the
  // fooled ones, carried over, count as done), so the bar moves with every GPU batch and the ETA is real.
  const progress = (options.progress ?? SILENT).stage(
    unit.name,
    options.eps.length * unit.components.length * clean,
    { unit: "points" },
  );
  const rows: SweepRow[] = [];
  for (const [e, eps] of options.eps.entries()) {
    const started = performance.now();
    let attacked = 0, evaluations = 0, outOfBounds = 0;
    const byComponent: Record<string, number> = {};
    for (const [c, attack] of unit.components.entries()) {
      const todo = [...correct.keys()].filter((i) => correct[i] && !fooled[i]);
      if (c === 0) attacked = todo.length;
      let newly = 0;
      const note = `ε=${eps.toPrecision(3)} ${attack.name}`;
      progress.tick(clean - todo.length, note);
      if (todo.length > 0) {
        const tick = (points: number) => progress.tick(points, note);
        for (const result of await attackPoints(ops, data, attack, todo, eps, random, caches[c], tick)) {
          evaluations += result.evaluations;
          if (result.outOfBounds) outOfBounds++;
          if (result.fooled) {
            fooled[result.index] = 1;
            norms[result.index] = result.norm;
            newly++;
          }
          if (latest && (result.fooled || !fooled[result.index])) {
            latest.set(result.adv, result.index * data.dim);
          }
        }
      }
      byComponent[attack.name] = newly;
    }
    const fooledNorms = [...fooled.keys()].filter((i) => fooled[i]).map((i) => norms[i]);
    const robust = clean - fooledNorms.length;
    let transfer: Record<string, number> | undefined;
    if (latest && options.transfer) {
      transfer = {};
      for (const target of options.transfer) {
        const predictions = await predict(target.ops, latest, n);
        transfer[target.name] = predictions.reduce((a, p, i) => a + (p === data.labels[i] ? 1 : 0), 0) / n;
      }
    }
    rows.push({
      attack: unit.name,
      norm: unit.norm,
      eps: options.epsReported?.[e] ?? eps,
      eps_pixel: eps,
      n,
      clean_accuracy: clean / n,
      robust_accuracy: robust / n,
      attacked,
      max_norm: fooledNorms.length ? Math.max(...fooledNorms) : null,
      median_norm: median(fooledNorms),
      evaluations: attacked ? evaluations / attacked : 0,
      seconds: (performance.now() - started) / 1000,
      out_of_bounds: outOfBounds,
      by_component: byComponent,
      ...(transfer ? { transfer } : {}),
      robust_points: bitString(Array.from(correct, (c, i) => c && !fooled[i] ? 1 : 0)),
    });
  }
  progress.done();
  return rows;
}

/** What the masking probes measured (robust accuracy over the probe points, clean-correct ones only). */
export interface ProbeResult {
  readonly points: number;
  readonly eps: number;
  readonly steps: number;
  /** PGD at the grid's largest ε with its default steps and with twice as many. */
  readonly robust: number;
  readonly robustDoubled: number;
  /** PGD at a very large ε (L∞ 0.5 of the box; L2 0.5·√d). */
  readonly largeEps: number;
  readonly robustLarge: number;
  /** The grid's smallest positive ε, attacked afresh (no carry-over), when it is below `eps`. */
  readonly smallEps: number | null;
  /** Points PGD fooled at `smallEps` but not at `eps` without carry-over (should be none). */
  readonly lostAtLargerEps: number;
  /**
   * Discordant points of PGD with default vs doubled steps at `eps`: fooled only with doubled steps, and fooled
   * only with the default steps (absent in reports written before they were recorded).
   */
  readonly doubledOnly?: number;
  readonly defaultOnly?: number;
  /**
   * Per transfer target, over the probe points at `eps`: its accuracy on PGD adversarials crafted on this
   * model, and under white-box PGD on itself (transfer should not be the stronger).
   */
  readonly transfer: { target: string; transferAccuracy: number; whiteBoxAccuracy: number }[];
}

/** Options of {@link probe}. */
export interface ProbeOptions {
  readonly norm: Norm;
  /** The grid's largest ε (pixel units). */
  readonly eps: number;
  /** The grid's smallest positive ε, for the monotonicity probe (null: skip it). */
  readonly smallEps: number | null;
  /** Clean-correct points to probe (the first ones). */
  readonly points: number;
  readonly seed?: number;
  readonly transfer?: readonly TransferTarget[];
}

/**
 * The Carlini et al. (2019) probes that need extra attack runs, on the first `points` clean-correct points:
 * more steps should change little, a very large ε should leave almost nothing robust, without carry-over a
 * point fooled at a small ε should stay fooled at the largest, and transfer should not beat white-box.
 */
export async function probe(
  ops: AttackOps,
  data: Dataset,
  correct: Uint8Array,
  options: ProbeOptions,
): Promise<ProbeResult | null> {
  const { norm, eps, points, seed = 0 } = options;
  const indices = [...correct.keys()].filter((i) => correct[i]).slice(0, points);
  if (indices.length === 0) return null;
  const base = pgd({ norm });
  const steps = norm === "linf" ? 40 : 50;
  const run = (target: AttackOps, attack: Attack, radius: number, subset = indices) =>
    attackPoints(target, data, attack, subset, radius, new Random(seed), new Map());
  const fooledBy = async (attack: Attack, radius: number) =>
    new Set((await run(ops, attack, radius)).filter((r) => r.fooled).map((r) => r.index));
  const robust = (fooled: Set<number>) => 1 - fooled.size / indices.length;
  const range = ops.box.hi - ops.box.lo;
  const largeEps = norm === "linf" ? 0.5 * range : 0.5 * range * Math.sqrt(data.dim);
  const small = options.smallEps !== null && options.smallEps < eps ? options.smallEps : null;
  const sourceRun = await run(ops, base, eps);
  const atEps = new Set(sourceRun.filter((r) => r.fooled).map((r) => r.index));
  const atSmall = small === null ? new Set<number>() : await fooledBy(base, small);
  const transfer: ProbeResult["transfer"] = [];
  for (const target of options.transfer ?? []) {
    const adversarial = new Float32Array(indices.length * data.dim), clean = adversarial.slice();
    sourceRun.forEach((r, k) => {
      adversarial.set(r.adv, k * data.dim);
      clean.set(data.images.subarray(r.index * data.dim, (r.index + 1) * data.dim), k * data.dim);
    });
    const right = (predictions: Uint32Array) =>
      indices.filter((index, k) => predictions[k] === data.labels[index]);
    const transferred = right(await predict(target.ops, adversarial, indices.length)).length;
    const cleanRight = right(await predict(target.ops, clean, indices.length));
    const whiteFooled = (await run(target.ops, base, eps, cleanRight)).filter((r) => r.fooled).length;
    transfer.push({
      target: target.name,
      transferAccuracy: transferred / indices.length,
      whiteBoxAccuracy: (cleanRight.length - whiteFooled) / indices.length,
    });
  }
  const atEpsDoubled = await fooledBy(pgd({ norm, steps: 2 * steps }), eps);
  return {
    points: indices.length,
    eps,
    steps,
    robust: robust(atEps),
    robustDoubled: robust(atEpsDoubled),
    doubledOnly: [...atEpsDoubled].filter((i) => !atEps.has(i)).length,
    defaultOnly: [...atEps].filter((i) => !atEpsDoubled.has(i)).length,
    largeEps,
    robustLarge: robust(await fooledBy(base, largeEps)),
    smallEps: small,
    lostAtLargerEps: [...atSmall].filter((i) => !atEps.has(i)).length,
    transfer,
  };
}
