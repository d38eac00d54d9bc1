/**
 * Sanity checks computed from an evaluation's own results, after Carlini et al. (2019), "On evaluating
 * adversarial robustness" (`docs/attacks-and-analyses.md#evaluation-checks`). A failure does not stop the
 * run; it marks the report and is printed prominently, because it most often means gradient masking or a bug.
 * @module
 */
import type { ProbeResult, SweepRow } from "./evaluate.ts";
import type { AttackKind } from "./registry.ts";

/** One check's outcome. */
export interface Check {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
}

/** Square (or any black-box attack) may beat the white-box ones by at most this much accuracy (0.2 pp). */
const BLACK_BOX_MARGIN = 0.002;

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/**
 * All checks for `rows` (attacks' kinds in `kinds`, by attack name) and the optional probe results.
 * Tolerances of comparisons between attacks are max(0.5 pp, one point), since one point is the resolution.
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
  const add = (name: string, failures: string[], passDetail: string) =>
    checks.push({
      name,
      passed: failures.length === 0,
      detail: failures.length ? failures.join("; ") : passDetail,
    });
  const n = rows[0]?.n ?? 1;
  const tolerance = Math.max(0.005, 1 / n);
  const byAttack = Map.groupBy(rows, (r) => r.attack);

  add(
    "robust accuracy <= clean accuracy",
    rows.filter((r) => r.robust_accuracy > r.clean_accuracy).map((r) =>
      `${r.attack} at ε=${r.eps}: robust ${pct(r.robust_accuracy)} > clean ${pct(r.clean_accuracy)}`
    ),
    "holds for every attack and ε",
  );
  add(
    "perturbations within ε and the box",
    rows.filter((r) => r.out_of_bounds > 0).map((r) =>
      `${r.attack} at ε=${r.eps}: ${r.out_of_bounds} candidates outside`
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
          `${attack}: ${pct(list[i].robust_accuracy)} at ε=${list[i].eps} > ${
            pct(list[i - 1].robust_accuracy)
          } at ε=${list[i - 1].eps}`,
        );
      }
    }
  }
  add("robust accuracy non-increasing in ε", monotone, "holds (fooled points are carried to larger ε)");

  const compare = (weakKind: AttackKind[], strongKind: AttackKind[], slack: number, missing: string) => {
    const failures: string[] = [];
    let compared = 0;
    for (const [weak, weakRows] of byAttack) {
      if (!weakKind.includes(kinds[weak])) continue;
      for (const [strong, strongRows] of byAttack) {
        if (!strongKind.includes(kinds[strong]) || strong === weak) continue;
        for (const w of weakRows) {
          const s = strongRows.find((r) => r.eps_pixel === w.eps_pixel && r.norm === w.norm);
          if (!s) continue;
          compared++;
          if (s.robust_accuracy > w.robust_accuracy + slack) {
            failures.push(
              `${strong} ${pct(s.robust_accuracy)} vs ${weak} ${pct(w.robust_accuracy)} at ε=${w.eps}`,
            );
          }
        }
      }
    }
    return { failures, detail: compared ? `holds over ${compared} comparisons` : `not tested (${missing})` };
  };
  const iterative = compare(
    ["single-step"],
    ["iterative", "ensemble"],
    tolerance,
    "run fgsm/fgm with pgd or apgd",
  );
  add("iterative attacks at least as strong as single-step", iterative.failures, iterative.detail);
  // A black-box attack must not beat the white-box ones (by more than 0.2 pp, AutoAttack's threshold).
  const squareFailures: string[] = [];
  for (const [box, boxRows] of byAttack) {
    if (kinds[box] !== "black-box") continue;
    for (const b of boxRows) {
      const white = rows.filter((r) =>
        ["iterative", "ensemble"].includes(kinds[r.attack]) && r.eps_pixel === b.eps_pixel
      );
      const best = Math.min(...white.map((r) => r.robust_accuracy));
      if (white.length && b.robust_accuracy < best - BLACK_BOX_MARGIN) {
        squareFailures.push(`${box} ${pct(b.robust_accuracy)} < white-box ${pct(best)} at ε=${b.eps}`);
      }
    }
  }
  for (const r of rows) {
    const bySquare = Object.entries(r.by_component).filter(([name]) => name.startsWith("square"))
      .reduce((a, [, count]) => a + count, 0);
    if (kinds[r.attack] === "ensemble" && bySquare / r.n > BLACK_BOX_MARGIN) {
      squareFailures.push(
        `${r.attack}: square fooled ${bySquare} points the white-box attacks missed at ε=${r.eps}`,
      );
    }
  }
  add(
    "black-box (Square) not stronger than white-box",
    squareFailures,
    rows.some((r) => kinds[r.attack] === "black-box" || kinds[r.attack] === "ensemble")
      ? "holds (margin 0.2 pp)"
      : "not tested (run square or autoattack)",
  );

  if (probe) {
    const probeTolerance = Math.max(0.005, 1 / probe.points);
    const delta = Math.abs(probe.robust - probe.robustDoubled);
    add(
      "more steps change little",
      delta > probeTolerance
        ? [
          `PGD-${probe.steps} ${pct(probe.robust)} vs PGD-${2 * probe.steps} ${
            pct(probe.robustDoubled)
          } at ε=${probe.eps} on ${probe.points} points`,
        ]
        : [],
      `PGD-${probe.steps} ${pct(probe.robust)}, PGD-${2 * probe.steps} ${
        pct(probe.robustDoubled)
      } on ${probe.points} points`,
    );
    add(
      "monotone in ε without carry-over",
      probe.lostAtLargerEps / probe.points > probeTolerance
        ? [
          `${probe.lostAtLargerEps} of ${probe.points} points fooled by PGD at ε=${probe.smallEps} (pixel units) survive ε=${probe.eps} when attacked afresh`,
        ]
        : [],
      probe.smallEps === null
        ? "not tested (one ε in the grid)"
        : `points fooled at ε=${probe.smallEps} stay fooled at ε=${probe.eps} (pixel units), up to one point`,
    );
    if (probe.transfer.length) {
      add(
        "transfer not stronger than white-box",
        probe.transfer.filter((t) => t.transferAccuracy < t.whiteBoxAccuracy - probeTolerance).map((t) =>
          `${t.target}: ${pct(t.transferAccuracy)} under transfer < ${
            pct(t.whiteBoxAccuracy)
          } under white-box PGD at ε=${probe.eps}`
        ),
        `holds for ${probe.transfer.length} target(s) on ${probe.points} points (PGD at ε=${probe.eps}, pixel units)`,
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

/** The unmissable stderr banner for failed checks; empty when all passed. */
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
