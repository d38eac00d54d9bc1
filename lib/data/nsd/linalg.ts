/**
 * Float64 linear algebra for the preparation step: a dense symmetric eigensolver (Householder
 * tridiagonalisation + implicit QL, after JAMA/EISPACK `tred2`/`tql2`) and PCA equal to scikit-learn's
 * `PCA(svd_solver="full")` up to component sign, with a fixed sign rule.
 *
 * Storage: matrices are flat row-major Float64Arrays. The solver works on the *transpose* of EISPACK's
 * eigenvector matrix so that every O(n³) inner loop runs over contiguous memory (a column walk over a
 * 3000×3000 matrix would be several times slower).
 * @module
 */

/** Eigen-decomposition of a symmetric matrix. */
export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Row i (n values) is the unit eigenvector of `values[i]`. */
  vectors: Float64Array;
}

/**
 * Eigen-decomposes the symmetric n×n matrix `a` (only read, never modified).
 *
 * @example
 * ```ts
 * const { values } = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2); // [3, 1]
 * ```
 */
export function symmetricEigen(a: Float64Array, n: number): SymmetricEigen {
  if (a.length !== n * n) throw new RangeError(`symmetricEigen: ${a.length} values for a ${n}×${n} matrix`);
  const w = Float64Array.from(a); // W = Vᵀ of EISPACK; A is symmetric so W starts as A.
  const d = new Float64Array(n), e = new Float64Array(n);
  if (n === 0) return { values: d, vectors: w };
  tridiagonalize(w, d, e, n);
  diagonalize(w, d, e, n);
  // Descending order, vectors permuted along.
  const order = Array.from(d.keys()).sort((i, j) => d[j] - d[i]);
  const values = Float64Array.from(order, (i) => d[i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => vectors.set(w.subarray(src * n, src * n + n), dst * n));
  return { values, vectors };
}

/** Householder reduction to tridiagonal form (EISPACK tred2), with V[r][c] stored at w[c*n + r]. */
function tridiagonalize(w: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = w[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0, h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = w[j * n + i - 1];
        w[j * n + i] = 0;
        w[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        w[i * n + j] = f;
        g = e[j] + w[j * n + j] * f;
        const row = j * n;
        for (let k = j + 1; k <= i - 1; k++) {
          g += w[row + k] * d[k];
          e[k] += w[row + k] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        const row = j * n;
        for (let k = j; k <= i - 1; k++) w[row + k] -= f * e[k] + g * d[k];
        d[j] = w[j * n + i - 1];
        w[j * n + i] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    w[i * n + n - 1] = w[i * n + i];
    w[i * n + i] = 1;
    const h = d[i + 1];
    const next = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = w[next + k] / h;
      for (let j = 0; j <= i; j++) {
        const row = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += w[next + k] * w[row + k];
        for (let k = 0; k <= i; k++) w[row + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) w[next + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = w[j * n + n - 1];
    w[j * n + n - 1] = 0;
  }
  w[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL iterations on the tridiagonal (EISPACK tql2); rotations act on contiguous rows of w. */
function diagonalize(w: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0, tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) {
          throw new Error(`symmetricEigen: no convergence for eigenvalue ${l} after 60 iterations`);
        }
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1, c2 = c, c3 = c, s = 0, s2 = 0;
        const el1 = e[l + 1];
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const a = i * n, b = a + n;
          for (let k = 0; k < n; k++) {
            const wb = w[b + k], wa = w[a + k];
            w[b + k] = s * wa + c * wb;
            w[a + k] = c * wa - s * wb;
          }
        }
        p = -s * s2 * c3 * el1 * e[l] / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

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
 * const fit = fitPca(x, nImages, nVoxels, { variance: 0.95 });
 * const scores = pcaTransform(x, nImages, fit);
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
      throw new RangeError(`PCA: k = ${size.k} is outside 1..${rank} (rank of ${n} samples × ${v} features)`);
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

/** `scale · R Rᵀ` for the m×len row-major R: a symmetric m×m matrix (Gram or covariance). */
export function crossProduct(r: Float64Array, m: number, len: number, scale: number): Float64Array {
  return productABt(r, m, r, m, len, scale, true);
}

/** Target bytes of one tile of `b` rows in {@link productABt}: small enough to stay in a core's L2. */
const TILE_BYTES = 256 * 1024;

/**
 * `scale · A Bᵀ` for row-major A (m×len) and B (n×len): an m×n float64 matrix. Loop order keeps memory
 * traffic low without SIMD: a tile of B rows (≈256 KB) stays in cache while A passes over it four rows at a
 * time, and each B element loaded serves four dot products. With `symmetric` (B is A) only the upper
 * triangle is computed, then mirrored.
 */
export function productABt(
  a: Float64Array,
  m: number,
  b: Float64Array,
  n: number,
  len: number,
  scale = 1,
  symmetric = false,
): Float64Array {
  const out = new Float64Array(m * n);
  const tile = Math.max(4, Math.floor(TILE_BYTES / (8 * len)));
  for (let j0 = 0; j0 < n; j0 += tile) {
    const j1 = Math.min(n, j0 + tile);
    for (let i = 0; i < (symmetric ? Math.min(m, j1) : m); i += 4) {
      // A ragged last group repeats its final row; the duplicate sums are discarded below.
      const last = Math.min(m, i + 4) - 1;
      const a0 = i * len, a1 = Math.min(i + 1, last) * len, a2 = Math.min(i + 2, last) * len;
      const a3 = Math.min(i + 3, last) * len;
      for (let j = symmetric ? Math.max(j0, i) : j0; j < j1; j++) {
        const bj = j * len;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let t = 0; t < len; t++) {
          const bt = b[bj + t];
          s0 += a[a0 + t] * bt;
          s1 += a[a1 + t] * bt;
          s2 += a[a2 + t] * bt;
          s3 += a[a3 + t] * bt;
        }
        const sums = [s0, s1, s2, s3];
        for (let q = 0; i + q <= last; q++) {
          if (symmetric && j < i + q) continue; // lower triangle: filled by the mirror of (j, i + q)
          out[(i + q) * n + j] = sums[q] * scale;
          if (symmetric) out[j * n + i + q] = sums[q] * scale;
        }
      }
    }
  }
  return out;
}
