/**
 * PCA in float64, equal to scikit-learn's `PCA(svd_solver="full")` up to component sign, with a fixed sign
 * rule: the NSD preparation's dimensionality reduction and the manifold-guidance bases.
 * @module
 */
import { UsageError } from "../errors.ts";
import { symmetricEigen } from "./eigen.ts";
import { crossProduct, productABt } from "./product.ts";

/** A fitted PCA: `scores = (x − mean) · componentsᵀ`. */
export interface PcaFit {
  /** K×V, row k = component k (unit norm, sign fixed by {@link fixSigns}). */
  components: Float64Array;
  mean: Float64Array;
  k: number;
  /** Variance along each kept component (eigenvalue of the ddof-1 covariance). */
  explainedVariance: Float64Array;
  /** explainedVariance ÷ total variance (trace of the covariance). */
  explainedVarianceRatio: Float64Array;
}

/**
 * How many components to keep: a variance fraction in (0, 1) (sklearn's float `n_components`), a count, or
 * every component whose variance exceeds `minEigenvalue` (at least one).
 */
export type PcaSize = { variance: number } | { k: number } | { minEigenvalue: number };

/**
 * Fits PCA on the n×v row-major matrix `x` (float64 throughout). Uses the v×v covariance when n > v, else
 * the n×n Gram matrix (same nonzero spectrum, cheaper). With `{variance: t}`, K is the smallest count whose
 * cumulative explained-variance ratio is strictly greater than t, as sklearn does (`searchsorted(…, side=
 * "right") + 1`).
 *
 * @example
 * ```ts
 * // 4 images × 2 voxels, mean 0; covariance [[20, 16], [16, 20]] / 3 has eigenvalues 12 and 4/3.
 * const x = new Float64Array([3, 3, -3, -3, 1, -1, -1, 1]);
 * const fit = fitPca(x, 4, 2, { variance: 0.8 }); // (1, 1)/√2 alone explains 12 / (40/3) = 0.9 > 0.8
 * console.log(fit.k, fit.explainedVariance, fit.explainedVarianceRatio); // 1 [12] [≈0.9]
 * console.log(pcaTransform(x, 4, fit)); // [6/√2, −6/√2, 0, 0] ≈ [4.243, -4.243, 0, 0]
 * ```
 */
export function fitPca(x: Float64Array, n: number, v: number, size: PcaSize): PcaFit {
  if (x.length !== n * v) throw new RangeError(`fitPca: ${x.length} values for ${n}×${v}`);
  if (n < 2) throw new RangeError(`fitPca: need at least 2 samples, got ${n}`);
  const mean = new Float64Array(v);
  for (let r = 0; r < n; r++) for (let c = 0; c < v; c++) mean[c] += x[r * v + c];
  for (let c = 0; c < v; c++) mean[c] /= n;
  const gram = n <= v;
  // Centred data, laid out so the product's inner loops are contiguous: rows (n×v) for the Gram matrix,
  // columns (v×n) for the covariance.
  const m = gram ? n : v, len = gram ? v : n;
  const rows = new Float64Array(m * len);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < v; c++) {
      const value = x[r * v + c] - mean[c];
      if (gram) rows[r * v + c] = value;
      else rows[c * n + r] = value;
    }
  }
  const product = crossProduct(rows, m, len, 1 / (n - 1));
  let total = 0;
  for (let i = 0; i < m; i++) total += product[i * m + i];
  const eig = symmetricEigen(product, m);
  const values = eig.values.map((value) => Math.max(value, 0));
  const rank = Math.min(n - 1, v);
  let k: number;
  if ("k" in size) {
    if (!Number.isInteger(size.k) || size.k < 1 || size.k > rank) {
      throw new UsageError(
        `PCA: k = ${size.k} is outside 1..${rank} (the rank of ${n} training images × ${v} voxels); ` +
          `ask for at most ${rank} components`,
      );
    }
    k = size.k;
  } else if ("minEigenvalue" in size) {
    k = 1;
    while (k < rank && values[k] > size.minEigenvalue) k++;
  } else {
    if (!(size.variance > 0 && size.variance < 1)) {
      throw new RangeError(`PCA: variance ${size.variance} not in (0, 1)`);
    }
    let cumulative = 0;
    k = 0;
    while (k < rank && (cumulative += values[k] / total) <= size.variance) k++;
    k = Math.min(k + 1, rank);
  }
  const components = new Float64Array(k * v);
  if (gram) {
    // Component j = Xcᵀ u_j / sqrt((n−1) λ_j): the right singular vector matching Gram eigenvector u_j.
    for (let j = 0; j < k; j++) {
      const norm = Math.sqrt((n - 1) * values[j]);
      if (norm === 0) continue; // a null direction of degenerate data: leave the component zero
      const target = components.subarray(j * v, j * v + v);
      for (let r = 0; r < n; r++) {
        const u = eig.vectors[j * n + r] / norm;
        for (let c = 0; c < v; c++) target[c] += u * rows[r * v + c];
      }
    }
  } else {
    components.set(eig.vectors.subarray(0, k * v));
  }
  fixSigns(components, k, v);
  const explainedVariance = values.slice(0, k);
  return {
    components,
    mean,
    k,
    explainedVariance,
    explainedVarianceRatio: explainedVariance.map((value) => value / total),
  };
}

/**
 * Sign rule: each component's entry of largest magnitude (first one on ties) is made positive. This is
 * scikit-learn's `svd_flip(u_based_decision=False)`, which `PCA` uses since 1.5, and it does not depend on
 * the voxel order (up to exact ties).
 */
export function fixSigns(components: Float64Array, k: number, v: number): void {
  for (let j = 0; j < k; j++) {
    const row = components.subarray(j * v, j * v + v);
    let best = 0;
    for (let c = 1; c < v; c++) if (Math.abs(row[c]) > Math.abs(row[best])) best = c;
    if (row[best] < 0) { for (let c = 0; c < v; c++) row[c] = -row[c]; }
  }
}

/** Rows of `x` centred and projected per block, so the centred copy stays small. */
const PROJECT_BLOCK_ROWS = 256;

/** Projects the n×v rows of `x` onto the fit: n×K float32 scores. */
export function pcaTransform(x: Float64Array, n: number, fit: PcaFit): Float32Array {
  const v = fit.mean.length, k = fit.k;
  const out = new Float32Array(n * k);
  const block = new Float64Array(Math.min(n, PROJECT_BLOCK_ROWS) * v);
  for (let r0 = 0; r0 < n; r0 += PROJECT_BLOCK_ROWS) {
    const rows = Math.min(PROJECT_BLOCK_ROWS, n - r0);
    for (let i = 0; i < rows * v; i++) block[i] = x[r0 * v + i] - fit.mean[i % v];
    out.set(productABt(block, rows, fit.components, k, v), r0 * k);
  }
  return out;
}
