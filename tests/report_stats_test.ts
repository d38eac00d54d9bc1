/**
 * The report's statistics against hand-worked cases: quantiles, the paper's normalize_acc, interpolation on a
 * 3-point ladder, Spearman with ties, permutation p-values for n = 4 enumerated by hand, the bootstrap of a
 * constant sample and of a Bernoulli mean (against the normal-approximation interval), and the matched-gain
 * interval when resampling can only move the seeds.
 */
import {
  bootstrapInterval,
  hierarchyCorrelation,
  interpolateRobust,
  matchedGain,
  matchedGainWithInterval,
  mean,
  normalizeAcc,
  type Outcomes,
  permutationP,
  quantile,
  ranks,
  resampleIndices,
  spearman,
} from "../lib/report/stats.ts";
import { assertClose, deepStrictEqual, equal, ok } from "../lib/testing/assert.ts";

Deno.test("quantile interpolates between order statistics (type 7)", () => {
  equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  equal(quantile([1, 2, 3, 4], 0.25), 1.75); // h = 3·0.25 = 0.75 → 1 + 0.75·(2 − 1)
  equal(quantile([7], 0.975), 7);
});

Deno.test("normalize_acc is 1 − |acc − init| / init", () => {
  assertClose([normalizeAcc(0.3, 0.6)!, normalizeAcc(0.9, 0.6)!], [0.5, 0.5], { atol: 1e-12 });
  equal(normalizeAcc(0.6, 0.6), 1);
  equal(normalizeAcc(0.2, 0), null);
});

Deno.test("interpolation on a 3-point ladder, and no extrapolation", () => {
  const ladder = [{ clean: 0.6, robust: 0.25 }, { clean: 0.2, robust: 0.1 }, { clean: 0.4, robust: 0.2 }];
  // between (0.4, 0.2) and (0.6, 0.25): 0.2 + 0.5·0.05
  assertClose([interpolateRobust(ladder, 0.5)!], [0.225], { atol: 1e-12 });
  assertClose([interpolateRobust(ladder, 0.3)!], [0.15], { atol: 1e-12 });
  equal(interpolateRobust(ladder, 0.2), 0.1);
  equal(interpolateRobust(ladder, 0.6), 0.25);
  assertClose([matchedGain(ladder, { clean: 0.5, robust: 0.3 })!], [0.075], { atol: 1e-12 });
  equal(interpolateRobust(ladder, 0.61), null);
  equal(matchedGain(ladder, { clean: 0.1, robust: 0 }), null);
  // equal clean accuracies are averaged: (0.4, 0.2) and (0.4, 0.4) → (0.4, 0.3)
  assertClose([interpolateRobust([...ladder, { clean: 0.4, robust: 0.4 }], 0.5)!], [0.275], { atol: 1e-12 });
});

Deno.test("Spearman uses mid-ranks for ties", () => {
  deepStrictEqual(ranks([10, 10, 20, 30]), [1.5, 1.5, 3, 4]);
  // ranks [1,2,3,4] vs [1.5,1.5,3,4]: Σdxdy = 4.5, Σdx² = 5, Σdy² = 4.5 → 4.5/√22.5 = 3/√10
  assertClose([spearman([1, 2, 3, 4], [1, 1, 2, 3])], [3 / Math.sqrt(10)], { atol: 1e-12 });
  equal(spearman([1, 2, 3], [3, 2, 1]), -1);
});

Deno.test("permutation p for n = 4, enumerated by hand", () => {
  // ρ = 1: only the identity and the reversal reach |ρ| = 1 among 24 orderings
  equal(permutationP([0, 1, 2, 3], [1, 2, 3, 4]), 2 / 24);
  // ρ = 1 − 6·D/60 with D = Σd² = 2 → 0.8; |ρ| ≥ 0.8 ⇔ D ≤ 2 or D ≥ 18: D = 0 (1), D = 2 (3 adjacent swaps)
  // and their reversals (D = 20, 18): 8 of 24
  equal(permutationP([0, 1, 2, 3], [1, 2, 4, 3]), 8 / 24);
  const trend = hierarchyCorrelation(["V1", "V4", "LO", "TO"], [0.01, 0.02, 0.04, 0.03], null)!;
  assertClose([trend.rho], [0.8], { atol: 1e-12 });
  equal(trend.p, 1 / 3);
  equal(trend.ci, null);
  equal(hierarchyCorrelation(["V1", "TO"], [0, 1], null), null);
});

Deno.test("permutation p beyond exact enumeration is a seeded Monte Carlo estimate", () => {
  const x = Array.from({ length: 12 }, (_, i) => i);
  // a perfect order: only the identity and the reversal of 12! orderings reach |ρ| = 1
  const p = permutationP(x, x.map((v) => v * 2), { draws: 2000, seed: 3 });
  equal(p, 1 / 2001);
  equal(permutationP(x, x.map((v) => v * 2), { draws: 2000, seed: 3 }), p);
});

Deno.test("bootstrap of a constant sample is the constant", () => {
  const values = new Array(50).fill(0.37);
  const ci = bootstrapInterval((r) => mean(Array.from(resampleIndices(50, r), (i) => values[i])), {
    reps: 200,
  });
  assertClose([ci.lo, ci.hi], [0.37, 0.37], { atol: 1e-12 });
  equal(ci.reps, 200);
  equal(ci.dropped, 0);
});

Deno.test("bootstrap of a Bernoulli mean approaches the normal-approximation interval", () => {
  // 120 successes in 400: p̂ = 0.3, SE = √(0.3·0.7/400) = 0.022913, 95%: 0.3 ± 1.96·SE = [0.2551, 0.3449]
  const hits = Array.from({ length: 400 }, (_, i) => i < 120 ? 1 : 0);
  const ci = bootstrapInterval((r) => mean(Array.from(resampleIndices(400, r), (i) => hits[i])), {
    reps: 4000,
    seed: 1,
  });
  const half = 1.96 * Math.sqrt(0.3 * 0.7 / 400);
  assertClose([ci.lo, ci.hi], [0.3 - half, 0.3 + half], { atol: 0.006 });
  // the same seed gives the same interval
  deepStrictEqual(
    bootstrapInterval((r) => mean(Array.from(resampleIndices(400, r), (i) => hits[i])), {
      reps: 4000,
      seed: 1,
    }),
    ci,
  );
});

Deno.test("matched gain: point estimate by hand, and an interval that only the seeds can move", () => {
  // 4 images. Model: clean .75, robust .5. Ladder: (0.25, 0) and (1, 0.5) → at 0.75: 0.5·(0.5/0.75) = 1/3.
  const run = (clean: number[], robust: number[]): Outcomes => ({ clean, robust });
  const single = matchedGainWithInterval({
    model: [run([1, 1, 1, 0], [1, 0, 1, 0])],
    ladder: [[run([1, 0, 0, 0], [0, 0, 0, 0]), run([1, 1, 1, 1], [1, 1, 0, 0])]],
  }, { reps: 300 });
  assertClose([single.model.clean, single.model.robust, single.baseline!, single.gain!], [
    0.75,
    0.5,
    1 / 3,
    0.5 - 1 / 3,
  ], { atol: 1e-12 });
  ok(single.ci!.lo <= single.gain! && single.gain! <= single.ci!.hi);

  // Every image alike, so resampling images changes nothing. Ladder (0, 0), (1, 0.2); the model is clean 1
  // with robust 0.5 (seed 0) or 0.7 (seed 1): resampled seed pairs give mean robust 0.5, 0.6, 0.7 with
  // probabilities 1/4, 1/2, 1/4, i.e. gains 0.3, 0.4, 0.5 → the 2.5% and 97.5% quantiles are 0.3 and 0.5.
  const rows = (clean: number, robust: number) => run(new Array(8).fill(clean), new Array(8).fill(robust));
  const seeds = matchedGainWithInterval({
    model: [rows(1, 0.5), rows(1, 0.7)],
    ladder: [[rows(0, 0), rows(1, 0.2)]],
  }, { reps: 400 });
  assertClose([seeds.gain!, seeds.ci!.lo, seeds.ci!.hi], [0.4, 0.3, 0.5], { atol: 1e-12 });

  // outside the ladder: no gain, no interval
  const outside = matchedGainWithInterval({ model: [rows(1, 0.5)], ladder: [[rows(0, 0)]] });
  equal(outside.gain, null);
  equal(outside.ci, null);
});

Deno.test("hierarchy trend interval from replicated gains", () => {
  // replicates always rising: ρ = 1 in every replicate
  const trend = hierarchyCorrelation(
    ["V1", "V2", "TO"],
    [0, 0.1, 0.2],
    (r) => [r.uniform(0, 0.1), 0.15, 0.3],
    {
      reps: 100,
    },
  )!;
  equal(trend.rho, 1);
  equal(trend.p, 2 / 6);
  deepStrictEqual([trend.ci!.lo, trend.ci!.hi], [1, 1]);
});
