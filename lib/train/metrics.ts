/**
 * Small CPU-side metrics for validation: Pearson correlations per row (per image) and per column (per
 * component), summaries, and cross-entropy from logits.
 * @module
 */
import { max, mean, median } from "../deps/d3_array.ts";

/** Pearson r of two equally long vectors (NaN when either is constant). */
export function pearson(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  offset = 0,
  length = a.length,
  stride = 1,
): number {
  let sa = 0, sb = 0;
  for (let i = 0; i < length; i++) {
    sa += a[offset + i * stride];
    sb += b[offset + i * stride];
  }
  const ma = sa / length, mb = sb / length;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < length; i++) {
    const da = a[offset + i * stride] - ma, db = b[offset + i * stride] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** r between matching rows of two row-major [rows × cols] matrices (per image, over components). */
export function rowCorrelations(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  rows: number,
  cols: number,
): Float64Array {
  return Float64Array.from({ length: rows }, (_, r) => pearson(a, b, r * cols, cols, 1));
}

/** r between matching columns (per component, over images). */
export function columnCorrelations(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  rows: number,
  cols: number,
): Float64Array {
  return Float64Array.from({ length: cols }, (_, c) => pearson(a, b, c, rows, cols));
}

/** Mean, median and max of the finite values. */
export function summarize(values: ArrayLike<number>): { mean: number; median: number; max: number } {
  const finite = Array.from(values).filter(Number.isFinite);
  return { mean: mean(finite) ?? NaN, median: median(finite) ?? NaN, max: max(finite) ?? NaN };
}

/** Summed cross-entropy and correct count of `rows` logit rows against labels. */
export function crossEntropy(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  rows: number,
  classes: number,
): { sum: number; correct: number } {
  let sum = 0, correct = 0;
  for (let r = 0; r < rows; r++) {
    let best = 0, top = -Infinity;
    for (let c = 0; c < classes; c++) {
      const v = logits[r * classes + c];
      if (v > top) [top, best] = [v, c];
    }
    let z = 0;
    for (let c = 0; c < classes; c++) z += Math.exp(logits[r * classes + c] - top);
    sum += Math.log(z) + top - logits[r * classes + labels[r]];
    if (best === labels[r]) correct++;
  }
  return { sum, correct };
}
