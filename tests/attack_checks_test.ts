import { computeChecks, discordance, failureBanner, mcnemarExact, notesLine } from "../lib/attacks/checks.ts";
import type { SweepRow } from "../lib/attacks/evaluate.ts";
import { sweepRow } from "./fixtures/sweep_row.ts";
import { assertClose, equal, ok } from "../lib/testing/assert.ts";

Deno.test("checks: the exact McNemar p-value matches hand-computed binomial tails", () => {
  // P(X ≥ b) for X ~ Binomial(b + c, 1/2).
  equal(mcnemarExact(0, 0), 1);
  equal(mcnemarExact(0, 7), 1);
  assertClose([mcnemarExact(2, 0)], [1 / 4], { rtol: 1e-12 });
  assertClose([mcnemarExact(5, 0)], [1 / 32], { rtol: 1e-12 });
  assertClose([mcnemarExact(3, 1)], [(4 + 1) / 16], { rtol: 1e-12 }); // C(4,3) + C(4,4)
  assertClose([mcnemarExact(8, 2)], [(45 + 10 + 1) / 1024], { rtol: 1e-12 }); // C(10,8..10)
  assertClose([mcnemarExact(1, 1)], [3 / 4], { rtol: 1e-12 });
  // P(X ≥ 60) for Binomial(100, 1/2) = P(X ≤ 40) = 0.028443966820490…
  assertClose([mcnemarExact(60, 40)], [0.02844396682049039], { rtol: 1e-9 });
  // Large counts stay finite and exact in log space: symmetric split of 20 000 → just over 1/2.
  const p = mcnemarExact(10_000, 10_000);
  ok(p > 0.5 && p < 0.51, `p = ${p}`);
});

/** A row whose per-point outcomes are `robust` ("1" = still correct), its accuracy and size read from them. */
const row = (attack: string, eps: number, robust: string): SweepRow =>
  sweepRow(attack, eps, [...robust].filter((c) => c === "1").length / robust.length, {
    n: robust.length,
    robust_points: robust,
  });

/** `ones` robust points followed by zeros, `n` in all; `shift` moves the ones right (other points). */
const outcomes = (n: number, ones: number, shift = 0) =>
  Array.from({ length: n }, (_, i) => i >= shift && i < shift + ones ? "1" : "0").join("");

Deno.test("checks: PGD 23.0% vs FGSM 22.0% on 200 images is a note, not a banner", () => {
  // The case: PGD left 46 robust, FGSM 44; 2 discordant points the wrong way, none the other → p = 1/4.
  const kinds = { fgsm: "single-step", pgd: "iterative" } as const;
  const rows = [row("fgsm", 0.01, outcomes(200, 44)), row("pgd", 0.01, outcomes(200, 46))];
  const { b, c, paired } = discordance(rows[1], rows[0]);
  equal(b, 2);
  equal(c, 0);
  ok(paired);
  const checks = computeChecks(rows, kinds, null);
  const order = checks.find((x) => x.name === "iterative attacks at least as strong as single-step")!;
  equal(order.severity, "note");
  ok(order.passed);
  ok(/p = 0\.25/.test(order.detail), order.detail);
  equal(failureBanner(checks), "");
  ok(notesLine(checks).includes("iterative attacks at least as strong as single-step"));
});

Deno.test("checks: a significant inversion fails with the banner; Bonferroni counts the comparisons", () => {
  const kinds = { fgsm: "single-step", pgd: "iterative" } as const;
  // 12 points robust under PGD that FGSM fooled, none the reverse: p = 2^-12 ≪ 0.05.
  const strong = [row("fgsm", 0.01, outcomes(200, 30)), row("pgd", 0.01, outcomes(200, 42))];
  const failed = computeChecks(strong, kinds, null).find((c) => c.name.startsWith("iterative"))!;
  equal(failed.severity, "failure");
  ok(failureBanner([failed]).includes("ROBUSTNESS SANITY CHECK FAILED"));
  // 5 one way, 0 the other: p = 1/32 = 0.031 < 0.05 with one comparison, but not < 0.05/2 with two.
  const one = [row("fgsm", 0.01, outcomes(200, 40)), row("pgd", 0.01, outcomes(200, 45))];
  equal(computeChecks(one, kinds, null).find((c) => c.name.startsWith("iterative"))!.severity, "failure");
  const two = [...one, row("fgsm", 0.02, outcomes(200, 30)), row("pgd", 0.02, outcomes(200, 20))];
  equal(computeChecks(two, kinds, null).find((c) => c.name.startsWith("iterative"))!.severity, "note");
  // The same accuracies on different points: 45 vs 40 robust with 40 discordant → p ≈ 0.27, a note.
  const shuffled = [row("fgsm", 0.01, outcomes(200, 40)), row("pgd", 0.01, outcomes(200, 45, 20))];
  equal(discordance(shuffled[1], shuffled[0]).b, 25);
  equal(computeChecks(shuffled, kinds, null).find((c) => c.name.startsWith("iterative"))!.severity, "note");
});

Deno.test("checks: messages print ε without float noise", () => {
  const kinds = { pgd: "iterative" } as const;
  const probe = {
    points: 10,
    eps: 0.001 * 0.226, // 0.00022600000000000002 in float64
    steps: 40,
    robust: 0.5,
    robustDoubled: 0.5,
    doubledOnly: 0,
    defaultOnly: 0,
    largeEps: 0.5,
    robustLarge: 0,
    smallEps: null,
    lostAtLargerEps: 0,
    transfer: [],
  };
  const details = computeChecks([row("pgd", 0.001, outcomes(10, 5))], kinds, probe).map((c) => c.detail).join(
    " ",
  );
  ok(details.includes("ε=0.000226 "), details);
  ok(!details.includes("0.00022600000000000002"), details);
});
