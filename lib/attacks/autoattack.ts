/**
 * AutoAttack `standard` (Croce & Hein 2020): APGD-CE → APGD-T (9 targets) → FAB-T → Square, each run only on
 * the points every earlier attack failed on, the worst case kept per point (the evaluator's carry-forward
 * does this bookkeeping). Parts that cannot run (APGD-T below 4 classes) are listed in `omitted`.
 * @module
 */
import type { Attack } from "./attack.ts";
import { apgd } from "./apgd.ts";
import { fabTargeted } from "./fab.ts";
import type { Norm } from "./ops.ts";
import { square } from "./square.ts";

/** The attacks of an AutoAttack version, in order, and the parts left out (with why). */
export interface AutoAttackPlan {
  readonly components: Attack[];
  readonly omitted: string[];
}

/** APGD-T: one targeted run per target rank 2 … targets + 1 (targeted DLR needs ≥ 4 classes). */
export function apgdTargeted(norm: Norm, classes: number, targets = 9): Attack[] {
  const count = Math.min(targets, classes - 1);
  return Array.from({ length: count }, (_, i) => apgd({ norm, loss: "dlr-targeted", targetRank: i + 2 }));
}

/** FAB-T: one run per target rank 2 … targets + 1. */
export function fabTargets(norm: Norm, classes: number, targets = 9): Attack[] {
  const count = Math.min(targets, classes - 1);
  return Array.from({ length: count }, (_, i) => fabTargeted({ norm, targetRank: i + 2 }));
}

/**
 * The `standard` version for a classifier with `classes` outputs.
 *
 * @example
 * ```ts
 * const { components, omitted } = autoAttackStandard("linf", 10);
 * ```
 */
export function autoAttackStandard(norm: Norm, classes: number): AutoAttackPlan {
  const components: Attack[] = [apgd({ norm, loss: "ce" })];
  const omitted: string[] = [];
  if (classes >= 4) components.push(...apgdTargeted(norm, classes));
  else omitted.push("apgd-t (targeted DLR needs at least 4 classes)");
  components.push(...fabTargets(norm, classes));
  components.push(square({ norm }));
  return { components, omitted };
}
