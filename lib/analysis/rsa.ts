/**
 * Representational similarity analysis with rsatoolbox's definitions (`docs/attacks-and-analyses.md#rsa`):
 * RDMs from feature matrices, crossnobis RDMs from repeated measurements, RDM comparisons, comparison
 * matrices and classical MDS.
 *
 * RDMs are stored as rsatoolbox stores them: the upper triangle (k = 1) of the n × n dissimilarity matrix,
 * row-major, n(n − 1)/2 values.
 * @module
 */
import { mean } from "../deps/d3_array.ts";
import { symmetricEigen } from "../linalg/eigen.ts";
import { fixSigns } from "../linalg/pca.ts";
import { gram, type GramOptions } from "./gram.ts";
import { centreColumns, type Matrix } from "./matrix.ts";

/** Dissimilarity measures of {@link rdm}. */
export const RDM_METHODS = ["correlation", "euclidean"] as const;
/** A dissimilarity measure: `euclidean` is rsatoolbox's squared distance ÷ channels; `correlation` is 1 − r. */
export type RdmMethod = typeof RDM_METHODS[number];

/** RDM comparison methods of {@link compareRdms} (rsatoolbox names). */
export const COMPARE_METHODS = [
  "spearman",
  "tau-a",
  "rho-a",
  "corr",
  "cosine",
  "cosine_cov",
  "corr_cov",
] as const;
/** An RDM comparison method; see {@link compareRdms}. */
export type CompareMethod = typeof COMPARE_METHODS[number];

/** Number of conditions n of an RDM vector of n(n − 1)/2 entries; throws when the length is not triangular. */
export function rdmSize(length: number): number {
  const n = (1 + Math.sqrt(1 + 8 * length)) / 2;
  if (!Number.isInteger(n) || n < 2) {
    throw new RangeError(`an RDM of ${length} entries is not n(n-1)/2 for n ≥ 2`);
  }
  return n;
}

/**
 * The full symmetric n × n matrix (zero diagonal) of an RDM vector, row-major.
 *
 * @example
 * ```ts
 * squareForm(new Float64Array([1, 2, 3])); // 3 × 3: [0,1,2, 1,0,3, 2,3,0]
 * ```
 */
export function squareForm(vector: ArrayLike<number>): Float64Array {
  const n = rdmSize(vector.length);
  const out = new Float64Array(n * n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, k++) out[i * n + j] = out[j * n + i] = vector[k];
  }
  return out;
}

/** Upper triangle (k = 1, row-major) of the n × n matrix `f(i, j)`. */
function upperTriangle(n: number, f: (i: number, j: number) => number): Float64Array {
  const out = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out[k++] = f(i, j);
  return out;
}

/**
 * The RDM of the rows of `x` (stimuli × channels), as rsatoolbox's `calc_rdm` computes it:
 * - `euclidean`: ‖x_i − x_j‖² / channels (squared, per channel);
 * - `correlation`: 1 − Pearson r of the two rows (each row centred over its channels and L2-normalised).
 *
 * Both go through the Gram matrix (`options.gpu` moves it to the GPU for large inputs). For `euclidean` the
 * columns are centred first: distances do not change, and the Gram entries stay small, which keeps the
 * `G_ii + G_jj − 2G_ij` cancellation harmless in fp32.
 *
 * @example
 * ```ts
 * import { fromRows } from "./matrix.ts";
 * const d = await rdm(fromRows([[1, 2, 3], [2, 0, 1], [0, 1, 4]]), "euclidean"); // [3, 1, 4.6667]
 * ```
 */
export async function rdm(x: Matrix, method: RdmMethod, options: GramOptions = {}): Promise<Float64Array> {
  if (x.rows < 2) throw new RangeError(`rdm: need at least 2 stimuli, got ${x.rows}`);
  const n = x.rows, p = x.cols;
  if (method === "euclidean") {
    const g = await gram(centreColumns(x), options);
    return upperTriangle(n, (i, j) => (g[i * n + i] + g[j * n + j] - 2 * g[i * n + j]) / p);
  }
  const g = await gram(normaliseRows(x), options);
  return upperTriangle(n, (i, j) => 1 - g[i * n + j]);
}

/** Each row centred over its channels and scaled to unit L2 norm (a constant row has no correlation). */
function normaliseRows(x: Matrix): Matrix {
  const { rows, cols } = x;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = x.data.subarray(r * cols, (r + 1) * cols);
    let mean = 0;
    for (let c = 0; c < cols; c++) mean += row[c];
    mean /= cols;
    let norm = 0;
    for (let c = 0; c < cols; c++) norm += (row[c] - mean) ** 2;
    if (!(norm > 0)) throw new RangeError(`rdm(correlation): stimulus ${r} is constant over its channels`);
    const scale = 1 / Math.sqrt(norm);
    for (let c = 0; c < cols; c++) out[r * cols + c] = (row[c] - mean) * scale;
  }
  return { rows, cols, data: out };
}

/** Options for {@link crossnobisRdm}. */
export interface CrossnobisOptions {
  /** Noise precision Λ (channels × channels, row-major); identity when absent. */
  precision?: Float64Array;
}

/**
 * The crossnobis RDM from repeated measurements, as rsatoolbox's `calc_rdm_crossnobis` with one noise
 * precision: for each fold f (leave one out), A = the mean of the other folds and B = fold f, and
 * d_ij = (a_i − a_j)ᵀ Λ (b_i − b_j) / channels; the RDM is the mean over folds. It is unbiased (noise
 * independent across folds cancels in expectation), so it can be negative.
 *
 * `folds[f]` holds the (already averaged) pattern of every condition in fold f, conditions in the same row
 * order in every fold.
 *
 * @example
 * ```ts
 * import { fromRows } from "./matrix.ts";
 * // two independent measurements (folds) of 3 conditions × 2 channels
 * const run1 = fromRows([[1, 0], [0, 1], [1, 1]]);
 * const run2 = fromRows([[1.1, 0], [0, 0.9], [1, 1.2]]);
 * const d = crossnobisRdm([run1, run2]); // [1, 0.6, 0.5]; unbiased, so equal conditions can go negative
 * ```
 */
export function crossnobisRdm(folds: readonly Matrix[], options: CrossnobisOptions = {}): Float64Array {
  if (folds.length < 2) throw new RangeError(`crossnobis: need at least 2 folds, got ${folds.length}`);
  const { rows: n, cols: p } = folds[0];
  if (folds.some((f) => f.rows !== n || f.cols !== p)) {
    throw new RangeError(`crossnobis: folds differ in shape (expected [${n}, ${p}] in every fold)`);
  }
  if (options.precision && options.precision.length !== p * p) {
    throw new RangeError(`crossnobis: precision has ${options.precision.length} values, expected ${p}×${p}`);
  }
  const total = new Float64Array(n * p);
  for (const f of folds) for (let i = 0; i < n * p; i++) total[i] += f.data[i];
  const sum = new Float64Array((n * (n - 1)) / 2);
  const a = new Float64Array(n * p);
  for (const fold of folds) {
    // A = mean of the other folds; B = this fold, optionally whitened: B Λ (Λ is symmetric).
    for (let i = 0; i < n * p; i++) a[i] = (total[i] - fold.data[i]) / (folds.length - 1);
    const b = options.precision ? multiply(fold.data, options.precision, n, p) : fold.data;
    const k = new Float64Array(n * n); // K = A Λ Bᵀ
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let c = 0; c < p; c++) s += a[i * p + c] * b[j * p + c];
        k[i * n + j] = s;
      }
    }
    let idx = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        sum[idx++] += (k[i * n + i] + k[j * n + j] - k[i * n + j] - k[j * n + i]) / p;
      }
    }
  }
  return sum.map((value) => value / folds.length);
}

/** X (n × p) times the symmetric p × p matrix L. */
function multiply(x: ArrayLike<number>, l: Float64Array, n: number, p: number): Float64Array {
  const out = new Float64Array(n * p);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < p; k++) {
      const v = x[r * p + k];
      if (v === 0) continue;
      for (let c = 0; c < p; c++) out[r * p + c] += v * l[k * p + c];
    }
  }
  return out;
}

/**
 * Compares two RDM vectors as rsatoolbox's `compare` does:
 * - `cosine`: a·b / (‖a‖‖b‖) (0 when either is all zero);
 * - `corr`: Pearson r (cosine after subtracting each vector's mean);
 * - `spearman`: Pearson r of the average-tie ranks;
 * - `rho-a`: 12 Σ(r_a − r̄)(r_b − r̄) / (n³ − n) on the ranks (Spearman without tie correction);
 * - `tau-a`: (concordant − discordant) / (n(n − 1)/2), ties counting as neither (O(n log n));
 * - `cosine_cov`: the whitened cosine without pattern covariance, i.e. the Frobenius cosine of the
 *   double-centred matrices G = −½ H D H (H = I − 11ᵀ/n);
 * - `corr_cov`: the same after subtracting each vector's mean.
 *
 * @example
 * ```ts
 * const euclidean = [3, 1, 4.666667, 4.666667, 3.666667, 9.666667];
 * const correlation = [1.5, 0.039231, 1.866025, 1.240192, 1.0, 1.970725];
 * compareRdms(euclidean, correlation, "spearman"); // 0.782691 (rsatoolbox's value)
 * compareRdms(euclidean, correlation, "cosine"); // 0.945429
 * ```
 */
export function compareRdms(a: ArrayLike<number>, b: ArrayLike<number>, method: CompareMethod): number {
  if (a.length !== b.length) throw new RangeError(`compareRdms: RDMs of ${a.length} and ${b.length} entries`);
  if (a.length < 2) throw new RangeError(`compareRdms: need at least 2 entries, got ${a.length}`);
  for (const v of [a, b]) {
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) throw new RangeError(`compareRdms: entry ${i} is ${v[i]} (not finite)`);
    }
  }
  switch (method) {
    case "cosine":
      return cosine(a, b);
    case "corr":
      return cosine(centred(a), centred(b));
    case "spearman":
      return cosine(centred(averageRanks(a)), centred(averageRanks(b)));
    case "rho-a": {
      const n = a.length;
      return (12 * dot(centred(averageRanks(a)), centred(averageRanks(b)))) / (n ** 3 - n);
    }
    case "tau-a":
      return kendallTauA(a, b);
    case "cosine_cov":
      return cosine(doubleCentre(squareForm(a)), doubleCentre(squareForm(b)));
    case "corr_cov":
      return cosine(doubleCentre(squareForm(centred(a))), doubleCentre(squareForm(centred(b))));
    default:
      throw new RangeError(`compareRdms: unknown method '${method}' (one of ${COMPARE_METHODS.join(", ")})`);
  }
}

/**
 * The matrix of {@link compareRdms} between every RDM of `rows` and every RDM of `cols` (model × model when
 * both are the same list, model × ROI otherwise).
 *
 * @example
 * ```ts
 * const modelA = [1, 2, 3], modelB = [3, 2, 1], roiV1 = [1, 2, 4], roiV4 = [2, 1, 3];
 * const m = compareRdmSets([modelA, modelB], [roiV1, roiV4], "spearman"); // m[0][1]: modelA vs V4 = 0.5
 * ```
 */
export function compareRdmSets(
  rows: readonly ArrayLike<number>[],
  cols: readonly ArrayLike<number>[],
  method: CompareMethod,
): number[][] {
  return rows.map((a) => cols.map((b) => compareRdms(a, b, method)));
}

/** Result of {@link classicalMds}. */
export interface MdsResult {
  /** n × dims, row-major: the coordinates of each condition. */
  coordinates: Float64Array;
  dims: number;
  /** The leading eigenvalues of B = −½ H D H (negative ones mean D is not Euclidean). */
  eigenvalues: Float64Array;
}

/**
 * Classical (Torgerson) MDS of an RDM: B = −½ H D H with D the RDM read as **squared** distances (true of
 * rsatoolbox's `euclidean`, of crossnobis, and of `correlation`, which is ½‖u_i − u_j‖² for normalised
 * patterns), then coordinates = top eigenvectors × √max(λ, 0). Each axis' sign makes its largest-|·| entry
 * positive, so results are reproducible.
 *
 * @example
 * ```ts
 * // the 4 corners of a unit square, as squared distances: 1 along the sides, 2 across
 * const d = [1, 2, 1, 1, 2, 1];
 * const { coordinates } = classicalMds(d, 2); // 4 × 2 points of a unit square (up to rotation)
 * ```
 */
export function classicalMds(rdmVector: ArrayLike<number>, dims = 2): MdsResult {
  const n = rdmSize(rdmVector.length);
  if (!Number.isInteger(dims) || dims < 1 || dims > n) {
    throw new RangeError(`classicalMds: dims ${dims} not in 1..${n}`);
  }
  const { values, vectors } = symmetricEigen(doubleCentre(squareForm(rdmVector)), n);
  const axes = vectors.slice(0, dims * n);
  fixSigns(axes, dims, n);
  const coordinates = new Float64Array(n * dims);
  for (let d = 0; d < dims; d++) {
    const scale = Math.sqrt(Math.max(values[d], 0));
    for (let i = 0; i < n; i++) coordinates[i * dims + d] = axes[d * n + i] * scale;
  }
  return { coordinates, dims, eigenvalues: values.slice(0, dims) };
}

/** G = −½ H D H for the n × n matrix D (row-major): the second-moment matrix of a squared-distance matrix. */
function doubleCentre(d: Float64Array): Float64Array {
  const n = Math.sqrt(d.length);
  const rowMean = new Float64Array(n);
  let all = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += d[i * n + j];
    rowMean[i] = s / n;
    all += s;
  }
  all /= n * n;
  return d.map((value, k) => -0.5 * (value - rowMean[Math.floor(k / n)] - rowMean[k % n] + all));
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** rsatoolbox's `_cosine`: 0 when either vector has zero norm. */
function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const na = Math.sqrt(dot(a, a)), nb = Math.sqrt(dot(b, b));
  return na > 0 && nb > 0 ? dot(a, b) / (na * nb) : 0;
}

function centred(a: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(a);
  const m = mean(out) ?? 0;
  return out.map((value) => value - m);
}

/**
 * 1-based ranks with ties given their average rank (scipy's `rankdata(method="average")`; d3-array's `rank`
 * gives tied values the lowest rank instead, which would change Spearman's value).
 */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => values[i] - values[j]);
  const ranks = new Float64Array(n);
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && values[order[end]] === values[order[start]]) end++;
    const rank = (start + end + 1) / 2; // mean of the 1-based positions start+1 … end
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

/**
 * Kendall's τ-a in O(n log n) (Knight's algorithm, as scipy and rsatoolbox's `_tau_a`): sort by (a, b),
 * count discordant pairs as inversions of b, and correct for ties: con − dis = tot − tiesA − tiesB + tiesBoth
 * − 2·dis.
 */
function kendallTauA(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[i] - a[j] || b[i] - b[j]);
  const tiePairs = (same: (i: number, j: number) => boolean) => {
    let pairs = 0;
    for (let start = 0; start < n;) {
      let end = start + 1;
      while (end < n && same(order[start], order[end])) end++;
      pairs += ((end - start) * (end - start - 1)) / 2;
      start = end;
    }
    return pairs;
  };
  const tiesA = tiePairs((i, j) => a[i] === a[j]);
  const tiesBoth = tiePairs((i, j) => a[i] === a[j] && b[i] === b[j]);
  const sequence = Float64Array.from(order, (i) => b[i]);
  const discordant = countInversions(sequence);
  // `sequence` is now sorted, so b's ties are consecutive.
  let tiesB = 0;
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && sequence[end] === sequence[start]) end++;
    tiesB += ((end - start) * (end - start - 1)) / 2;
    start = end;
  }
  const total = (n * (n - 1)) / 2;
  const tau = (total - tiesA - tiesB + tiesBoth - 2 * discordant) / total;
  return Math.min(1, Math.max(-1, tau));
}

/** Number of pairs i < j with v[i] > v[j] (strict), by bottom-up merge sort; sorts `v` in place. */
function countInversions(v: Float64Array): number {
  const n = v.length;
  let src: Float64Array = v, dst: Float64Array = new Float64Array(n), count = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n), hi = Math.min(lo + 2 * width, n);
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (src[j] < src[i]) {
          count += mid - i; // src[j] is smaller than every remaining left element
          dst[k++] = src[j++];
        } else dst[k++] = src[i++];
      }
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    [src, dst] = [dst, src];
  }
  if (src !== v) v.set(src);
  return count;
}
