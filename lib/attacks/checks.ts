/**
 * Sanity checks computed from an evaluation's own results, after Carlini et al. (2019), "On evaluating
 * adversarial robustness" (`docs/attacks-and-analyses.md#evaluation-checks`). A failure does not stop the
 * run; it marks the report and is printed prominently, because it most often means gradient masking or a bug.
 * @module
 */
import type { ProbeResult, SweepRow } from "./evaluate.ts";
import type { AttackKind } from "./registry.ts";

/**
 * How a check came out: `pass`; `note`, an attack ordering inverted by no more than chance explains (reported,
 * no banner); `failure`, a violated invariant or a statistically significant inversion (the banner).
 */
export type Severity = "pass" | "note" | "failure";

/** One check's outcome. */
export interface Check {
  readonly name: string;
  /** False only for `failure`. */
  readonly passed: boolean;
  readonly severity: Severity;
  readonly detail: string;
}

/** Square (or any black-box attack) may beat the white-box ones by at most this much accuracy (0.2 pp). */
const BLACK_BOX_MARGIN = 0.002;

/** Family-wise significance level of a check's attack comparisons (Bonferroni over its comparisons). */
export const SIGNIFICANCE = 0.05;

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/**
 * One-sided exact McNemar test on paired outcomes: with `b` points that only the first condition leaves
 * robust and `c` that only the second does, the probability of at least `b` of the `b + c` discordant points
 * going the first way if either way were equally likely, P(X ≥ b) for X ~ Binomial(b + c, 1/2). Computed in
 * log space, so it stays exact for any count.
 *
 * @example
 * ```ts
 * mcnemarExact(5, 0); // 1/32: five discordant points, all the same way
 * ```
 */
export function mcnemarExact(b: number, c: number): number {
  const m = b + c;
  if (b <= 0) return 1;
  // log C(m, k) − m·ln 2 for k = b … m, summed by log-sum-exp.
  let logChoose = 0;
  for (let i = 1; i <= b; i++) logChoose += Math.log((m - i + 1) / i);
  const terms: number[] = [];
  for (let k = b; k <= m; k++) {
    terms.push(logChoose - m * Math.LN2);
    logChoose += Math.log((m - k) / (k + 1));
  }
  const top = Math.max(...terms);
  return Math.min(1, Math.exp(top) * terms.reduce((a, t) => a + Math.exp(t - top), 0));
}

/**
 * Discordant points between an attack expected to be at least as strong (`strong`) and one expected to be no
 * stronger (`weak`) at the same ε: `b` robust under `strong` but fooled by `weak` (evidence against the
 * expected order), `c` the reverse. Uses the rows' per-point outcomes; rows without them give the largest
 * discordance their accuracies allow, which makes the test conservative.
 */
export function discordance(strong: SweepRow, weak: SweepRow): { b: number; c: number; paired: boolean } {
  const s = strong.robust_points, w = weak.robust_points;
  // reports from before per-point outcomes (or hand-made rows) carry none: "" or a missing field
  if (s && w && s.length === strong.n && w.length === weak.n && s.length === w.length) {
    let b = 0, c = 0;
    for (let i = 0; i < s.length; i++) {
      if (s[i] === "1" && w[i] === "0") b++;
      else if (s[i] === "0" && w[i] === "1") c++;
    }
    return { b, c, paired: true };
  }
  const n = strong.n;
  const robustStrong = Math.round(strong.robust_accuracy * n),
    robustWeak = Math.round(weak.robust_accuracy * n);
  const c = Math.max(0, Math.min(robustWeak, n - robustStrong));
  return { b: Math.max(0, c + robustStrong - robustWeak), c, paired: false };
}

/**
 * All checks for `rows` (attacks' kinds in `kinds`, by attack name) and the optional probe results.
 * Invariants of the evaluation (robust ≤ clean, inside the ball, ε = 0, monotone with carry-over) fail on any
 * violation. Comparisons between attacks fail only when the inversion is significant: an exact one-sided
 * McNemar test on the paired per-point outcomes at level {@link SIGNIFICANCE}, Bonferroni-corrected over the
 * check's comparisons; smaller inversions are `note`s (one or two images of a few hundred are noise).
 *
 * @example
 * ```ts
 * import type { SweepRow } from "./evaluate.ts";
 * // The checks of a PGD + FGSM evaluation, without the extra probes.
 * function checksOf(rows: SweepRow[]) {
 *   const checks = computeChecks(rows, { pgd: "iterative", fgsm: "single-step" }, null);
 *   return checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`);
 * }
 * ```
 */
export function computeChecks(
  rows: readonly SweepRow[],
  kinds: Readonly<Record<string, AttackKind>>,
  probe: ProbeResult | null,
): Check[] {
  const checks: Check[] = [];
  const add = (name: string, failures: string[], passDetail: string, notes: string[] = []) =>
    checks.push({
      name,
      passed: failures.length === 0,
      severity: failures.length ? "failure" : notes.length ? "note" : "pass",
      detail: failures.length ? failures.join("; ") : notes.length ? notes.join("; ") : passDetail,
    });
  const byAttack = Map.groupBy(rows, (r) => r.attack);

  add(
    "robust accuracy <= clean accuracy",
    rows.filter((r) => r.robust_accuracy > r.clean_accuracy).map((r) =>
      `${r.attack} at ε=${formatNumber(r.eps)}: robust ${pct(r.robust_accuracy)} > clean ${
        pct(r.clean_accuracy)
      }`
    ),
    "holds for every attack and ε",
  );
  add(
    "perturbations within ε and the box",
    rows.filter((r) => r.out_of_bounds > 0).map((r) =>
      `${r.attack} at ε=${formatNumber(r.eps)}: ${r.out_of_bounds} candidates outside`
    ),
    "every returned candidate was inside (out-of-bounds candidates are never counted as fooled)",
  );
  add(
    "ε = 0 gives clean accuracy",
    rows.filter((r) => r.eps === 0 && r.robust_accuracy !== r.clean_accuracy).map((r) =>
      `${r.attack}: ${pct(r.robust_accuracy)} at ε=0, clean ${pct(r.clean_accuracy)}`
    ),
    rows.some((r) => r.eps === 0) ? "holds" : "no ε = 0 in the grid (not tested)",
  );
  const monotone: string[] = [];
  for (const [attack, list] of byAttack) {
    for (let i = 1; i < list.length; i++) {
      if (list[i].robust_accuracy > list[i - 1].robust_accuracy) {
        monotone.push(
          `${attack}: ${pct(list[i].robust_accuracy)} at ε=${formatNumber(list[i].eps)} > ${
            pct(list[i - 1].robust_accuracy)
          } at ε=${formatNumber(list[i - 1].eps)}`,
        );
      }
    }
  }
  add("robust accuracy non-increasing in ε", monotone, "holds (fooled points are carried to larger ε)");

  /** Pairs (expected stronger, expected no stronger) at equal ε, tested together. */
  const ordered = (pairs: [SweepRow, SweepRow][], missing: string) => {
    const failures: string[] = [], notes: string[] = [];
    const level = SIGNIFICANCE / Math.max(1, pairs.length);
    for (const [strong, weak] of pairs) {
      if (strong.robust_accuracy <= weak.robust_accuracy) continue;
      const { b, c, paired } = discordance(strong, weak);
      const p = mcnemarExact(b, c);
      const text = `${strong.attack} ${pct(strong.robust_accuracy)} vs ${weak.attack} ${
        pct(weak.robust_accuracy)
      } at ε=${formatNumber(weak.eps)} (${b} vs ${c} discordant points${
        paired ? "" : ", bound"
      }, McNemar p = ${formatP(p)})`;
      (p < level ? failures : notes).push(text);
    }
    const tested = pairs.length
      ? `holds over ${pairs.length} comparisons (exact McNemar, α = ${SIGNIFICANCE} Bonferroni-corrected)`
      : `not tested (${missing})`;
    return {
      failures,
      notes: notes.length ? [`within chance: ${notes.join("; ")}`] : [],
      detail: tested,
    };
  };
  const pairsOf = (strongKinds: AttackKind[], weakKinds: AttackKind[]) => {
    const pairs: [SweepRow, SweepRow][] = [];
    for (const [weak, weakRows] of byAttack) {
      if (!weakKinds.includes(kinds[weak])) continue;
      for (const [strong, strongRows] of byAttack) {
        if (!strongKinds.includes(kinds[strong]) || strong === weak) continue;
        for (const w of weakRows) {
          const s = strongRows.find((r) => r.eps_pixel === w.eps_pixel && r.norm === w.norm);
          if (s) pairs.push([s, w]);
        }
      }
    }
    return pairs;
  };
  const iterative = ordered(
    pairsOf(["iterative", "ensemble"], ["single-step"]),
    "run fgsm/fgm with pgd or apgd",
  );
  add(
    "iterative attacks at least as strong as single-step",
    iterative.failures,
    iterative.detail,
    iterative.notes,
  );
  // A black-box attack must not beat the white-box ones: Square fooling significantly more points than a
  // white-box attack at the same ε means the gradients mislead (gradient masking).
  const blackBox = ordered(
    pairsOf(["black-box"], ["iterative", "ensemble"]).map(([box, white]) => [white, box]),
    "run square or autoattack",
  );
  const squareFailures = [...blackBox.failures];
  for (const r of rows) {
    const bySquare = Object.entries(r.by_component).filter(([name]) => name.startsWith("square"))
      .reduce((a, [, count]) => a + count, 0);
    if (kinds[r.attack] === "ensemble" && bySquare / r.n > BLACK_BOX_MARGIN) {
      squareFailures.push(
        `${r.attack}: square fooled ${bySquare} points the white-box attacks missed at ε=${
          formatNumber(r.eps)
        }`,
      );
    }
  }
  add(
    "black-box (Square) not stronger than white-box",
    squareFailures,
    rows.some((r) => kinds[r.attack] === "black-box" || kinds[r.attack] === "ensemble")
      ? blackBox.detail.startsWith("not tested") ? "holds (AutoAttack's 0.2 pp margin)" : blackBox.detail
      : "not tested (run square or autoattack)",
    blackBox.notes,
  );

  if (probe) {
    const probeTolerance = Math.max(0.005, 1 / probe.points);
    // Doubling PGD's steps should find few points the default missed; a significant excess means the default
    // run had not converged (or gradients mislead it).
    const points = probe.points;
    const doubledOnly = probe.doubledOnly ??
      Math.max(0, Math.round((probe.robust - probe.robustDoubled) * points));
    const defaultOnly = probe.defaultOnly ?? 0;
    const pSteps = mcnemarExact(doubledOnly, defaultOnly);
    const steps = `PGD-${probe.steps} ${pct(probe.robust)}, PGD-${2 * probe.steps} ${
      pct(probe.robustDoubled)
    } at ε=${
      formatNumber(probe.eps)
    } on ${points} points (${doubledOnly} vs ${defaultOnly} discordant, McNemar p = ${formatP(pSteps)})`;
    add(
      "more steps change little",
      pSteps < SIGNIFICANCE ? [steps] : [],
      steps,
      pSteps >= SIGNIFICANCE && doubledOnly > defaultOnly ? [`within chance: ${steps}`] : [],
    );
    add(
      "monotone in ε without carry-over",
      probe.lostAtLargerEps / probe.points > probeTolerance
        ? [
          `${probe.lostAtLargerEps} of ${probe.points} points fooled by PGD at ε=${
            formatNumber(probe.smallEps)
          } (pixel units) survive ε=${formatNumber(probe.eps)} when attacked afresh`,
        ]
        : [],
      probe.smallEps === null
        ? "not tested (one ε in the grid)"
        : `points fooled at ε=${formatNumber(probe.smallEps)} stay fooled at ε=${
          formatNumber(probe.eps)
        } (pixel units), up to one point`,
    );
    if (probe.transfer.length) {
      add(
        "transfer not stronger than white-box",
        probe.transfer.filter((t) => t.transferAccuracy < t.whiteBoxAccuracy - probeTolerance).map((t) =>
          `${t.target}: ${pct(t.transferAccuracy)} under transfer < ${
            pct(t.whiteBoxAccuracy)
          } under white-box PGD at ε=${formatNumber(probe.eps)}`
        ),
        `holds for ${probe.transfer.length} target(s) on ${probe.points} points (PGD at ε=${
          formatNumber(probe.eps)
        }, pixel units)`,
      );
    }
    add(
      "very large ε drives accuracy to ~0",
      probe.robustLarge > Math.max(0.05, 1 / probe.points)
        ? [
          `PGD at ε=${probe.largeEps.toPrecision(3)} (pixel units) leaves ${
            pct(probe.robustLarge)
          } of ${probe.points} clean-correct points robust`,
        ]
        : [],
      `${pct(probe.robustLarge)} robust at ε=${probe.largeEps.toPrecision(3)} (pixel units)`,
    );
  }
  return checks;
}

/**
 * A number for messages: at most 6 significant digits, so float noise such as 0.00022600000000000002 (0.001 ·
 * 0.226 in pixel units) prints as 0.000226; null prints as "none".
 */
export function formatNumber(x: number | null): string {
  return x === null ? "none" : String(Number(x.toPrecision(6)));
}

/** A p-value for messages: two significant digits, or "< 1e-6". */
export function formatP(p: number): string {
  return p < 1e-6 ? "< 1e-6" : Number(p.toPrecision(2)).toString();
}

/** One quiet line naming the checks that came out as notes (inversions within chance); empty if none. */
export function notesLine(checks: readonly Check[]): string {
  const notes = checks.filter((c) => c.severity === "note");
  return notes.length ? `checks within chance (no failure): ${notes.map((c) => c.name).join("; ")}` : "";
}

/** The unmissable stderr banner for failed checks (severity `failure`); empty when none failed. */
export function failureBanner(checks: readonly Check[]): string {
  const failed = checks.filter((c) => !c.passed);
  if (failed.length === 0) return "";
  const bar = "!".repeat(100);
  return [
    bar,
    `!! ROBUSTNESS SANITY CHECK${
      failed.length > 1 ? "S" : ""
    } FAILED (possible gradient masking or an evaluation bug):`,
    ...failed.map((c) => `!!   ${c.name}: ${c.detail}`),
    "!! The robust accuracies in this report may overstate robustness. See the report's `checks` section.",
    bar,
  ].join("\n");
}
