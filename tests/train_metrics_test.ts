import {
  columnCorrelations,
  crossEntropy,
  pearson,
  rowCorrelations,
  summarize,
} from "../lib/train/metrics.ts";
import { assertClose, equal, ok } from "../lib/testing/assert.ts";

Deno.test("metrics: Pearson r closed forms", () => {
  assertClose([pearson([1, 2, 3], [2, 4, 6])], [1]);
  assertClose([pearson([1, 2, 3], [3, 2, 1])], [-1]);
  // x = (1,2,3,4), y = (1,3,2,4): r = 0.8 (cov 1.0 / var 1.25)
  assertClose([pearson([1, 2, 3, 4], [1, 3, 2, 4])], [0.8]);
  ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
});

Deno.test("metrics: row and column correlations index a row-major matrix", () => {
  const a = [1, 2, 3, 4, 5, 6]; // 2×3
  const b = [3, 2, 1, 4, 5, 7];
  assertClose(rowCorrelations(a, b, 2, 3), [-1, pearson([4, 5, 6], [4, 5, 7])]);
  assertClose(columnCorrelations(a, b, 2, 3), [1, 1, 1]);
});

Deno.test("metrics: cross-entropy of uniform logits is log(classes); argmax counts", () => {
  const { sum, correct } = crossEntropy([0, 0, 0, 5, 1, 0], [1, 0], 2, 3);
  const second = Math.log(Math.exp(5) + Math.exp(1) + 1) - 5;
  assertClose([sum], [Math.log(3) + second]);
  equal(correct, 1);
  const s = summarize([1, 3, NaN, 2]);
  assertClose([s.mean, s.median, s.max], [2, 2, 3]);
});
