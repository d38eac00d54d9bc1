/**
 * `deno task sweep`: the paper's grid (or a user grid) end to end — per ROI nsd-prep → predictor, then the
 * guided models, their attacks and analyses, the cross-model analyses, and the report — locally or as Slurm
 * job arrays. See `--help`.
 * @module
 */
import { join, resolve } from "node:path";
import { numberFlag, parseFlags } from "../lib/cli/args.ts";
import { UsageError, UserError } from "../lib/errors.ts";
import { runMain } from "../lib/cli/main.ts";
import { formatSeconds } from "../lib/cli/progress.ts";
import { ensureSimWorld } from "../lib/data/synth/mod.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { ARCHITECTURES } from "../lib/nn/models.ts";
import { writeEvalData } from "../lib/sweep/eval_data.ts";
import { paperGrid, parseGrid } from "../lib/sweep/grid.ts";
import { runLocal } from "../lib/sweep/local.ts";
import {
  ANALYSES,
  type Analysis,
  buildPlan,
  evalDataPath,
  LANDSCAPE_GRID,
  LANDSCAPE_INPUTS,
  type Stage,
  stageJobs,
  STAGES,
  type SweepPlan,
} from "../lib/sweep/plan.ts";
import { parseEpsGrid } from "./attack.ts";
import { children, runJob } from "../lib/sweep/run_job.ts";
import { dryRunText, slurmScripts, submitSlurm, waitForJobs } from "../lib/sweep/slurm.ts";

const HELP = `deno task sweep [options]

Runs a grid of models end to end into one results folder: per ROI, nsd-prep → predictor (shared by that ROI's
models and its shuffle control); per model, deno task train → deno task attack (one run per attack) →
deno task analyze features, smoothness, landscape, shape-bias; once every model is trained, a transfer job per
model (PGD crafted on it, scored on all the others) and one job for RSA, CKA and manifold geometry over every
model's features; then deno task report. Every step is a child process of those CLIs and is skipped when its output exists, so a
sweep killed at any point resumes where it stopped (same --out, same settings).

Grid:
  --grid paper|FILE    paper (default; with no options at all the sweep only prints what it would do and its
                       estimated time): None, random, V1_shuffle, TO_shuffle, V1, V2, V4, VO, PHC, LO, TO.
                       FILE: JSON {"models": [{"name": "TO", "roi": "TO", "shuffle": false, "alpha": 0.9,
                       "wd": 0.0005, "seed": 0}, …]}; name and roi required (roi: none, random or an ROI)
  --wd                 paper grid: add the weight-decay controls WD_0.003 … WD_0.01 (roi none)
  --seeds N            paper grid: every model with seeds 0…N−1 (default 1)

Training (small models by default, for the simulated world on a CPU adapter):
  --sim DIR            simulated world (default data/sim; generated if missing)
  --subject N          (default 1)
  --arch NAME          ${Object.keys(ARCHITECTURES).join(" | ")} (default resnet-tiny)
  --size PX            (default 32)       --batch N      (default 32)
  --epochs N           guided-model epochs (default 4)  --predictor-epochs N   (default 4)
  --crop-scale X       smallest RandomResizedCrop area of the guided models (default 0.35: torchvision's 0.08
                       crops away the silhouette that defines a simulated-world class at 32 px)
  --lr X               (default 0.05)     --alpha X      (default 0.9)
  --weight-decay X     (default 0.0005)   --seed N       (default 0)

Attacks (deno task attack, L∞, ε in the paper's normalised units by default):
  --attacks LIST       comma-separated attack names, or none (default pgd,fgsm)
  --eps GRID           (default 0.001:0.019:0.002, the paper's L∞ grid)
  --eps-units U        normalized | pixel (default normalized)
  --attack-n N         validation images attacked (default 64; all: 0)

Analyses (into OUT/analyses/, each JSON with its CSV twin):
  --analyses LIST      comma-separated, or none (default all: features,smoothness,landscape,shape-bias,
                       transfer,rsa,cka,manifold,brain-rsa)
                         features    features/<model>.safetensors: avgpool, logits, neural_head, labels of
                                     the eval set (also run whenever rsa, cka or manifold is asked)
                         smoothness  smoothness/<model>.json: the paper's ε list 0.08 … 0.38 (normalised)
                         landscape   landscape/<model>.json: ${LANDSCAPE_INPUTS} inputs (at most --analysis-n),
                                     ${LANDSCAPE_GRID}×${LANDSCAPE_GRID} grid
                         shape-bias  shape_bias/<model>.json: on SIM/cue_conflict
                         transfer    transfer/<model>.json: PGD at the first, middle and last ε of --eps
                         rsa, cka, manifold   rsa.json (with 2-D MDS), cka.json, manifold.json over every
                                     model's avgpool (+ neural_head for rsa and cka)
                         brain-rsa   brain_rsa.json: every model's avgpool RDM against every ROI's RDM on
                                     the ROI files' validation stimuli (model × ROI)
  --analysis-n N       images for smoothness, landscape and transfer (default 8: smoothness is 5 ε × 40 PGD
                       steps per image, ~65 s per model for 16 images at 32 px on a busy 2-core CPU adapter)

Execution:
  --out DIR            results folder (default runs/sweep)
  --executor E         local | slurm (default local)
  --jobs N             local: jobs in parallel (default 1)
  --partition P, --time T, --cpus N, --gpus N, --mem M
                       slurm: resources of every task (each emitted only when given)
  --throttle N         slurm: array tasks running at once (default 4)
  --dry-run            slurm: print the scripts and the submission commands, submit nothing
  --wait               slurm: wait until the jobs have left the queue; exit 1 without a report
  --quiet              no progress
  -h, --help           this text

Writes OUT/plan.json, OUT/data/eval.safetensors, OUT/logs/<job>.log, the run folders (see lib/sweep/plan.ts),
OUT/report.md. Exit codes: 0 ok, 1 error (one line), 2 usage error.

Internal (what each Slurm array task runs): deno task sweep job --plan OUT/plan.json --stage S --index I`;

const FLAGS = {
  grid: { type: "string" },
  wd: { type: "boolean" },
  seeds: { type: "string" },
  sim: { type: "string" },
  subject: { type: "string" },
  arch: { type: "string" },
  size: { type: "string" },
  batch: { type: "string" },
  epochs: { type: "string" },
  "crop-scale": { type: "string" },
  "predictor-epochs": { type: "string" },
  lr: { type: "string" },
  alpha: { type: "string" },
  "weight-decay": { type: "string" },
  seed: { type: "string" },
  attacks: { type: "string" },
  eps: { type: "string" },
  "eps-units": { type: "string" },
  "attack-n": { type: "string" },
  analyses: { type: "string" },
  "analysis-n": { type: "string" },
  out: { type: "string" },
  executor: { type: "string" },
  jobs: { type: "string" },
  partition: { type: "string" },
  time: { type: "string" },
  cpus: { type: "string" },
  gpus: { type: "string" },
  mem: { type: "string" },
  throttle: { type: "string" },
  "dry-run": { type: "boolean" },
  wait: { type: "boolean" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

async function main(args: string[]): Promise<void> {
  if (args[0] === "job") return await jobCommand(args.slice(1));
  const { values: v } = parseFlags(args, FLAGS);
  if (v.help) return console.log(HELP);
  const num = (name: string, fallback: number, opts: Parameters<typeof numberFlag>[2] = {}) =>
    v[name] === undefined ? fallback : numberFlag(name, v[name], opts);
  const str = (name: string, fallback: string) => (v[name] as string | undefined) ?? fallback;

  const grid = str("grid", "paper");
  if (grid !== "paper" && (v.wd || v.seeds !== undefined)) {
    throw new UsageError("--wd and --seeds apply to --grid paper; put them in the grid file instead");
  }
  const models = grid === "paper"
    ? paperGrid({ wd: Boolean(v.wd), seeds: num("seeds", 1, { integer: true, min: 1 }) })
    : parseGrid(
      await Deno.readTextFile(grid).catch(() => {
        throw new UsageError(`--grid: cannot read '${grid}' (paper, or a JSON grid file; see --help)`);
      }),
      grid,
    );
  const arch = str("arch", "resnet-tiny");
  if (!(arch in ARCHITECTURES)) {
    throw new UsageError(`--arch: unknown '${arch}'; choose ${Object.keys(ARCHITECTURES).join(", ")}`);
  }
  const attacksFlag = str("attacks", "pgd,fgsm");
  const epsUnits = str("eps-units", "normalized");
  if (!["normalized", "pixel"].includes(epsUnits)) {
    throw new UsageError(`--eps-units: expected normalized or pixel, got '${epsUnits}'`);
  }
  const attackN = num("attack-n", 64, { integer: true, min: 0 });
  const analyses = analysesFlag(str("analyses", ANALYSES.join(",")));
  const eps = str("eps", "0.001:0.019:0.002");
  const settings = {
    sim: resolve(str("sim", "data/sim")),
    subject: num("subject", 1, { integer: true, min: 1, max: 8 }),
    arch,
    size: num("size", 32, { integer: true, min: 8, max: 1024 }),
    batch: num("batch", 32, { integer: true, min: 2 }),
    epochs: num("epochs", 4, { integer: true, min: 1 }),
    cropScale: num("crop-scale", 0.35, { min: 0.01, max: 1 }),
    predictorEpochs: num("predictor-epochs", 4, { integer: true, min: 1 }),
    lr: num("lr", 0.05, { min: 0 }),
    alpha: num("alpha", 0.9, { min: 0, max: 1 }),
    wd: num("weight-decay", 5e-4, { min: 0 }),
    seed: num("seed", 0, { integer: true, min: 0 }),
    attacks: attacksFlag === "none" ? [] : attacksFlag.split(",").map((a) => a.trim()).filter(Boolean),
    eps,
    epsUnits,
    attackN: attackN === 0 ? null : attackN,
    analyses,
    analysisN: num("analysis-n", 8, { integer: true, min: 1 }),
    transferEps: fewEps(eps),
  };
  const executor = str("executor", "local");
  if (executor !== "local" && executor !== "slurm") {
    throw new UsageError(`--executor: expected local or slurm, got '${executor}'`);
  }
  const plan = buildPlan(str("out", "runs/sweep"), settings, models);
  // The paper grid takes most of an hour on a CPU: with no arguments, say what it would do and stop.
  if (args.length === 0) return console.log(previewText(plan));
  const say = (text: string) => v.quiet || console.error(`sweep: ${text}`);

  if (executor === "slurm" && v["dry-run"]) {
    console.log(dryRunText(slurmScripts(plan, slurmOptions(v, num))));
    return;
  }
  await checkSameSettings(plan);
  say(`${models.length} models, ${stageJobs(plan, "predictor").length} predictors → ${plan.out}`);
  for (const line of plan.skipped) say(line);
  await ensureSimWorld(settings.sim);
  if (settings.attacks.length || analyses.length) {
    const n = await writeEvalData(settings.sim, settings.size, evalDataPath(plan.out));
    if (n !== null) say(`evaluation set: ${n} validation images at ${settings.size} px`);
  }
  await writeFileAtomic(join(plan.out, "plan.json"), JSON.stringify(plan, null, 2) + "\n");

  if (executor === "local") {
    stopChildrenOnSignal();
    const jobs = num("jobs", 1, { integer: true, min: 1 });
    const result = await runLocal(plan, { jobs, quiet: Boolean(v.quiet) });
    console.log(
      `sweep: ${result.ran} steps run, ${result.skippedJobs} jobs already finished, in ${
        formatSeconds(result.seconds)
      }; report → ${join(plan.out, "report.md")}`,
    );
    return;
  }
  const ids = await submitSlurm(plan, slurmScripts(plan, slurmOptions(v, num)));
  console.log(
    `sweep: submitted ${Object.entries(ids).map(([stage, id]) => `${stage} ${id}`).join(", ")}` +
      ` (afterok chain); logs in ${join(plan.out, "logs", "slurm")}`,
  );
  if (v.wait) {
    await waitForJobs(Object.values(ids));
    const report = join(plan.out, "report.md");
    if (!(await Deno.stat(report).catch(() => null))) {
      throw new UserError(`the Slurm jobs ended without ${report}; see ${join(plan.out, "logs")}`);
    }
    console.log(`sweep: done; report → ${report}`);
  }
}

/** Measured: the default paper grid (11 models) on 2 CPU cores with Mesa's software adapter. */
const PAPER_GRID_MINUTES_CPU = 45;

/** What `deno task sweep` with no arguments prints instead of starting the paper grid. */
function previewText(plan: SweepPlan): string {
  const predictors = stageJobs(plan, "predictor").length;
  const s = plan.settings;
  return [
    "deno task sweep with no arguments starts nothing. `deno task sweep --grid paper` would run the paper grid:",
    `  ${plan.models.length} models (${
      plan.models.map((m) => m.name).join(", ")
    }) and ${predictors} predictors,`,
    `  ${s.arch} at ${s.size} px, ${s.epochs} epochs (predictors ${s.predictorEpochs}), on the simulated world`,
    `  ${s.sim} (generated if missing);`,
    `  attacks ${s.attacks.join(", ") || "none"} at ε ${s.eps} (${s.epsUnits} units) on ${
      s.attackN ?? "all"
    } images; analyses ${s.analyses.join(", ") || "none"};`,
    `  into ${plan.out}, about ${PAPER_GRID_MINUTES_CPU} min on 2 CPU cores with the software adapter ` +
    `(measured), much less on a GPU.`,
    "Start it with --grid paper (or any option, e.g. --out DIR); deno task sweep --help lists the options.",
  ].join("\n");
}

/** `--analyses`: none, or names from {@link ANALYSES}, returned in that order. */
function analysesFlag(text: string): Analysis[] {
  if (text === "none") return [];
  const names = text.split(",").map((a) => a.trim()).filter(Boolean);
  const unknown = names.find((a) => !(ANALYSES as readonly string[]).includes(a));
  if (unknown !== undefined || names.length === 0) {
    throw new UsageError(
      `--analyses: unknown '${unknown ?? text}'; choose none or from ${ANALYSES.join(",")}`,
    );
  }
  return ANALYSES.filter((a) => names.includes(a));
}

/** The first, middle and last ε of `--eps` (the transfer matrix needs a few, not the whole grid). */
function fewEps(grid: string): string {
  const values = parseEpsGrid(grid);
  const picked = [values[0], values[Math.floor((values.length - 1) / 2)], values[values.length - 1]];
  return [...new Set(picked)].join(",");
}

function slurmOptions(
  v: Record<string, unknown>,
  num: (name: string, fallback: number, opts?: Parameters<typeof numberFlag>[2]) => number,
) {
  return {
    partition: v.partition as string | undefined,
    time: v.time as string | undefined,
    cpus: v.cpus === undefined ? undefined : num("cpus", 1, { integer: true, min: 1 }),
    gpus: v.gpus === undefined ? undefined : num("gpus", 0, { integer: true, min: 0 }),
    mem: v.mem as string | undefined,
    throttle: num("throttle", 4, { integer: true, min: 1 }),
  };
}

/**
 * A results folder must not mix settings: compare with the plan already there. Two exceptions keep finished
 * work usable: `--analyses` may change (analysis steps only add outputs; finished ones are skipped), and a
 * setting the earlier plan lacks is one added since, which that sweep never used.
 */
async function checkSameSettings(plan: SweepPlan): Promise<void> {
  const file = join(plan.out, "plan.json");
  const text = await Deno.readTextFile(file).catch(() => null);
  if (text === null) return;
  const before = (JSON.parse(text) as SweepPlan).settings as unknown as Record<string, unknown>;
  const now = plan.settings as unknown as Record<string, unknown>;
  const changed = Object.keys(now).filter((k) =>
    k !== "analyses" && k in before && JSON.stringify(before[k]) !== JSON.stringify(now[k])
  );
  if (changed.length) {
    throw new UserError(
      `${file}: this folder holds a sweep with other settings (${changed.join(", ")}); use another --out`,
    );
  }
}

/** Children would outlive a plain exit; stop them so a resumed sweep does not race them. */
function stopChildrenOnSignal(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      for (const child of children) child.kill("SIGTERM");
      console.error(`sweep: stopped by ${signal}; run the same command again to resume`);
      Deno.exit(1);
    });
  }
}

/** `job --plan FILE --stage S --index I`: one job of the plan (a Slurm array task). */
async function jobCommand(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
    plan: { type: "string" },
    stage: { type: "string" },
    index: { type: "string" },
  });
  if (!values.plan || !values.stage || values.index === undefined) {
    throw new UsageError("job: --plan, --stage and --index are required");
  }
  const stage = values.stage as Stage;
  if (!STAGES.includes(stage)) throw new UsageError(`job: --stage must be one of ${STAGES.join(", ")}`);
  const plan = JSON.parse(await Deno.readTextFile(values.plan as string)) as SweepPlan;
  const jobs = stageJobs(plan, stage);
  const index = numberFlag("index", values.index, { integer: true, min: 0, max: jobs.length - 1 });
  stopChildrenOnSignal();
  const outcome = await runJob(plan, jobs[index]);
  if (!outcome.ok) throw new UserError(outcome.error ?? `${jobs[index].id} failed`);
  console.log(`sweep job ${jobs[index].id}: ${outcome.ran} steps run`);
}

if (import.meta.main) await runMain("sweep", () => main(Deno.args));
