/**
 * The controls grid read the way the README's pre-registration says, so that the report states the verdict
 * instead of leaving it to whoever reads the table: (1) the positive control, None trained with FGSM-RS,
 * needs a matched gain whose CI lies above 0 and every gradient-masking probe passed; (2) the guaranteed
 * positive, the student trained on x + δ towards brain(x + δ) on the invariant TO, needs a CI above 0; (3)
 * the negatives, the same construction on the sensitive V1 and every `oracle-shuffled` teacher, need CIs
 * that cover 0. (4) The predictor-guided comparison is read only when every counted control in the grid holds
 * and the gate passed; otherwise it is inconclusive (the grid cannot detect a gain of that size), which is not
 * "no effect".
 *
 * The construction of (2) and V1's negative has three designs, one per amendment (`DESIGN_TEXT`, in that
 * order): random δ (`oracle-perturbed`), δ against the student's head seen by the whole student
 * (`oracle-adversarial`), and that δ seen by the neural head only (`oracle-adversarial-head`). The latest
 * design in the grid is counted; the earlier ones are still judged against the same expectation but shown as
 * superseded and not counted. Amendment 5: where the grid has the head-only construction's sham
 * (`oracle-adversarial-sham`: the target moves with the student's head), the construction is judged by the
 * paired contrast head − sham, which shares everything but the target: on TO it is the guaranteed positive,
 * on V1 a negative, and the head and sham models themselves count for nothing.
 * @module
 */
import { type ModelSpec, predictorRois } from "../sweep/grid.ts";
import type { GateVerdict } from "../sweep/gate.ts";
import {
  configOf,
  type ConfigStats,
  type HeadShamPair,
  headShamPairs,
  type ShamContrast,
} from "./matched.ts";
import type { OracleMode } from "../train/oracle_teacher.ts";

/** What a control is in the pre-registration. */
export type ControlRole = "positive control" | "guaranteed positive" | "negative";

/** One pre-registered control and how it came out. */
export interface ControlCheck {
  role: ControlRole;
  /** A configuration, or a head/sham pair as `head − sham`. */
  config: string;
  /** The head/sham pair judged by its contrast (amendment 5); null for a single configuration. */
  pair: HeadShamPair | null;
  /** The pre-registered outcome, in words (saying so when the check is not counted). */
  expected: string;
  /** Whether it counts towards the verdict (false: an earlier design, superseded by an amendment). */
  counted: boolean;
  /** The guaranteed positive's construction (a key of `DESIGN_TEXT`), or null for the other controls. */
  design: OracleMode | null;
  /** What is judged: the matched gain, or for a pair the difference of the two (null: not available). */
  gain: number | null;
  ci: { lo: number; hi: number } | null;
  /** `untestable`: no matched gain (the model's clean accuracy lies outside the None ladder). */
  outcome: "holds" | "fails" | "untestable";
  /** Why it did not hold (empty when it did). */
  why: string;
}

/** The controls' verdict and whether the predictor-guided comparison may be read. */
export interface ControlsVerdict {
  checks: ControlCheck[];
  /** Every counted control holds and the gate passed (a grid without predictor-guided models needs none). */
  readable: boolean;
  /** Pre-registered roles this grid has no counted configuration for. */
  missing: ControlRole[];
}

/** The ROIs the pre-registration names: the invariant one (guaranteed positive) and the sensitive one. */
const INVARIANT_ROI = "TO", SENSITIVE_ROI = "V1";

/** Each design of the guaranteed positive's construction, in the amendments' order, and its δ in words. */
export const DESIGN_TEXT: Partial<Record<OracleMode, string>> = {
  "oracle-perturbed": "a random δ",
  "oracle-adversarial": "δ against the student's own head, seen by the whole student",
  "oracle-adversarial-head": "that δ seen by the head only",
};
const DESIGNS = Object.keys(DESIGN_TEXT) as OracleMode[];

/** The head-only construction's sham (amendment 4); since amendment 5 its pair's baseline. */
const SHAM: OracleMode = "oracle-adversarial-sham";
const HEAD: OracleMode = "oracle-adversarial-head";

/** The role of a configuration's first model, or null when it is not a pre-registered control. */
function roleOf(spec: ModelSpec): ControlRole | null {
  if (spec.roi === "none" && spec.augment?.kind === "fgsm-rs") return "positive control";
  const teacher = spec.teacher?.kind;
  if (teacher === "oracle-shuffled") return "negative";
  return teacher && DESIGNS.includes(teacher) ? roiRole(spec.roi) : null;
}

/** The construction's role on an ROI: a guaranteed positive on the invariant one, a negative on V1. */
function roiRole(roi: string): ControlRole | null {
  return roi === INVARIANT_ROI ? "guaranteed positive" : roi === SENSITIVE_ROI ? "negative" : null;
}

/** Roles in the pre-registration's order. */
const ROLES: ControlRole[] = ["positive control", "guaranteed positive", "negative"];

const EXPECTED: Record<ControlRole, string> = {
  "positive control": "CI above 0, masking probes pass",
  "guaranteed positive": "CI above 0",
  "negative": "CI covers 0",
};

/**
 * Reads the statistics rows (and the head − sham contrasts of amendment 5) against the pre-registration; null
 * when the grid has no pre-registered control. `gate` matters only when the grid has predictor-guided models.
 *
 * @example
 * ```ts
 * import { controlsVerdict } from "./controls.ts";
 * const row = { config: "None_fgsm-rs", seeds: 3, images: 500, clean: 0.14, robust: 0.13,
 *   robustOverClean: 0.9, normalizeAcc: 0.9, baseline: 0.11, gain: 0.02,
 *   ci: { lo: 0.003, hi: 0.058, reps: 2000, dropped: 0 }, failedChecks: [] };
 * const augment = { kind: "fgsm-rs" as const, eps: 0.0043 };
 * const spec = { name: "None_fgsm-rs", roi: "none", shuffle: false, augment };
 * const verdict = controlsVerdict([row], [spec], null);
 * console.log(verdict?.checks[0].outcome, verdict?.readable); // holds true
 * ```
 */
export function controlsVerdict(
  configs: ConfigStats[],
  specs: ModelSpec[],
  gate: GateVerdict | null,
  shamContrasts: ShamContrast[] = [],
): ControlsVerdict | null {
  // the latest design in the grid takes the roles; the earlier ones are shown, not counted
  const latest = Math.max(...specs.map((m) => DESIGNS.indexOf(m.teacher?.kind as OracleMode)));
  // amendment 5: with a sham in the grid, the head-only construction counts only through its pair
  const paired = specs.some((m) => m.teacher?.kind === SHAM);
  const checks: ControlCheck[] = [];
  for (const row of configs) {
    const spec = specs.find((m) => configOf(m.name) === row.config);
    const role = spec && roleOf(spec);
    if (!role || (paired && spec.teacher?.kind === HEAD)) continue;
    const design = DESIGNS.indexOf(spec.teacher?.kind as OracleMode);
    const superseded = design >= 0 && design !== latest;
    checks.push({
      role,
      config: row.config,
      pair: null,
      expected: superseded
        ? `${EXPECTED[role]} (earlier design, superseded by an amendment: not counted)`
        : EXPECTED[role],
      counted: !superseded,
      design: design < 0 ? null : DESIGNS[design],
      ...judge(role, row.gain, row.ci, row),
    });
  }
  const attacked = (config: string) => configs.some((r) => r.config === config);
  for (const pair of headShamPairs(specs)) {
    const { roi, head, sham } = pair;
    const role = roiRole(roi);
    if (!role || !attacked(head) || !attacked(sham)) continue;
    const contrast = shamContrasts.find((c) => c.to === head && c.from === sham) ?? null;
    checks.push({
      role,
      config: `${head} − ${sham}`,
      pair,
      expected: `head − sham: ${EXPECTED[role]}`,
      counted: true,
      design: null,
      ...judge(role, contrast?.difference ?? null, contrast?.ci ?? null, null),
    });
  }
  if (checks.length === 0) return null;
  // the counted checks first, each group in the pre-registration's order
  checks.sort((a, b) =>
    Number(b.counted) - Number(a.counted) || ROLES.indexOf(a.role) - ROLES.indexOf(b.role)
  );
  const counted = checks.filter((c) => c.counted);
  const guided = predictorRois(specs).length > 0;
  return {
    checks,
    readable: counted.every((c) => c.outcome === "holds") && (!guided || gate?.pass === true),
    missing: ROLES.filter((r) => !counted.some((c) => c.role === r)),
  };
}

/** Judges a gain and its CI against the role; `row` (a configuration's) also brings the masking probes. */
function judge(
  role: ControlRole,
  gain: number | null,
  ci: { lo: number; hi: number } | null,
  row: ConfigStats | null,
): Pick<ControlCheck, "gain" | "ci" | "outcome" | "why"> {
  const judged = { gain, ci };
  const fails = (why: string) => ({ ...judged, outcome: "fails" as const, why });
  if (gain === null || ci === null) {
    const why = row
      ? `no matched gain: its clean accuracy ${row.clean.toFixed(3)} lies outside the None ladder`
      : "no matched gain for the head or its sham (clean accuracy outside the None ladder)";
    return { ...judged, outcome: "untestable", why };
  }
  const range = `CI [${ci.lo.toFixed(3)}, ${ci.hi.toFixed(3)}]`;
  const holds = { ...judged, outcome: "holds" as const, why: "" };
  if (role === "negative") return ci.lo <= 0 && ci.hi >= 0 ? holds : fails(`${range} excludes 0`);
  if (ci.lo <= 0) return fails(`${range} does not lie above 0`);
  if (role === "positive control") {
    if (row?.failedChecks === null) return fails("the masking probes did not run");
    if (row?.failedChecks.length) return fails(`masking probes failed: ${row.failedChecks.join(", ")}`);
  }
  return holds;
}
