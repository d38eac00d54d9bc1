/**
 * Dense float64 products `scale · A Bᵀ` (and the symmetric `scale · R Rᵀ`) for Gram and covariance matrices,
 * row-major, cache-tiled.
 * @module
 */

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
