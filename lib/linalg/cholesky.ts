/**
 * Cholesky factorisation and solves for small dense symmetric positive-definite systems (float64,
 * row-major): the active-set QP of MFTMA and the ridge readout. For eigen-decompositions use
 * `symmetricEigen` in `lib/linalg/eigen.ts`.
 * @module
 */

/**
 * The lower-triangular L with L Lᵀ = A for the n × n symmetric `a` (only its lower triangle is read), or
 * `null` when A is not numerically positive definite (a pivot ≤ 0).
 *
 * @example
 * ```ts
 * const l = cholesky(new Float64Array([4, 2, 2, 3]), 2); // [2, 0, 1, 1.4142…]
 * ```
 */
export function cholesky(a: ArrayLike<number>, n: number): Float64Array | null {
  if (a.length !== n * n) throw new RangeError(`cholesky: ${a.length} values for a ${n}×${n} matrix`);
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let diagonal = a[j * n + j];
    for (let k = 0; k < j; k++) diagonal -= l[j * n + k] ** 2;
    if (!(diagonal > 0)) return null;
    const pivot = Math.sqrt(diagonal);
    l[j * n + j] = pivot;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / pivot;
    }
  }
  return l;
}

/**
 * Solves L Lᵀ X = B for X, with `b` holding `columns` right-hand sides (n × columns, row-major); returns X.
 *
 * @example
 * ```ts
 * const a = new Float64Array([4, 2, 2, 3]), n = 2;
 * const x = choleskySolve(cholesky(a, n)!, n, [2, 1]); // solves A x = b: [0.5, 0]
 * ```
 */
export function choleskySolve(l: Float64Array, n: number, b: ArrayLike<number>, columns = 1): Float64Array {
  if (b.length !== n * columns) throw new RangeError(`choleskySolve: ${b.length} values for ${n}×${columns}`);
  const x = Float64Array.from(b);
  for (let c = 0; c < columns; c++) {
    for (let i = 0; i < n; i++) { // forward: L y = b
      let s = x[i * columns + c];
      for (let k = 0; k < i; k++) s -= l[i * n + k] * x[k * columns + c];
      x[i * columns + c] = s / l[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) { // backward: Lᵀ x = y
      let s = x[i * columns + c];
      for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k * columns + c];
      x[i * columns + c] = s / l[i * n + i];
    }
  }
  return x;
}
