/**
 * The sweep's job graph over one results folder. Every step is one `deno task` CLI invocation (the CLIs are
 * the contract), finished when its output summary exists:
 *
 * ```
 * OUT/plan.json                         this plan (settings, models, jobs)
 * OUT/data/eval.safetensors             validation images at the model size + labels (attack input)
 * OUT/prep/<ROI>.h5                     nsd-prep            job "prep/<ROI>", shared by that ROI's models
 * OUT/predictors/<ROI>/summary.json     predictor           job "predictor/<ROI>", after its prep, shared by
 *                                                           that ROI's predictor-guided models (and shuffle)
 * OUT/gate.json                         sweep gate          job "gate", after every predictor: guided
 *   (OUT/gate_failed.json when it fails)                    models train only when it passes
 * OUT/models/<name>/summary.json        train               ┐ job "model/<name>", after its ROI's
 * OUT/attacks/<name>/<attack>.json      attack (one each)   │ predictor job and the gate (an oracle-taught
 *                                                           │ model: after its ROI's prep job only)
 * OUT/attacks/<name>/epoch_<k>/<attack>.json  first attack of   │ (ladder models: each earlier
 *                                       epochs/epoch_<k>    │  epoch's weights, k = 0 the initial ones)
 * OUT/analyses/features/<name>.safetensors  analyze features │ (eval set: avgpool, logits, neural_head, labels)
 * OUT/analyses/smoothness/<name>.json   analyze smoothness  │ (paper ε list, first --analysis-n images)
 * OUT/analyses/landscape/<name>.json    analyze landscape   │ (a few inputs, small grid)
 * OUT/analyses/shape_bias/<name>.json   analyze shape-bias  ┘ (SIM/cue_conflict)
 * OUT/analyses/transfer/<name>.json     attack --transfer   job "transfer/<name>", after every model
 * OUT/analyses/{rsa,cka,manifold}.json  analyze             job "representations", after every model
 * OUT/analyses/roi_features/<name>.safetensors  analyze features --stimuli ┐ brain-rsa, in "representations"
 * OUT/analyses/brain_rsa.json           analyze rsa --roi   ┘ (also after every predictor: the ROI files)
 * OUT/report.md                         report              job "report", after all of the above
 * OUT/logs/<job>.log                    the steps' output
 * ```
 * @module
 */
import { join, resolve } from "node:path";
import { UserError } from "../errors.ts";
import { BASELINES } from "../train/guided.ts";
import { type ModelSpec, predictorRois, preparedRois } from "./grid.ts";
import { EPOCHS_DIR } from "../train/guided_run.ts";

/** Settings shared by every job of a sweep (a resumed sweep must use the same ones). */
export interface SweepSettings {
  /** Simulated world (NSD layout) the ROIs and images come from. */
  sim: string;
  subject: number;
  arch: string;
  size: number;
  batch: number;
  /** Training epochs of every model whose grid entry sets none ({@link modelEpochs}). */
  epochs: number;
  /** Smallest area fraction of the guided models' RandomResizedCrop (`deno task train --crop-scale`). */
  cropScale: number;
  predictorEpochs: number;
  lr: number;
  alpha: number;
  wd: number;
  seed: number;
  /** Attack names for `deno task attack --attack`, one run each; empty: no attack stage. */
  attacks: string[];
  /** ε grid (`--eps`) and its units (`--eps-units`). */
  eps: string;
  epsUnits: string;
  /** Points attacked (`--n`); null: all validation images. */
  attackN: number | null;
  /** Analyses run, a subset of {@link ANALYSES} in that order; empty: no analysis steps. */
  analyses: Analysis[];
  /** Images for smoothness, transfer and (at most {@link LANDSCAPE_INPUTS}) landscapes. */
  analysisN: number;
  /** The few ε (same units as `eps`) at which PGD adversarials are transferred. */
  transferEps: string;
  /** Gate: each predictor's r must reach this fraction of its noise-ceiling r (lib/sweep/gate.ts). */
  gateFraction?: number;
  /** Whether a failed gate stops the guided models (false: they train anyway, the report says so). */
  gated?: boolean;
  /** Ladder models: attack the weights of every this-many-th epoch (default 1: every epoch). */
  ladderEvery?: number;
}

/** Every analysis the sweep can run, in the order of `--analyses`' default. */
export const ANALYSES = [
  "features",
  "smoothness",
  "landscape",
  "shape-bias",
  "transfer",
  "rsa",
  "cka",
  "manifold",
  "brain-rsa",
] as const;
/** One analysis name. */
export type Analysis = typeof ANALYSES[number];
/** Analyses over every model's features (one job), each needing the features step. */
export const CROSS_MODEL: readonly Analysis[] = ["rsa", "cka", "manifold"];
/** Landscapes are grid² forward passes per input: a few inputs and a coarse grid keep them cheap. */
export const LANDSCAPE_INPUTS = 4;
export const LANDSCAPE_GRID = 11;

/** Stages, in dependency order. */
export const STAGES = [
  "prep",
  "predictor",
  "gate",
  "model",
  "transfer",
  "representations",
  "report",
] as const;
/** A job's stage. */
export type Stage = typeof STAGES[number];

/** One CLI invocation. */
export interface Step {
  /** `deno task` name (file `tasks/<name with _>.ts`). */
  task: string;
  args: string[];
  /** The file whose existence marks the step finished; null: always run (the report). */
  done: string | null;
  /** The step writes a run folder (`--out DIR`) that a killed attempt may leave half-done. */
  runDir?: string;
  /**
   * Files of the run folder that later steps of the job read (the trained weights). A results folder kept
   * without weights (README, "Continuing a grid elsewhere") may lack them while a later step is unfinished:
   * the step then runs again, from scratch (training is deterministic, so the weights are the same).
   */
  weights?: string[];
}

/** A unit of scheduling: steps run in order; a job starts when its dependencies have finished. */
export interface Job {
  id: string;
  stage: Stage;
  deps: string[];
  steps: Step[];
}

/** The whole sweep, as written to `OUT/plan.json`. */
export interface SweepPlan {
  out: string;
  settings: SweepSettings;
  models: ModelSpec[];
  /** Stages not run, with why (shown to the user and in the report). */
  skipped: string[];
  jobs: Job[];
  /**
   * Content fingerprint (lib/io/fingerprint.ts) of the simulated world (`settings.sim`) the jobs read, set
   * when the sweep runs; a sweep resumed in this folder must find the same world ({@link checkSameWorld}).
   */
  world?: string;
}

/** The gate's verdict inside a results folder, once it let the guided models through. */
export function gatePath(out: string): string {
  return join(out, "gate.json");
}

/** The verdict of a gate that failed (and stopped the guided models). */
export function gateFailedPath(out: string): string {
  return join(out, "gate_failed.json");
}

/** Masking-probe points of models with `checks` (the attack's default). */
export const CHECK_POINTS = 32;

/** The eval set's path inside a results folder. */
export function evalDataPath(out: string): string {
  return join(out, "data", "eval.safetensors");
}

/** The attack report of a ladder model's weights after epoch `epoch`. */
export function ladderAttackPath(out: string, model: string, epoch: number, attack: string): string {
  return join(out, "attacks", model, `epoch_${epoch}`, `${attack}.json`);
}

/** A model's analysis output under `OUT/analyses/<kind>/` (`ext` without the dot). */
export function analysisPath(out: string, kind: string, model: string, ext = "json"): string {
  return join(out, "analyses", kind.replace(/-/g, "_"), `${model}.${ext}`);
}

/** The epochs model `m` trains: its grid entry's, else the sweep's. */
export function modelEpochs(m: ModelSpec, s: SweepSettings): number {
  return m.epochs ?? s.epochs;
}

/** The feature steps' and cross-model analyses' need: features are extracted when any of them is asked. */
function needsFeatures(analyses: readonly Analysis[]): boolean {
  return analyses.some((a) => a === "features" || CROSS_MODEL.includes(a));
}

/** Builds the job graph of `models` under `out` (made absolute, so jobs may run from any folder). */
export function buildPlan(outDir: string, settings: SweepSettings, models: ModelSpec[]): SweepPlan {
  const out = resolve(outDir);
  const s = settings;
  const common = ["--arch", s.arch, "--size", `${s.size}`, "--batch", `${s.batch}`, "--quiet"];
  const prepared = (roi: string) => join(out, "prep", `${roi}.h5`);
  const jobs: Job[] = preparedRois(models).map((roi) => ({
    id: `prep/${roi}`,
    stage: "prep",
    deps: [],
    steps: [{
      task: "nsd-prep",
      // the simulated world's PCA keeps the components above the noise (K ≈ 30, not the 95 % rule's ≈ 300)
      args: [
        ...["--nsd", s.sim, "--subject", `${s.subject}`, "--roi", roi, "--pca-signal"],
        ...["--out", prepared(roi), "--quiet"],
      ],
      done: prepared(roi),
    }],
  }));
  const predictors: Job[] = predictorRois(models).map((roi) => {
    const run = join(out, "predictors", roi);
    return {
      id: `predictor/${roi}`,
      stage: "predictor",
      deps: [`prep/${roi}`],
      steps: [{
        task: "predictor",
        args: [
          ...["--prepared", prepared(roi), "--nsd", s.sim, "--epochs", `${s.predictorEpochs}`],
          ...["--seed", `${s.seed}`, "--checkpoint-every", "1", "--out", run, ...common],
        ],
        done: join(run, "summary.json"),
        runDir: run,
      }],
    };
  });
  jobs.push(...predictors);
  const baselines = BASELINES as readonly string[];
  if (predictors.length) {
    jobs.push({
      id: "gate",
      stage: "gate",
      deps: predictors.map((j) => j.id),
      // gate.json exists only once the gate passed (or the sweep is ungated): a failed gate is decided again
      steps: [{ task: "sweep", args: ["gate", "--plan", join(out, "plan.json")], done: gatePath(out) }],
    });
  }
  for (const m of models) {
    const run = join(out, "models", m.name);
    const guided = !baselines.includes(m.roi);
    const epochs = modelEpochs(m, s);
    // the ladder: each earlier epoch's weights, from the initial ones (the last epoch is the model itself),
    // under the attack the report's statistics use: pgd when run, else the first
    const reference = s.attacks.includes("pgd") ? "pgd" : s.attacks[0];
    const every = s.ladderEvery ?? 1;
    // epoch 0 (the initial weights, at chance) is the floor that keeps a slow-learning control on the ladder
    const rungs = m.ladder && reference
      ? Array.from({ length: epochs }, (_, k) => k).filter((k) => k % every === 0)
      : [];
    const rungWeights = rungs.map((k) => join(run, EPOCHS_DIR, `epoch_${k}.safetensors`));
    const train: Step = {
      task: "train",
      args: [
        ...["--roi", m.roi, "--data", "sim", "--sim", s.sim, "--epochs", `${epochs}`, "--lr", `${s.lr}`],
        ...["--crop-scale", `${s.cropScale}`],
        ...["--alpha", `${m.alpha ?? s.alpha}`, "--wd", `${m.wd ?? s.wd}`, "--seed", `${m.seed ?? s.seed}`],
        ...(guided && !m.teacher ? ["--predictor", join(out, "predictors", m.roi)] : []),
        ...(m.teacher ? ["--teacher", m.teacher.kind, "--prepared", prepared(m.roi)] : []),
        ...(m.teacher?.eps === undefined ? [] : ["--teacher-eps", `${m.teacher.eps}`]),
        ...(m.shuffle ? ["--shuffle"] : []),
        ...(m.augment ? ["--augment", m.augment.kind, "--aug-eps", `${m.augment.eps}`] : []),
        ...(m.ladder ? ["--keep-epochs"] : []),
        ...["--checkpoint-every", "1", "--out", run, ...common],
      ],
      done: join(run, "summary.json"),
      runDir: run,
      weights: [join(run, "model.safetensors"), ...rungWeights],
    };
    const attack = (name: string, model: string, report: string, checks: boolean): Step => ({
      task: "attack",
      args: [
        ...["--model", model, "--data", evalDataPath(out), "--attack", name, "--eps", s.eps],
        ...["--eps-units", s.epsUnits, "--batch", `${s.batch}`, "--seed", `${m.seed ?? s.seed}`],
        ...(s.attackN === null ? [] : ["--n", `${s.attackN}`]),
        // the masking probes double the cost: only models that ask for them (the augmentation controls)
        ...["--check-n", checks ? `${CHECK_POINTS}` : "0", "--out", report, "--quiet"],
      ],
      done: report,
    });
    const attacks = s.attacks.map((name) =>
      attack(name, run, join(out, "attacks", m.name, `${name}.json`), m.checks ?? false)
    );
    const ladder = rungs.map((k, i) =>
      attack(reference, rungWeights[i], ladderAttackPath(out, m.name, k, reference), false)
    );
    jobs.push({
      id: `model/${m.name}`,
      stage: "model",
      // an oracle-taught model reads the ROI's prepared file only: no predictor, so no gate either
      deps: !guided ? [] : m.teacher ? [`prep/${m.roi}`] : [`predictor/${m.roi}`, "gate"],
      steps: [train, ...attacks, ...ladder, ...modelAnalyses(out, s, m, run)],
    });
  }
  const modelJobs = jobs.filter((j) => j.stage === "model").map((j) => j.id);
  if (s.analyses.includes("transfer") && models.length > 1) {
    for (const m of models) jobs.push(transferJob(out, s, m, models, modelJobs));
  }
  const cross = CROSS_MODEL.filter((a) => s.analyses.includes(a));
  const rois = preparedRois(models);
  const brain = s.analyses.includes("brain-rsa") && rois.length > 0
    ? brainRsaSteps(out, s, models, rois)
    : [];
  if (cross.length || brain.length) {
    jobs.push({
      id: "representations",
      stage: "representations",
      // brain-rsa reads every ROI's prepared file, written by the prep jobs
      deps: [...modelJobs, ...(brain.length ? rois.map((roi) => `prep/${roi}`) : [])],
      steps: [...cross.map((kind) => representationStep(out, kind, models)), ...brain],
    });
  }
  jobs.push({
    id: "report",
    stage: "report",
    deps: jobs.filter((j) => !["prep", "predictor", "gate"].includes(j.stage)).map((j) => j.id),
    steps: [{ task: "report", args: [out, "--quiet"], done: null }],
  });
  const skipped: string[] = [];
  if (s.attacks.length === 0) skipped.push("attacks: skipped (--attacks none)");
  const notRun = ANALYSES.filter((a) => !s.analyses.includes(a));
  if (notRun.length) skipped.push(`analyses not run: ${notRun.join(", ")} (--analyses)`);
  if (s.analyses.includes("transfer") && models.length < 2) {
    skipped.push("transfer: skipped (needs at least two models)");
  }
  if (s.analyses.includes("brain-rsa") && rois.length === 0) {
    skipped.push("brain-rsa: skipped (no ROI-guided model in the grid, so no prepared ROI file)");
  }
  return { out, settings, models, skipped, jobs };
}

/** The per-model analysis steps (after the attacks), each writing `OUT/analyses/<kind>/<model>.*`. */
function modelAnalyses(out: string, s: SweepSettings, m: ModelSpec, run: string): Step[] {
  const data = ["--model", run, "--data", evalDataPath(out)];
  const seed = ["--seed", `${m.seed ?? s.seed}`];
  const batch = ["--batch", `${s.batch}`];
  const step = (kind: Analysis, args: string[], ext = "json"): Step => {
    const file = analysisPath(out, kind, m.name, ext);
    return { task: "analyze", args: [kind, ...args, "--out", file], done: file };
  };
  const steps: Step[] = [];
  if (needsFeatures(s.analyses)) steps.push(step("features", [...data, ...batch], "safetensors"));
  if (s.analyses.includes("smoothness")) {
    steps.push(step("smoothness", [...data, ...seed, ...fewImages(s, s.analysisN)]));
  }
  if (s.analyses.includes("landscape")) {
    const n = Math.min(s.analysisN, LANDSCAPE_INPUTS);
    steps.push(step("landscape", [...data, ...seed, ...fewImages(s, n), "--grid", `${LANDSCAPE_GRID}`]));
  }
  if (s.analyses.includes("shape-bias")) {
    const cueConflict = join(s.sim, "cue_conflict");
    steps.push(step("shape-bias", ["--model", run, "--cue-conflict", cueConflict, ...batch]));
  }
  return steps;
}

/**
 * `--n N` with a GPU batch no larger than N: the batch is fixed, so a batch of 32 for 8 images would pay
 * for 32 through every attack step.
 */
function fewImages(s: SweepSettings, n: number): string[] {
  return ["--n", `${n}`, "--batch", `${Math.min(s.batch, n)}`];
}

/** PGD adversarials crafted on `source` at a few ε, scored on every other model. */
function transferJob(
  out: string,
  s: SweepSettings,
  source: ModelSpec,
  models: ModelSpec[],
  deps: string[],
): Job {
  const report = analysisPath(out, "transfer", source.name);
  const targets = models.filter((m) => m !== source).map((m) => join(out, "models", m.name));
  return {
    id: `transfer/${source.name}`,
    stage: "transfer",
    deps,
    steps: [{
      task: "attack",
      args: [
        ...["--model", join(out, "models", source.name), "--data", evalDataPath(out), "--attack", "pgd"],
        ...["--eps", s.transferEps, "--eps-units", s.epsUnits, ...fewImages(s, s.analysisN)],
        ...["--seed", `${source.seed ?? s.seed}`, "--transfer", targets.join(",")],
        ...["--check-n", "0", "--out", report, "--quiet"],
      ],
      done: report,
    }],
  };
}

/**
 * One cross-model analysis over every model's eval-set features: avgpool of each model plus the neural head
 * of guided models (inputs are named `<model>:<tensor>`); manifold geometry per class with the labels.
 */
function representationStep(out: string, kind: Analysis, models: ModelSpec[]): Step {
  const features = (m: ModelSpec) => analysisPath(out, "features", m.name, "safetensors");
  // every model but None trains a neural head (random's regresses a random predictor); manifold geometry
  // is compared with each model's robustness, so it reads the classifier's own features only
  const inputs = models.flatMap((m) => [
    `${features(m)}:avgpool`,
    ...(kind !== "manifold" && m.roi !== "none" ? [`${features(m)}:neural_head`] : []),
  ]);
  const extra = kind === "rsa"
    ? ["--mds", "2"]
    : kind === "manifold"
    ? ["--labels", `${features(models[0])}:labels`]
    : [];
  const file = join(out, "analyses", `${kind}.json`);
  return {
    task: "analyze",
    args: [kind, ...inputs.flatMap((spec) => ["--features", spec]), ...extra, "--out", file],
    done: file,
  };
}

/**
 * Model × ROI RSA: each model's avgpool features on the prepared ROI files' validation stimuli (the subject's
 * shared images, the same in every ROI file; read from the first ROI's file), then one `analyze rsa` of every
 * model against every ROI's PCA scores on those stimuli.
 */
function brainRsaSteps(out: string, s: SweepSettings, models: ModelSpec[], rois: string[]): Step[] {
  const prepared = (roi: string) => join(out, "prep", `${roi}.h5`);
  const features = (m: ModelSpec) => analysisPath(out, "roi_features", m.name, "safetensors");
  const extract: Step[] = models.map((m) => ({
    task: "analyze",
    args: [
      ...["features", "--model", join(out, "models", m.name), "--stimuli", prepared(rois[0])],
      ...["--nsd", s.sim, "--batch", `${s.batch}`, "--out", features(m)],
    ],
    done: features(m),
  }));
  const file = join(out, "analyses", "brain_rsa.json");
  return [...extract, {
    task: "analyze",
    args: [
      "rsa",
      ...models.flatMap((m) => ["--features", `${features(m)}:avgpool`]),
      ...rois.flatMap((roi) => ["--roi", prepared(roi)]),
      ...["--out", file],
    ],
    done: file,
  }];
}

/** The jobs of one stage, in plan order (Slurm array index = position). */
export function stageJobs(plan: SweepPlan, stage: Stage): Job[] {
  return plan.jobs.filter((j) => j.stage === stage);
}

/** A job's log file. */
export function logPath(plan: SweepPlan, job: Job): string {
  return join(plan.out, "logs", `${job.id.replace(/\//g, "_")}.log`);
}

/** Per-model settings a finished model was trained with: the grid's value, else the sweep's. */
function effectiveModel(m: ModelSpec, s: SweepSettings): Record<string, unknown> {
  return {
    roi: m.roi,
    shuffle: m.shuffle,
    alpha: m.alpha ?? s.alpha,
    wd: m.wd ?? s.wd,
    seed: m.seed ?? s.seed,
    // an older plan.json's models lack `epochs`: they trained the sweep's, so such folders stay usable
    epochs: modelEpochs(m, s),
    teacher: m.teacher ?? "predictor",
    augment: m.augment ?? null,
  };
}

/**
 * A results folder must not mix settings: `plan` (to be run) is compared with `previous` (the plan.json
 * already there, named `file`), setting by setting and then model by model (the same name with another ROI,
 * α, weight decay, seed, epochs, shuffle, teacher or augmentation would keep the finished model's results
 * under the new values). Three exceptions keep finished work usable: `analyses` may change (analysis steps
 * only add outputs; finished ones are skipped), a setting the earlier plan lacks is one added since, which
 * that sweep never used, and the world's path `sim` may change when the earlier plan has the world's
 * fingerprint (a folder continued on another machine): the world itself is then compared by its bytes
 * ({@link checkSameWorld}). Models may be added or left out.
 */
export function checkSamePlan(plan: SweepPlan, previous: SweepPlan, file: string): void {
  const before = previous.settings as unknown as Record<string, unknown>;
  const now = plan.settings as unknown as Record<string, unknown>;
  const changed = Object.keys(now).filter((k) =>
    k !== "analyses" && !(k === "sim" && previous.world) && k in before &&
    JSON.stringify(before[k]) !== JSON.stringify(now[k])
  );
  if (changed.length) {
    throw new UserError(
      `${file}: this folder holds a sweep with other settings (${changed.join(", ")}); use another --out`,
    );
  }
  const earlier = new Map((previous.models ?? []).map((m) => [m.name, effectiveModel(m, previous.settings)]));
  for (const m of plan.models) {
    const old = earlier.get(m.name);
    if (!old) continue;
    const current = effectiveModel(m, plan.settings);
    const key = Object.keys(current).find((k) => JSON.stringify(old[k]) !== JSON.stringify(current[k]));
    if (key) {
      throw new UserError(
        `${file}: model '${m.name}' was planned with ${key} ${JSON.stringify(old[key])}, the grid now says ` +
          `${JSON.stringify(current[key])}; rename the model, use another --out, or delete ` +
          `${join(plan.out, "models", m.name)} to retrain it`,
      );
    }
  }
}

/**
 * The finished jobs in a results folder read the world `previous.world` names: a sweep resumed there (on
 * another machine, with the world regenerated, say) must find the same bytes, `world`. A plan without a
 * fingerprint predates it and is taken as it is.
 */
export function checkSameWorld(previous: SweepPlan | null, world: string, file: string): void {
  if (!previous?.world || previous.world === world) return;
  throw new UserError(
    `${file}: the finished jobs here read a simulated world with fingerprint ${previous.world}, but ` +
      `the world now has ${world}; regenerate it with the options it was made with ` +
      `(its sim_world.json), or use another --out`,
  );
}
