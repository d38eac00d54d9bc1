/**
 * The sweep's job graph over one results folder. Every step is one `deno task` CLI invocation (the CLIs are
 * the contract), finished when its output summary exists:
 *
 * ```
 * OUT/plan.json                         this plan (settings, models, jobs)
 * OUT/data/eval.safetensors             validation images at the model size + labels (attack input)
 * OUT/prep/<ROI>.h5                     nsd-prep            ┐ job "predictor/<ROI>", shared by that ROI's
 * OUT/predictors/<ROI>/summary.json     predictor           ┘ models (and its shuffle control)
 * OUT/models/<name>/summary.json        train               ┐ job "model/<name>", after its ROI's
 * OUT/attacks/<name>/<attack>.json      attack (one each)   ┘ predictor job
 * OUT/report.md                         report              job "report", after every model
 * OUT/logs/<job>.log                    the steps' output
 * ```
 * @module
 */
import { join, resolve } from "node:path";
import { BASELINES } from "../train/guided.ts";
import { type ModelSpec, predictorRois } from "./grid.ts";

/** Settings shared by every job of a sweep (a resumed sweep must use the same ones). */
export interface SweepSettings {
  /** Simulated world (NSD layout) the ROIs and images come from. */
  sim: string;
  subject: number;
  arch: string;
  size: number;
  batch: number;
  /** Guided-model epochs. */
  epochs: number;
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
}

/** Stages, in dependency order. */
export const STAGES = ["predictor", "model", "report"] as const;
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
}

/** Why the analysis stage is absent (printed by the sweep, quoted by the report). */
export const ANALYSES_SKIPPED =
  "analyses: skipped — no CLI extracts model features or cue-conflict decisions " +
  "yet (deno task analyze needs --features / --predictions files); results placed in OUT/analyses/ are " +
  "reported";

/** The eval set's path inside a results folder. */
export function evalDataPath(out: string): string {
  return join(out, "data", "eval.safetensors");
}

/** Builds the job graph of `models` under `out` (made absolute, so jobs may run from any folder). */
export function buildPlan(outDir: string, settings: SweepSettings, models: ModelSpec[]): SweepPlan {
  const out = resolve(outDir);
  const s = settings;
  const common = ["--arch", s.arch, "--size", `${s.size}`, "--batch", `${s.batch}`, "--quiet"];
  const jobs: Job[] = predictorRois(models).map((roi) => {
    const prepared = join(out, "prep", `${roi}.h5`);
    const run = join(out, "predictors", roi);
    return {
      id: `predictor/${roi}`,
      stage: "predictor",
      deps: [],
      steps: [
        {
          task: "nsd-prep",
          args: ["--nsd", s.sim, "--subject", `${s.subject}`, "--roi", roi, "--out", prepared, "--quiet"],
          done: prepared,
        },
        {
          task: "predictor",
          args: [
            ...["--prepared", prepared, "--nsd", s.sim, "--epochs", `${s.predictorEpochs}`],
            ...["--seed", `${s.seed}`, "--checkpoint-every", "1", "--out", run, ...common],
          ],
          done: join(run, "summary.json"),
          runDir: run,
        },
      ],
    };
  });
  const baselines = BASELINES as readonly string[];
  for (const m of models) {
    const run = join(out, "models", m.name);
    const guided = !baselines.includes(m.roi);
    const train: Step = {
      task: "train",
      args: [
        ...["--roi", m.roi, "--data", "sim", "--sim", s.sim, "--epochs", `${s.epochs}`, "--lr", `${s.lr}`],
        ...["--alpha", `${m.alpha ?? s.alpha}`, "--wd", `${m.wd ?? s.wd}`, "--seed", `${m.seed ?? s.seed}`],
        ...(guided ? ["--predictor", join(out, "predictors", m.roi)] : []),
        ...(m.shuffle ? ["--shuffle"] : []),
        ...["--checkpoint-every", "1", "--out", run, ...common],
      ],
      done: join(run, "summary.json"),
      runDir: run,
    };
    const attacks: Step[] = s.attacks.map((attack) => {
      const report = join(out, "attacks", m.name, `${attack}.json`);
      return {
        task: "attack",
        args: [
          ...["--model", run, "--data", evalDataPath(out), "--attack", attack, "--eps", s.eps],
          ...["--eps-units", s.epsUnits, "--batch", `${s.batch}`, "--seed", `${m.seed ?? s.seed}`],
          ...(s.attackN === null ? [] : ["--n", `${s.attackN}`]),
          // the masking probes double the cost; the report reads the ε sweep only
          ...["--check-n", "0", "--out", report, "--quiet"],
        ],
        done: report,
      };
    });
    jobs.push({
      id: `model/${m.name}`,
      stage: "model",
      deps: guided ? [`predictor/${m.roi}`] : [],
      steps: [train, ...attacks],
    });
  }
  jobs.push({
    id: "report",
    stage: "report",
    deps: jobs.filter((j) => j.stage === "model").map((j) => j.id),
    steps: [{ task: "report", args: [out, "--quiet"], done: null }],
  });
  const skipped = [ANALYSES_SKIPPED];
  if (s.attacks.length === 0) skipped.unshift("attacks: skipped (--attacks none)");
  return { out, settings, models, skipped, jobs };
}

/** The jobs of one stage, in plan order (Slurm array index = position). */
export function stageJobs(plan: SweepPlan, stage: Stage): Job[] {
  return plan.jobs.filter((j) => j.stage === stage);
}

/** A job's log file. */
export function logPath(plan: SweepPlan, job: Job): string {
  return join(plan.out, "logs", `${job.id.replace(/\//g, "_")}.log`);
}
