/**
 * Centred kernel alignment with a linear kernel (`docs/attacks-and-analyses.md#cka`): Kornblith et al.'s
 * linear CKA and Brain-Score's unbiased (debiased-HSIC) CKA, both computed from n × n Gram matrices so that
 * wide feature matrices (1,000 × 4,096) cost one Gram product each.
 * @module
 */
import { gram, type GramOptions } from "./gram.ts";
import { centreColumns, type Matrix } from "./matrix.ts";

/** Options for {@link cka}. */
export interface CkaOptions extends GramOptions {
  /** Unbiased (debiased HSIC) CKA instead of the plain linear CKA; needs n ≥ 4. */
  unbiased?: boolean;
}

/**
 * The Gram matrix of `x` after centring its features over stimuli: the input of {@link ckaFromGrams}.
 * Compute it once per model when comparing many models.
 *
 * @example
 * ```ts
 * import { fromRows } from "./matrix.ts";
 * const k = await centredGram(fromRows([[1, 2], [3, 4], [5, 0]])); // 3 × 3 Gram of the column-centred rows
 * ```
 */
export function centredGram(x: Matrix, options: GramOptions = {}): Promise<Float64Array> {
  return gram(centreColumns(x), options);
}

/**
 * CKA between two representations of the same n stimuli from their centred Grams K and L (n × n):
 * - linear: tr(KL) / √(tr(KK) tr(LL)), which equals ‖YᶜᵀXᶜ‖²_F / (‖XᶜᵀXᶜ‖_F ‖YᶜᵀYᶜ‖_F);
 * - unbiased: HSIC_u(K, L) / √(HSIC_u(K, K) HSIC_u(L, L)) with the diagonals zeroed and
 *   HSIC_u = [tr(KL) + (1ᵀK1)(1ᵀL1)/((n−1)(n−2)) − 2·1ᵀKL1/(n−2)] / (n(n−3)).
 *
 * Centring does not change HSIC_u (it is invariant to feature shifts), so one pair of Grams serves both.
 *
 * @example
 * ```ts
 * import { fromRows } from "./matrix.ts";
 * const x = fromRows([[1, 2, 3], [2, 0, 1], [0, 1, 4], [3, 3, 0], [1, 1, 1]]);
 * const y = fromRows([[0.5, 1], [1, -1], [2, 0], [0, 3], [1, 1]]);
 * const unbiased = ckaFromGrams(await centredGram(x), await centredGram(y), x.rows, true); // −0.047425
 * ```
 */
export function ckaFromGrams(k: Float64Array, l: Float64Array, n: number, unbiased = false): number {
  if (k.length !== n * n || l.length !== n * n) throw new RangeError(`cka: Grams are not ${n} × ${n}`);
  if (!unbiased) {
    const kl = frobenius(k, l), kk = frobenius(k, k), ll = frobenius(l, l);
    return kl / Math.sqrt(kk * ll);
  }
  if (n < 4) throw new RangeError(`cka: unbiased CKA needs at least 4 stimuli, got ${n}`);
  const kz = zeroDiagonal(k, n), lz = zeroDiagonal(l, n);
  const kl = hsicUnbiased(kz, lz, n);
  return kl / Math.sqrt(hsicUnbiased(kz, kz, n) * hsicUnbiased(lz, lz, n));
}

/**
 * CKA between two representations (rows = the same stimuli, any feature counts).
 *
 * @example
 * ```ts
 * import { fromRows } from "./matrix.ts";
 * const x = fromRows([[1, 2, 3], [2, 0, 1], [0, 1, 4], [3, 3, 0], [1, 1, 1]]);
 * const y = fromRows([[0.5, 1], [1, -1], [2, 0], [0, 3], [1, 1]]);
 * const linear = await cka(x, y); // 0.570177
 * const unbiased = await cka(x, y, { unbiased: true }); // −0.047425
 * ```
 */
export async function cka(x: Matrix, y: Matrix, options: CkaOptions = {}): Promise<number> {
  if (x.rows !== y.rows) throw new RangeError(`cka: ${x.rows} and ${y.rows} stimuli (rows must match)`);
  const [k, l] = [await centredGram(x, options), await centredGram(y, options)];
  return ckaFromGrams(k, l, x.rows, options.unbiased ?? false);
}

/** Σ_ij A_ij B_ij = tr(A Bᵀ) = tr(AB) for symmetric B. */
function frobenius(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function zeroDiagonal(k: Float64Array, n: number): Float64Array {
  const out = Float64Array.from(k);
  for (let i = 0; i < n; i++) out[i * n + i] = 0;
  return out;
}

/** Debiased HSIC of two zero-diagonal symmetric Grams (Song et al. 2012). */
function hsicUnbiased(k: Float64Array, l: Float64Array, n: number): number {
  let sumK = 0, sumL = 0, kl1 = 0;
  const rowK = new Float64Array(n), rowL = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      rowK[i] += k[i * n + j];
      rowL[i] += l[i * n + j];
    }
    sumK += rowK[i];
    sumL += rowL[i];
  }
  // 1ᵀKL1 = (K1)·(L1) since K is symmetric.
  for (let i = 0; i < n; i++) kl1 += rowK[i] * rowL[i];
  const trace = frobenius(k, l);
  return (trace + (sumK * sumL) / ((n - 1) * (n - 2)) - (2 * kl1) / (n - 2)) / (n * (n - 3));
}
