/**
 * Mean-field-theoretic manifold analysis (MFTMA; Chung, Lee & Sompolinsky 2018; Cohen et al. 2020): per-class
 * manifold capacity, anchor radius and anchor dimension, as `manifold_analysis_corr` of
 * schung039/neural_manifolds_replicaMFT computes them
 * (`docs/attacks-and-analyses.md#manifold-geometry-mftma`), ported minimally:
 *
 * - the optional low-rank centre decorrelation (`fun_FA`) is skipped, i.e. K = 0: manifold centres are used
 *   as they are (reported as `centreDecorrelation: 0`);
 * - the per-t quadratic program min ‖v − t‖² s.t. Sᵀv ≤ −κ is solved through its dual, a non-negative QP,
 *   with an exact active-set method instead of cvxopt's interior point;
 * - the QR reduction of an N-dimensional manifold to its M-dimensional span uses the M × M Gram matrix
 *   (R with RᵀR = SᵀS up to a rotation of the span, which the isotropic t-vectors cannot see).
 * @module
 */
import { symmetricEigen } from "../linalg/eigen.ts";
import { crossProduct } from "../linalg/product.ts";
import { cholesky, choleskySolve } from "../linalg/cholesky.ts";
import { Random } from "../random.ts";
import type { Matrix } from "./matrix.ts";

/** Options for {@link manifoldAnalysis}. */
export interface ManifoldOptions {
  /** Margin κ (default 0). */
  kappa?: number;
  /** Gaussian t-vectors per manifold (default 200, as the reference). */
  nT?: number;
  /** Seed of the t-vectors (default 0). */
  seed?: number;
}

/** Geometry of one manifold. */
export interface ManifoldGeometry {
  /** α_M: the largest load P/N at which such manifolds are linearly separable (2 for points at κ = 0). */
  capacity: number;
  /** Anchor radius R_M, relative to the norm of the manifold's centre. */
  radius: number;
  /** Anchor dimension D_M. */
  dimension: number;
}

/** Result of {@link manifoldAnalysis}. */
export interface ManifoldSummary extends ManifoldGeometry {
  /** Per manifold, in input order. `capacity` above is 1/mean(1/α); radius and dimension are means. */
  perManifold: ManifoldGeometry[];
  kappa: number;
  nT: number;
  seed: number;
  /** Rank K of the removed centre subspace: always 0 in this port (no `fun_FA`). */
  centreDecorrelation: 0;
}

/**
 * Capacity, radius and dimension of P manifolds. `manifolds[i]` holds manifold i's points as rows (points ×
 * features; every manifold has the same feature count). As in the reference, points should be fewer than
 * features, and at least two manifolds are needed (the global mean is subtracted first).
 *
 * @example
 * ```ts
 * import { fromRows } from "./matrix.ts";
 * // two classes of three points each (rows: points, columns: features)
 * const a = fromRows([[1, 0, 0], [1.2, 0.1, 0], [0.9, -0.1, 0.1]]);
 * const b = fromRows([[0, 1, 0], [0.1, 1.1, 0], [-0.1, 0.9, 0.1]]);
 * const result = manifoldAnalysis([a, b], { kappa: 0, nT: 200, seed: 0 });
 * console.log(result.capacity, result.radius, result.dimension);
 * ```
 */
export function manifoldAnalysis(
  manifolds: readonly Matrix[],
  options: ManifoldOptions = {},
): ManifoldSummary {
  const { kappa = 0, nT = 200, seed = 0 } = options;
  if (manifolds.length < 2) {
    throw new RangeError(`manifold: need at least 2 manifolds, got ${manifolds.length}`);
  }
  if (!Number.isInteger(nT) || nT < 1) {
    throw new RangeError(`manifold: nT must be a positive integer, got ${nT}`);
  }
  if (!Number.isFinite(kappa)) throw new RangeError(`manifold: kappa must be finite, got ${kappa}`);
  const n = manifolds[0].cols;
  const bad = manifolds.findIndex((x) => x.cols !== n);
  if (bad >= 0) {
    throw new RangeError(`manifold: manifold ${bad} has ${manifolds[bad].cols} features, expected ${n}`);
  }

  const globalMean = new Float64Array(n);
  let count = 0;
  for (const x of manifolds) {
    for (let r = 0; r < x.rows; r++) for (let c = 0; c < n; c++) globalMean[c] += x.data[r * n + c];
    count += x.rows;
  }
  for (let c = 0; c < n; c++) globalMean[c] /= count;

  const random = new Random(seed);
  const perManifold = manifolds.map((x, i) => {
    const { s, d, m } = anchorSpace(x, globalMean, i);
    const t = new Float64Array(nT * (d + 1));
    for (let k = 0; k < t.length; k++) t[k] = random.normal();
    return anchorGeometry(s, d, m, t, nT, kappa);
  });
  const mean = (f: (g: ManifoldGeometry) => number) =>
    perManifold.reduce((a, g) => a + f(g), 0) / perManifold.length;
  return {
    capacity: 1 / mean((g) => 1 / g.capacity),
    radius: mean((g) => g.radius),
    dimension: mean((g) => g.dimension),
    perManifold,
    kappa,
    nT,
    seed,
    centreDecorrelation: 0,
  };
}

/**
 * Manifold i in its own frame: points minus the global mean minus the manifold centre c, divided by ‖c‖,
 * reduced to its span when features outnumber points. Returns S as (d + 1) × m, row-major, the last row
 * all ones (the centre direction).
 */
function anchorSpace(
  x: Matrix,
  globalMean: Float64Array,
  index: number,
): { s: Float64Array; d: number; m: number } {
  const m = x.rows, n = x.cols;
  const centre = new Float64Array(n);
  for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) centre[c] += x.data[r * n + c] - globalMean[c];
  for (let c = 0; c < n; c++) centre[c] /= m;
  const norm = Math.hypot(...centre);
  if (!(norm > 0)) throw new RangeError(`manifold: the centre of manifold ${index} equals the global mean`);
  const points = new Float64Array(m * n); // m × n: row r = point r
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) points[r * n + c] = (x.data[r * n + c] - globalMean[c] - centre[c]) / norm;
  }
  let d: number, coordinate: (row: number, point: number) => number;
  if (n > m) {
    // Reduce to m coordinates: with PᵀP-style Gram G = V Λ Vᵀ (m × m), F = Λ^½ Vᵀ has FᵀF = G, i.e. the same
    // inner products as the points, like the reference's QR factor R.
    const { values, vectors } = symmetricEigen(crossProduct(points, m, n, 1), m);
    d = m;
    coordinate = (row, point) => Math.sqrt(Math.max(values[row], 0)) * vectors[row * m + point];
  } else {
    d = n;
    coordinate = (row, point) => points[point * n + row];
  }
  const s = new Float64Array((d + 1) * m);
  for (let row = 0; row < d; row++) for (let p = 0; p < m; p++) s[row * m + p] = coordinate(row, p);
  s.fill(1, d * m);
  return { s, d, m };
}

/**
 * The reference's `each_manifold_analysis_D1` on S ((d + 1) × m) with the given t-vectors (nT rows of d + 1).
 * For each t the anchor point s̃ is the maximal-projection point when t already satisfies the margin, else
 * S λ / Σλ from the QP's multipliers; then α⁻¹ = mean max(t·s̃ + κ, 0)² / ‖s̃‖², R_M = RMS of
 * (s̃ − mean s̃)₁..d / s̃_{d+1}, D_M = d · (mean t̂·ŝ)² over the first d coordinates.
 */
function anchorGeometry(
  s: Float64Array,
  d: number,
  m: number,
  t: Float64Array,
  nT: number,
  kappa: number,
): ManifoldGeometry {
  const d1 = d + 1;
  // Dual QP matrix SᵀS (m × m), fixed for all t.
  const g = new Float64Array(m * m);
  for (let p = 0; p < m; p++) {
    for (let q = p; q < m; q++) {
      let sum = 0;
      for (let row = 0; row < d1; row++) sum += s[row * m + p] * s[row * m + q];
      g[p * m + q] = g[q * m + p] = sum;
    }
  }
  const anchors = new Float64Array(nT * d1);
  const b = new Float64Array(m);
  for (let k = 0; k < nT; k++) {
    const tk = t.subarray(k * d1, (k + 1) * d1);
    const anchor = anchors.subarray(k * d1, (k + 1) * d1);
    // Sᵀt over the d manifold coordinates picks the maximal-projection point.
    let best = 0, bestValue = -Infinity;
    for (let p = 0; p < m; p++) {
      let sum = 0;
      for (let row = 0; row < d; row++) sum += tk[row] * s[row * m + p];
      b[p] = sum + tk[d] + kappa; // Sᵀt + κ, the dual's linear term
      if (sum > bestValue) [best, bestValue] = [p, sum];
    }
    const setMaxPoint = () => {
      for (let row = 0; row < d; row++) anchor[row] = s[row * m + best];
      anchor[d] = 1;
    };
    if (bestValue + tk[d] + kappa < 0) {
      setMaxPoint(); // t satisfies the margin already: v = t
      continue;
    }
    const lambda = nonNegativeQp(g, b, m);
    let total = 0, shift = 0;
    for (let p = 0; p < m; p++) total += lambda[p];
    for (let row = 0; row < d1; row++) {
      let sum = 0;
      for (let p = 0; p < m; p++) sum += s[row * m + p] * lambda[p];
      anchor[row] = sum; // t − v = S λ
      shift += sum * sum;
    }
    if (Math.sqrt(shift) < 1e-8 || !(total > 0)) setMaxPoint(); // interior point: v = t
    else for (let row = 0; row < d1; row++) anchor[row] /= total;
  }

  let inverseCapacity = 0;
  const meanAnchor = new Float64Array(d1);
  for (let k = 0; k < nT; k++) {
    const tk = t.subarray(k * d1, (k + 1) * d1), anchor = anchors.subarray(k * d1, (k + 1) * d1);
    let projection = kappa, norm2 = 0;
    for (let row = 0; row < d1; row++) {
      projection += tk[row] * anchor[row];
      norm2 += anchor[row] ** 2;
      meanAnchor[row] += anchor[row] / nT;
    }
    if (norm2 > 0) inverseCapacity += Math.max(projection, 0) ** 2 / norm2 / nT;
  }
  let radius2 = 0, cosine = 0;
  for (let k = 0; k < nT; k++) {
    const tk = t.subarray(k * d1, (k + 1) * d1), anchor = anchors.subarray(k * d1, (k + 1) * d1);
    let tt = 0, ss = 0, ts = 0;
    for (let row = 0; row < d; row++) {
      radius2 += ((anchor[row] - meanAnchor[row]) / anchor[d]) ** 2 / nT;
      tt += tk[row] ** 2;
      ss += anchor[row] ** 2;
      ts += tk[row] * anchor[row];
    }
    cosine += ts / Math.sqrt(tt) / Math.sqrt(ss + 1e-12) / nT; // the reference's 1e-12 guards ŝ = 0
  }
  return { capacity: 1 / inverseCapacity, radius: Math.sqrt(radius2), dimension: d * cosine ** 2 };
}

/**
 * min ½λᵀGλ − bᵀλ subject to λ ≥ 0 for a symmetric positive (semi)definite m × m G: Lawson–Hanson's active
 * set method generalised from least squares to a QP. Exact up to rounding, unlike an interior-point solver.
 */
function nonNegativeQp(g: Float64Array, b: Float64Array, m: number): Float64Array {
  const x = new Float64Array(m);
  const free = new Uint8Array(m);
  let scale = 0;
  for (let p = 0; p < m; p++) scale = Math.max(scale, Math.abs(b[p]), g[p * m + p]);
  const tol = 1e-12 * Math.max(scale, 1);
  for (let outer = 0; outer < 3 * m; outer++) {
    let enter = -1, steepest = tol;
    for (let p = 0; p < m; p++) {
      if (free[p]) continue;
      let w = b[p]; // −gradient
      for (let q = 0; q < m; q++) w -= g[p * m + q] * x[q];
      if (w > steepest) [enter, steepest] = [p, w];
    }
    if (enter < 0) break; // KKT: every fixed variable's gradient is ≥ 0
    free[enter] = 1;
    for (let inner = 0; inner <= m; inner++) {
      const idx = [...free.keys()].filter((p) => free[p]);
      const z = solveSubsystem(g, b, m, idx);
      if (z.every((value) => value > tol)) {
        idx.forEach((p, i) => (x[p] = z[i]));
        break;
      }
      // Step from x towards z until the first free variable hits zero, then fix it there.
      let alpha = 1;
      idx.forEach((p, i) => {
        if (z[i] <= tol) alpha = Math.min(alpha, x[p] / (x[p] - z[i]));
      });
      idx.forEach((p, i) => {
        x[p] += alpha * (z[i] - x[p]);
        if (x[p] <= tol) {
          x[p] = 0;
          free[p] = 0;
        }
      });
    }
  }
  return x;
}

/** Solves G[idx, idx] z = b[idx]; a semidefinite block gets a tiny ridge (rounding-level) to stay solvable. */
function solveSubsystem(g: Float64Array, b: Float64Array, m: number, idx: number[]): Float64Array {
  const k = idx.length;
  const block = new Float64Array(k * k);
  idx.forEach((p, i) => idx.forEach((q, j) => (block[i * k + j] = g[p * m + q])));
  let l = cholesky(block, k);
  for (let ridge = 1e-12; !l; ridge *= 100) {
    const trace = idx.reduce((sum, p) => sum + g[p * m + p], 0) / k;
    l = cholesky(block.map((v, e) => (e % (k + 1) === 0 ? v + ridge * trace : v)), k);
  }
  return choleskySolve(l, k, idx.map((p) => b[p]));
}
