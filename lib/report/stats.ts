/**
 * The statistics of the report, pure CPU and deterministic in their seed: percentile-bootstrap confidence
 * intervals (Efron & Tibshirani 1993, ch. 13) over attacked images and seeds, the paper code's normalised
 * accuracy, the robustness gain at matched clean accuracy (a guided model placed on the clean → robust curve
 * of a ladder of None checkpoints) and the ROI hierarchy as a Spearman rank correlation with a permutation
 * p-value.
 *
 * Per-image outcomes are the unit: for one model and one seed, `clean[i]` is 1 when image i is classified
 * correctly and `robust[i]` its robust score (1/0 at one ε, or the fraction of the ε grid it survives), so
 * resampling images resamples whole rows, paired across models that saw the same images.
 * @module
 */
import { Random } from "../random.ts";

/** A two-sided interval. */
export interface Interval {
  lo: number;
  hi: number;
}

/** A bootstrap interval and how many of its replicates were usable (finite). */
export interface BootstrapInterval extends Interval {
  reps: number;
  /** Replicates whose statistic was not finite (e.g. a resampled model left the ladder's range). */
  dropped: number;
}

/** Options of {@link bootstrapInterval}. */
export interface BootstrapOptions {
  /** Replicates (default 2000). */
  reps?: number;
  /** Coverage (default 0.95). */
  level?: number;
  /** Seed of the resampling stream (default 0). */
  seed?: number | string;
}

/**
 * The `q`-quantile of ascending `sorted` values, interpolating linearly between order statistics (Hyndman &
 * Fan type 7, numpy's default).
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q, lo = Math.floor(h), hi = Math.ceil(h);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** `n` indices drawn uniformly with replacement from 0…n−1. */
export function resampleIndices(n: number, random: Random): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = random.int(n);
  return out;
}

/**
 * Percentile bootstrap: `statistic` draws one replicate from the stream it is given (resampling images with
 * {@link resampleIndices}, and seeds when there are several); the interval is the replicates' (1 − level)/2
 * and (1 + level)/2 quantiles. Non-finite replicates are dropped and counted.
 *
 * @example
 * ```ts
 * const hits = [1, 0, 1, 1];
 * const ci = bootstrapInterval((r) => mean(Array.from(resampleIndices(4, r), (i) => hits[i])));
 * ```
 */
export function bootstrapInterval(
  statistic: (random: Random) => number,
  { reps = 2000, level = 0.95, seed = 0 }: BootstrapOptions = {},
): BootstrapInterval {
  const root = new Random(`bootstrap:${seed}`);
  const values: number[] = [];
  for (let r = 0; r < reps; r++) {
    const value = statistic(root.fork(r));
    if (Number.isFinite(value)) values.push(value);
  }
  values.sort((a, b) => a - b);
  return {
    lo: quantile(values, (1 - level) / 2),
    hi: quantile(values, (1 + level) / 2),
    reps: values.length,
    dropped: reps - values.length,
  };
}

/** Arithmetic mean (NaN for no values). */
export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return values.length ? sum / values.length : NaN;
}

/**
 * The paper code's `normalize_acc = 1 − |acc − init| / init`: robust accuracy relative to the clean accuracy
 * `init` it starts from (equal to acc / init whenever acc ≤ init); null when `init` is 0.
 */
export function normalizeAcc(acc: number, init: number): number | null {
  return init > 0 ? 1 - Math.abs(acc - init) / init : null;
}

/** One point of a clean → robust curve. */
export interface AccuracyPoint {
  clean: number;
  robust: number;
}

/**
 * Robust accuracy of the ladder's piecewise-linear curve at clean accuracy `clean`. Points are sorted by clean
 * accuracy and points of equal clean accuracy averaged; null outside the ladder's clean-accuracy range (no
 * extrapolation) or for an empty ladder.
 */
export function interpolateRobust(ladder: readonly AccuracyPoint[], clean: number): number | null {
  const sorted = [...ladder].sort((a, b) => a.clean - b.clean);
  const points: AccuracyPoint[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1].clean === sorted[i].clean) j++;
    const tied = sorted.slice(i, j + 1);
    points.push({ clean: sorted[i].clean, robust: mean(tied.map((p) => p.robust)) });
    i = j + 1;
  }
  if (points.length === 0 || clean < points[0].clean || clean > points.at(-1)!.clean) return null;
  for (let k = 0; k < points.length - 1; k++) {
    const a = points[k], b = points[k + 1];
    if (clean <= b.clean) return a.robust + (clean - a.clean) / (b.clean - a.clean) * (b.robust - a.robust);
  }
  return points[0].robust; // a one-point ladder, hit exactly
}

/** Gain in robust accuracy over the None ladder at the model's clean accuracy (null outside its range). */
export function matchedGain(ladder: readonly AccuracyPoint[], model: AccuracyPoint): number | null {
  const base = interpolateRobust(ladder, model.clean);
  return base === null ? null : model.robust - base;
}

/** Per-image outcomes of one model and seed (see the module docs). */
export interface Outcomes {
  clean: ArrayLike<number>;
  robust: ArrayLike<number>;
}

/** Clean and robust accuracy over `rows` of each seed's outcomes, averaged over `seeds` (indices). */
export function accuracyOver(
  runs: readonly Outcomes[],
  seeds: ArrayLike<number>,
  rows: ArrayLike<number>,
): AccuracyPoint {
  let clean = 0, robust = 0;
  for (let s = 0; s < seeds.length; s++) {
    const run = runs[seeds[s]];
    for (let i = 0; i < rows.length; i++) {
      clean += run.clean[rows[i]];
      robust += run.robust[rows[i]];
    }
  }
  const n = seeds.length * rows.length;
  return { clean: clean / n, robust: robust / n };
}

/** A model's runs (one per seed) and the None ladder's (per seed, one {@link Outcomes} per checkpoint). */
export interface MatchedInput {
  model: readonly Outcomes[];
  /** ladder[seed][checkpoint]; every seed has the same checkpoints. */
  ladder: readonly (readonly Outcomes[])[];
}

/** The ladder's curve over `rows` of the given None seeds (checkpoint k averaged over those seeds). */
function ladderCurve(
  ladder: MatchedInput["ladder"],
  seeds: ArrayLike<number>,
  rows: ArrayLike<number>,
): AccuracyPoint[] {
  return ladder[0].map((_, k) => accuracyOver(ladder.map((perSeed) => perSeed[k]), seeds, rows));
}

/** Every index once: the point estimate's "resample". */
function identity(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => i);
}

/** The matched-accuracy gain and its bootstrap interval (images resampled; seeds too when several). */
export interface MatchedGain {
  model: AccuracyPoint;
  /** The None curve's robust accuracy at the model's clean accuracy. */
  baseline: number | null;
  gain: number | null;
  ci: BootstrapInterval | null;
}

/**
 * The gain at matched clean accuracy with a percentile-bootstrap CI: each replicate resamples the images
 * (shared by the model and the ladder: the same images were attacked) and, independently, the model's seeds
 * and the None seeds. All runs must hold the same number of images.
 */
export function matchedGainWithInterval(input: MatchedInput, options: BootstrapOptions = {}): MatchedGain {
  const n = input.model[0].clean.length;
  const runs = [...input.model, ...input.ladder.flat()];
  if (runs.some((r) => r.clean.length !== n || r.robust.length !== n)) {
    throw new Error("matchedGainWithInterval: every run must hold the same images");
  }
  const estimate = matchedAt(input, identity(input.model.length), identity(input.ladder.length), identity(n));
  if (estimate.baseline === null) return { ...estimate, gain: null, ci: null };
  const ci = bootstrapInterval((random) => {
    const rows = resampleIndices(n, random);
    return matchedReplicate(input, rows, random) ?? NaN;
  }, options);
  return { ...estimate, gain: estimate.model.robust - estimate.baseline, ci };
}

/** The model's accuracies and the ladder's robust accuracy at its clean accuracy, over the given resample. */
export function matchedAt(
  input: MatchedInput,
  modelSeeds: ArrayLike<number>,
  noneSeeds: ArrayLike<number>,
  rows: ArrayLike<number>,
): { model: AccuracyPoint; baseline: number | null } {
  const model = accuracyOver(input.model, modelSeeds, rows);
  return { model, baseline: interpolateRobust(ladderCurve(input.ladder, noneSeeds, rows), model.clean) };
}

/**
 * One bootstrap replicate of the matched gain over the resampled images `rows`: the model's seeds and the None
 * seeds are resampled from `random`; null when the model falls outside the resampled ladder.
 */
export function matchedReplicate(
  input: MatchedInput,
  rows: ArrayLike<number>,
  random: Random,
): number | null {
  const modelSeeds = resampleIndices(input.model.length, random);
  const noneSeeds = resampleIndices(input.ladder.length, random);
  const { model, baseline } = matchedAt(input, modelSeeds, noneSeeds, rows);
  return baseline === null ? null : model.robust - baseline;
}

/** Mid-ranks (1-based; ties share their mean rank). */
export function ranks(values: ArrayLike<number>): number[] {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const out = new Array<number>(values.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++;
    for (let k = i; k <= j; k++) out[order[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

/** Pearson correlation (NaN when either side is constant). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const mx = mean(x), my = mean(y);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** Spearman's ρ: the Pearson correlation of the mid-ranks. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(ranks(x), ranks(y));
}

/** Largest n whose n! permutations {@link permutationP} enumerates exactly (8! = 40 320). */
export const EXACT_PERMUTATION_MAX = 8;

/**
 * Two-sided permutation p-value of Spearman's ρ between `x` and `y`: the fraction of orderings of `y` whose
 * |ρ| reaches the observed |ρ|. Every ordering is enumerated up to {@link EXACT_PERMUTATION_MAX} points;
 * beyond, `draws` random orderings (seeded) plus the observed one, (1 + hits)/(1 + draws).
 */
export function permutationP(
  x: readonly number[],
  y: readonly number[],
  { draws = 20000, seed = 0 }: { draws?: number; seed?: number | string } = {},
): number {
  const observed = Math.abs(spearman(x, y));
  if (!Number.isFinite(observed)) return NaN;
  // a float tolerance, so orderings tied with the observed one count as reaching it
  const reaches = (perm: readonly number[]) => Math.abs(spearman(x, perm)) >= observed - 1e-12;
  if (y.length <= EXACT_PERMUTATION_MAX) {
    let hits = 0, total = 0;
    for (const perm of permutations(y)) {
      total++;
      if (reaches(perm)) hits++;
    }
    return hits / total;
  }
  const random = new Random(`permutation:${seed}`);
  let hits = 0;
  for (let d = 0; d < draws; d++) if (reaches(random.shuffle([...y]))) hits++;
  return (1 + hits) / (1 + draws);
}

/** Every ordering of `items` (Heap's algorithm), as fresh arrays. */
function* permutations(items: readonly number[]): Generator<number[]> {
  const a = [...items], c = new Array<number>(a.length).fill(0);
  yield [...a];
  for (let i = 1; i < a.length;) {
    if (c[i] < i) {
      const j = i % 2 ? c[i] : 0;
      [a[j], a[i]] = [a[i], a[j]];
      yield [...a];
      c[i]++;
      i = 1;
    } else {
      c[i] = 0;
      i++;
    }
  }
}

/** The hierarchy trend: ρ of ROI position vs gain, its permutation p and bootstrap interval. */
export interface HierarchyTrend {
  /** ROIs that entered, in hierarchy order. */
  rois: string[];
  rho: number;
  p: number;
  ci: BootstrapInterval | null;
}

/**
 * Spearman ρ of hierarchy position (0, 1, …) against the gain of each ROI, with its permutation p-value and a
 * bootstrap CI whose replicates come from `replicate` (one resampled gain per ROI, null for a gain that
 * could not be formed); null with fewer than 3 ROIs.
 */
export function hierarchyCorrelation(
  rois: readonly string[],
  gains: readonly number[],
  replicate: ((random: Random) => (number | null)[]) | null,
  options: BootstrapOptions = {},
): HierarchyTrend | null {
  if (rois.length < 3) return null;
  const position = rois.map((_, i) => i);
  const rho = spearman(position, gains);
  const ci = replicate && bootstrapInterval((random) => {
    const g = replicate(random);
    return g.some((v) => v === null) ? NaN : spearman(position, g as number[]);
  }, options);
  return { rois: [...rois], rho, p: permutationP(position, [...gains], { seed: options.seed }), ci };
}
