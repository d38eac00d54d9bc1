/**
 * Model grids of a sweep: the paper's (docs/method.md#baselines-and-controls: None, Random, V1-/TO-shuffle
 * and the seven ROIs, plus optional weight-decay controls and seeds) or a user grid from JSON.
 *
 * User grid schema (JSON):
 * ```json
 * { "models": [
 *     { "name": "None", "roi": "none", "ladder": true, "epochs": 6 },
 *     { "name": "TO", "roi": "TO", "alpha": 0.9 },
 *     { "name": "TO_shuffle", "roi": "TO", "shuffle": true },
 *     { "name": "WD_0.003", "roi": "none", "wd": 0.003, "seed": 1 } ] }
 * ```
 * `name` (required, unique; letters, digits, `._-`) names the model's folders; `roi` (required) is
 * `none`, `random` or an nsd-prep ROI name; `shuffle` (default false) is the shuffle control (the model
 * trains against that ROI's predictor, which sees another image); `alpha` (in [0, 1]), `wd`, `seed` (an
 * integer) and `epochs` (a positive integer) override the sweep's flags for that model (a None ladder with
 * more epochs than the others reaches their clean accuracy); `augment` (`noise` | `fgsm-rs`, with `aug_eps`
 * in pixel units, default 8/255) trains with that augmentation; `ladder: true` keeps and attacks every
 * epoch's weights (the None ladder the report places models on at matched clean accuracy); `checks: true`
 * runs the attack's gradient-masking probes; `teacher` (`oracle` | `oracle-shuffled` | `oracle-perturbed` |
 * `oracle-adversarial`, with `teacher_eps`, the δ radius in pixel units of `oracle-perturbed` and
 * `oracle-adversarial`, default 8/255) makes the simulated brain itself the teacher of that ROI: no
 * predictor, only the ROI's prepared file (`deno task train --teacher`), and no gate.
 * @module
 */
import { UserError } from "../errors.ts";
import { ROI_DEFINITIONS } from "../data/nsd/roi.ts";
import { BASELINES } from "../train/guided.ts";
import { type Augmentation, AUGMENTATIONS } from "../train/augment.ts";
import { ORACLE_EPSILON, type OracleMode, PERTURBING_MODES, TEACHERS } from "../train/oracle_teacher.ts";

/** The oracle teachers a grid entry may name (`deno task train --teacher`, all but the predictor). */
export const ORACLE_TEACHERS = TEACHERS.filter((t): t is OracleMode => t !== "predictor");

/** The simulated brain as a model's teacher; `eps`: the δ radius (pixel units) of the kinds that take one. */
export interface OracleTeacherSpec {
  kind: OracleMode;
  eps?: number;
}

/** One model of the grid. */
export interface ModelSpec {
  name: string;
  /** `none`, `random` or an ROI name (then it needs that ROI's predictor, or its prepared file with `teacher`). */
  roi: string;
  shuffle: boolean;
  alpha?: number;
  wd?: number;
  seed?: number;
  /**
   * Training epochs of this model (the sweep's --epochs otherwise); a None ladder trained longer than the
   * other models reaches their clean accuracy.
   */
  epochs?: number;
  /** Robustness augmentation of its training batches (`deno task train --augment`). */
  augment?: Augmentation;
  /** Keep and attack every epoch's weights: a None checkpoint ladder for matched clean accuracy. */
  ladder?: boolean;
  /** Run the attack's gradient-masking probes on it (`deno task attack --check-n`). */
  checks?: boolean;
  /** The simulated brain as the teacher instead of the ROI's predictor (`deno task train --teacher`). */
  teacher?: OracleTeacherSpec;
}

/** Models in the paper's figure order: baselines, controls, then the ventral hierarchy. */
export const PAPER_ORDER = [
  "None",
  "random",
  "V1_shuffle",
  "TO_shuffle",
  "V1",
  "V2",
  "V4",
  "VO",
  "PHC",
  "LO",
  "TO",
] as const;

/** Weight decays of the smoothness-matched controls (docs/method.md#baselines-and-controls). */
export const PAPER_WD = [0.003, 0.004, 0.005, 0.007, 0.01] as const;

/**
 * The paper's grid; `wd` adds the weight-decay controls, `seeds` > 1 repeats every model with seeds
 * 0…seeds−1 (suffix `_s<seed>` from seed 1 on, so seed 0 keeps the paper's names).
 */
export function paperGrid({ wd = false, seeds = 1 } = {}): ModelSpec[] {
  const base: ModelSpec[] = PAPER_ORDER.map((name) => {
    const shuffle = name.endsWith("_shuffle");
    const roi = name === "None" ? "none" : shuffle ? name.replace("_shuffle", "") : name;
    return { name, roi, shuffle };
  });
  if (wd) base.push(...PAPER_WD.map((w) => ({ name: `WD_${w}`, roi: "none", shuffle: false, wd: w })));
  return withSeeds(base, seeds);
}

/** Every model with seeds 0…seeds−1 (suffix `_s<seed>` from seed 1 on, so seed 0 keeps the names). */
export function withSeeds(models: readonly ModelSpec[], seeds: number): ModelSpec[] {
  const out: ModelSpec[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    out.push(...models.map((m) => seed === 0 ? { ...m } : { ...m, name: `${m.name}_s${seed}`, seed }));
  }
  return out;
}

/**
 * Every model that is guided (α matters: an ROI or random) once per α, suffixed `_a<α>` when there are
 * several; the others once. α is the CE/MSE balance: L = (1 − α)·CE + α·MSE.
 */
export function withAlphas(models: readonly ModelSpec[], alphas: readonly number[]): ModelSpec[] {
  return models.flatMap((m) =>
    m.roi === "none" || alphas.length < 2
      ? [{ ...m, ...(m.roi !== "none" && alphas.length ? { alpha: alphas[0] } : {}) }]
      : alphas.map((alpha) => ({ ...m, name: `${m.name}_a${alpha}`, alpha }))
  );
}

/** Parses and validates a user grid (schema in the module doc); `file` names it in errors. */
export function parseGrid(text: string, file: string): ModelSpec[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not JSON (${(e as Error).message})`);
  }
  const models = (json as { models?: unknown })?.models;
  if (!Array.isArray(models) || models.length === 0) {
    throw new UserError(`${file}: expected {"models": [{"name": …, "roi": …}, …]} with at least one model`);
  }
  const rois = new Set([...BASELINES, ...Object.keys(ROI_DEFINITIONS)]);
  const seen = new Set<string>();
  return models.map((raw, i) => {
    const where = `${file}: models[${i}]`;
    const m = raw as Record<string, unknown>;
    if (typeof m?.name !== "string" || !/^[A-Za-z0-9._-]+$/.test(m.name)) {
      throw new UserError(`${where}: "name" must be a string of letters, digits, '.', '_' or '-'`);
    }
    if (seen.has(m.name)) throw new UserError(`${where}: duplicate name '${m.name}'`);
    seen.add(m.name);
    if (typeof m.roi !== "string" || !rois.has(m.roi)) {
      throw new UserError(`${where}: "roi" must be one of ${[...rois].join(", ")}`);
    }
    const shuffle = m.shuffle ?? false;
    if (typeof shuffle !== "boolean") throw new UserError(`${where}: "shuffle" must be true or false`);
    if (shuffle && (BASELINES as readonly string[]).includes(m.roi)) {
      throw new UserError(`${where}: "shuffle" needs an ROI predictor, not '${m.roi}'`);
    }
    const spec: ModelSpec = { name: m.name, roi: m.roi, shuffle };
    for (const key of ["ladder", "checks"] as const) {
      if (m[key] === undefined) continue;
      if (typeof m[key] !== "boolean") throw new UserError(`${where}: "${key}" must be true or false`);
      spec[key] = m[key];
    }
    if (m.augment !== undefined) {
      if (!(AUGMENTATIONS as readonly unknown[]).includes(m.augment)) {
        throw new UserError(`${where}: "augment" must be one of ${AUGMENTATIONS.join(", ")}`);
      }
      const eps = m.aug_eps ?? 8 / 255;
      if (typeof eps !== "number" || !(eps > 0 && eps <= 1)) {
        throw new UserError(`${where}: "aug_eps" must be a number in (0, 1] (pixel units)`);
      }
      spec.augment = { kind: m.augment as Augmentation["kind"], eps };
    } else if (m.aug_eps !== undefined) throw new UserError(`${where}: "aug_eps" needs "augment"`);
    if (m.teacher !== undefined) spec.teacher = parseTeacher(m, where);
    else if (m.teacher_eps !== undefined) throw new UserError(`${where}: "teacher_eps" needs "teacher"`);
    const ranges = {
      alpha: { min: 0, max: 1, integer: false, what: "a number in [0, 1]" },
      wd: { min: 0, max: Infinity, integer: false, what: "a non-negative number" },
      seed: { min: 0, max: Infinity, integer: true, what: "a non-negative integer" },
      epochs: { min: 1, max: Infinity, integer: true, what: "a positive integer" },
    };
    for (const [key, range] of Object.entries(ranges) as [keyof typeof ranges, typeof ranges.alpha][]) {
      if (m[key] === undefined) continue;
      const v = m[key];
      if (
        typeof v !== "number" || !Number.isFinite(v) || v < range.min || v > range.max ||
        (range.integer && !Number.isInteger(v))
      ) {
        throw new UserError(`${where}: "${key}" must be ${range.what}, got ${JSON.stringify(v)}`);
      }
      spec[key] = v;
    }
    return spec;
  });
}

/** A grid entry's `teacher` and `teacher_eps` (the entry is `m`, named `where` in errors). */
function parseTeacher(m: Record<string, unknown>, where: string): OracleTeacherSpec {
  if (!(ORACLE_TEACHERS as readonly unknown[]).includes(m.teacher)) {
    throw new UserError(`${where}: "teacher" must be one of ${ORACLE_TEACHERS.join(", ")}`);
  }
  const kind = m.teacher as OracleMode;
  if ((BASELINES as readonly unknown[]).includes(m.roi)) {
    throw new UserError(`${where}: "teacher" needs an ROI (the simulated brain's), not '${m.roi}'`);
  }
  if (m.shuffle === true) {
    throw new UserError(`${where}: "shuffle" applies to a predictor; use "teacher": "oracle-shuffled"`);
  }
  if (!PERTURBING_MODES.includes(kind)) {
    if (m.teacher_eps !== undefined) {
      const kinds = PERTURBING_MODES.map((t) => `"${t}"`).join(", ");
      throw new UserError(`${where}: "teacher_eps" needs "teacher" to be one of ${kinds}`);
    }
    return { kind };
  }
  const eps = m.teacher_eps ?? ORACLE_EPSILON;
  if (typeof eps !== "number" || !(eps > 0 && eps <= 1)) {
    throw new UserError(`${where}: "teacher_eps" must be a number in (0, 1] (pixel units)`);
  }
  return { kind, eps };
}

/** ROIs whose prepared file the grid needs (every ROI-guided or oracle-taught model), in first-use order. */
export function preparedRois(models: readonly ModelSpec[]): string[] {
  const baselines = BASELINES as readonly string[];
  return [...new Set(models.map((m) => m.roi).filter((r) => !baselines.includes(r)))];
}

/** ROIs whose predictor the grid needs (oracle-taught models need none), in first-use order. */
export function predictorRois(models: readonly ModelSpec[]): string[] {
  return preparedRois(models.filter((m) => !m.teacher));
}
