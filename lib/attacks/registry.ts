/**
 * Attack names accepted by `deno task attack --attack`, each resolved to an {@link AttackUnit}: the attacks to
 * run in order on the points still robust (one for most names, several for APGD-T's targets and AutoAttack).
 * @module
 */
import { UsageError } from "../errors.ts";
import type { Attack } from "./attack.ts";
import { apgd } from "./apgd.ts";
import { apgdTargeted, autoAttackStandard, fabTargets } from "./autoattack.ts";
import { carliniWagner, type CwOptions } from "./cw.ts";
import { deepfool } from "./deepfool.ts";
import type { Norm } from "./ops.ts";
import { fgm, fgsm, pgd } from "./pgd.ts";
import { square } from "./square.ts";

/** How an attack uses the model; the sanity checks compare kinds. */
export type AttackKind = "single-step" | "iterative" | "minimal" | "black-box" | "ensemble";

/** A named evaluation: attacks run in order, each on the points all earlier ones failed on. */
export interface AttackUnit {
  readonly name: string;
  readonly norm: Norm;
  readonly kind: AttackKind;
  readonly components: Attack[];
  /** Parts of the named attack left out, with the reason (reported, never silently dropped). */
  readonly omitted: string[];
}

/** Every accepted `--attack` name. */
export const ATTACK_NAMES = [
  "fgsm",
  "fgm",
  "pgd",
  "deepfool",
  "apgd-ce",
  "apgd-t",
  "fab-t",
  "cw",
  "square",
  "autoattack",
] as const;

/** The threat model an attack runs under: its own for single-norm attacks (fgsm L∞; fgm, cw L2), else `norm`. */
export function attackNorm(name: string, norm: Norm): Norm {
  return name === "fgsm" ? "linf" : name === "fgm" || name === "cw" ? "l2" : norm;
}

/**
 * Resolves `name` under the threat model `norm` for a classifier with `classes` outputs (`cw` settings from
 * `cw`); a one-line {@link UsageError} starting with the name for unknown names or unsupported combinations.
 */
export function attackUnit(name: string, norm: Norm, classes: number, cw: CwOptions = {}): AttackUnit {
  const unit = (kind: AttackKind, components: Attack[], omitted: string[] = []): AttackUnit => ({
    name,
    norm,
    kind,
    components,
    omitted,
  });
  const only = (required: Norm) => {
    if (norm !== required) {
      throw new UsageError(
        `${name}: an ${required === "linf" ? "L∞" : "L2"} attack; use norm ${required}`,
      );
    }
  };
  switch (name) {
    case "fgsm":
      only("linf");
      return unit("single-step", [fgsm()]);
    case "fgm":
      only("l2");
      return unit("single-step", [fgm()]);
    case "pgd":
      return unit("iterative", [pgd({ norm })]);
    case "deepfool":
      return unit("minimal", [deepfool({ norm })]);
    case "apgd-ce":
      return unit("iterative", [apgd({ norm, loss: "ce" })]);
    case "apgd-t":
      if (classes < 4) {
        throw new UsageError(
          `apgd-t: targeted DLR needs at least 4 classes, the model has ${classes}`,
        );
      }
      return unit("iterative", apgdTargeted(norm, classes));
    case "fab-t":
      return unit("minimal", fabTargets(norm, classes));
    case "cw":
      only("l2");
      return unit("minimal", [carliniWagner(cw)]);
    case "square":
      return unit("black-box", [square({ norm })]);
    case "autoattack": {
      const plan = autoAttackStandard(norm, classes);
      return unit("ensemble", plan.components, plan.omitted);
    }
    default:
      throw new UsageError(`unknown attack '${name}'; choose from ${ATTACK_NAMES.join(", ")}`);
  }
}
