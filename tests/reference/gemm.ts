/**
 * Float64 reference for matmul and linear layers, plain loops, no tricks: the oracle GPU results are compared to.
 * @module
 */

/** `alpha · op(A)·op(B) (+ c0)` as a float64 [m, n] array; A is [m,k] (or [k,m] when transA), B [k,n] (or [n,k]). */
export function gemmRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  { m, n, k, transA = false, transB = false, alpha = 1, c0 }: {
    m: number;
    n: number;
    k: number;
    transA?: boolean;
    transB?: boolean;
    alpha?: number;
    c0?: ArrayLike<number>;
  },
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) {
        sum += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
      }
      c[i * n + j] = alpha * sum + (c0 ? c0[i * n + j] : 0);
    }
  }
  return c;
}

/** torch `nn.Linear` forward: y[batch, out] = x[batch, in] · Wᵀ + bias, with W [out, in]. */
export function linearRef(
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number> | undefined,
  batch: number,
  inFeatures: number,
  outFeatures: number,
): Float64Array {
  const y = gemmRef(x, weight, { m: batch, n: outFeatures, k: inFeatures, transB: true });
  if (bias) { for (let i = 0; i < y.length; i++) y[i] += bias[i % outFeatures]; }
  return y;
}

/** Gradients of `sum(dy ⊙ linear(x))`: dx [batch, in], dWeight [out, in], dBias [out]. */
export function linearGradRef(
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  dy: ArrayLike<number>,
  batch: number,
  inFeatures: number,
  outFeatures: number,
): { dx: Float64Array; dWeight: Float64Array; dBias: Float64Array } {
  const dx = gemmRef(dy, weight, { m: batch, n: inFeatures, k: outFeatures });
  const dWeight = gemmRef(dy, x, { m: outFeatures, n: inFeatures, k: batch, transA: true });
  const dBias = new Float64Array(outFeatures);
  for (let i = 0; i < dy.length; i++) dBias[i % outFeatures] += dy[i];
  return { dx, dWeight, dBias };
}
