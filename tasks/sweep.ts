/**
 * `deno task sweep`: the paper's grid (or a user grid) end to end — per ROI nsd-prep → predictor, then the
 * guided models, their attacks and analyses, the cross-model analyses, and the report — locally or as Slurm
 * job arrays. See `--help`.
 * @module
 */
import { join, resolve } from "node:path";
import { forFlag, numberFlag, parseFlags } from "../lib/cli/args.ts";
import { UsageError, UserError } from "../lib/errors.ts";
import { runMain } from "../lib/cli/main.ts";
import { formatSeconds, progressReporter } from "../lib/cli/progress.ts";
import { ensureSimWorld, resolveSimWorldOptions } from "../lib/data/synth/mod.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { FolderLock } from "../lib/io/lock.ts";
import { checkOutputPath } from "../lib/io/output_path.ts";
import { ATTACK_NAMES } from "../lib/attacks/registry.ts";
import { ARCHITECTURES, modelConfig } from "../lib/nn/models.ts";
import { softwareAdapterWarning } from "../lib/nn/cost.ts";
import { writeEvalData } from "../lib/sweep/eval_data.ts";
import { paperGrid, parseGrid, predictorRois, withAlphas } from "../lib/sweep/grid.ts";
import { PAPER_SETTINGS, PRESETS } from "../lib/sweep/presets.ts";
import { GATE_FRACTION, runGate } from "../lib/sweep/gate.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { runLocal } from "../lib/sweep/local.ts";
import { folderFingerprint } from "../lib/io/fingerprint.ts";
import { parseEpsGrid } from "../lib/attacks/eps_grid.ts";
import {
  ANALYSES,
  type Analysis,
  buildPlan,
  checkSamePlan,
  checkSameWorld,
  evalDataPath,
  gateFailedPath,
  gatePath,
  LANDSCAPE_GRID,
  LANDSCAPE_INPUTS,
  modelEpochs,
  type Stage,
  stageJobs,
  STAGES,
  type SweepPlan,
} from "../lib/sweep/plan.ts";
import { children, runJob } from "../lib/sweep/run_job.ts";
import { dryRunText, slurmScripts, submitSlurm, waitForJobs } from "../lib/sweep/slurm.ts";

const HELP = `deno task sweep [options]

Runs a grid of models end to end into one results folder: per ROI, nsd-prep → predictor (shared by that ROI's
models and its shuffle control); per model, deno task train → deno task attack (one run per attack) →
deno task analyze features, smoothness, landscape, shape-bias; once every model is trained, a transfer job per
model (PGD crafted on it, scored on all the others) and one job for RSA, CKA and manifold geometry over every
model's features; then deno task report. Every step is a child process of those CLIs and is skipped when
its output exists, so a sweep killed at any point resumes where it stopped (same --out, same settings).

Grid:
  --preset NAME        a grid with its settings (flags below still override them):
                         controls   None (with its checkpoint ladder), None_ladder (5 epochs, the
                                    ladder models are placed on), None + FGSM-RS (at the attacked ε,
                                    0.0043 in pixels, with the gradient-masking probes), the oracle
                                    teachers (no predictor, no gate): TO_oracle, V1_oracle,
                                    TO_/V1_oracle-adversarial-head (δ one FGSM step of 8/255 against the
                                    student's head, seen by the head only), their shams
                                    TO_/V1_oracle-adversarial-sham (the target moves with the head),
                                    TO_/V1_oracle-adversarial (that δ seen by the whole student),
                                    TO_/V1_oracle-perturbed (δ random ±8/255), TO_oracle-shuffled, and
                                    the predictor-guided V1 and TO at α 0.5, each with 3 seeds (48
                                    models); PGD at ε 0.019 on 500 images, 3 epochs, no analyses; world
                                    data/sim-controls (50 validation images per class), predictors 6
                                    epochs. About 2 h 30 min on 2 CPU cores with the software adapter
                                    (see the README); resumable
                         controls-long  amendment 5 of the README: None_ladder (10 epochs, every 2nd
                                    attacked), TO_oracle-adversarial-head and its sham (their paired
                                    contrast is the guaranteed positive), TO_oracle-shuffled, then the
                                    predictor-guided V1 and TO, trained 8 epochs, 3 seeds (18 models);
                                    the controls' world, attack and predictors. About 2 h 10 min on 2
                                    CPU cores
                         paper-gpu  the paper's grid with the weight-decay controls at α 0.5 and 0.9, the
                                    None ladder and the augmentation controls, 3 seeds, at the paper's
                                    scale: resnet18, 224 px, batch 256, 60 epochs, predictor 40 epochs,
                                    lr 0.1, crop 0.08, PGD + FGSM on every validation image, the ladder
                                    every 5 epochs (one GPU)
  --grid paper|FILE    paper (default; with no options at all the sweep only prints what it would do and its
                       estimated time): None, random, V1_shuffle, TO_shuffle, V1, V2, V4, VO, PHC, LO, TO.
                       FILE: JSON {"models": [{"name": "TO", "roi": "TO", "shuffle": false, "alpha": 0.9,
                       "wd": 0.0001, "seed": 0, "epochs": 4}, …]}; name and roi required (roi: none, random
                       or an ROI); "epochs" overrides --epochs for that model (a None ladder trained longer
                       reaches the others' clean accuracy); optional "augment": "noise"|"fgsm-rs" with
                       "aug_eps" (pixel units), "ladder": true (keep and attack every epoch: the None
                       ladder), "checks": true (masking probes), "teacher": "oracle"|"oracle-shuffled"|
                       "oracle-perturbed"|"oracle-adversarial"|"oracle-adversarial-head"|
                       "oracle-adversarial-sham" (the simulated brain teaches the ROI: no predictor, no
                       gate), with "teacher_eps" (pixel units) for the last four
  --wd                 paper grid: add the weight-decay controls WD_0.003 … WD_0.01 (roi none)
  --seeds N            paper grid or preset: every model with seeds 0…N−1 (default 1; presets 3)
  --alphas LIST        paper grid: every guided model once per α (comma list, e.g. 0.5,0.9; names get
                       _a<α>); α is the CE/MSE balance, L = (1 − α)·CE + α·MSE
  --ladder-every N     ladder models (the None ladder of matched clean accuracy): attack every N-th
                       epoch's weights (default 1; paper-gpu 5)

Gate (before the predictor-guided models; see lib/sweep/gate.ts):
  --gate-fraction X    each ROI predictor's r must reach X × its noise-ceiling r, and the predictors'
                       sensitivities to ±2/255 must be ordered like the simulated ROIs' (default 0.5)
  --ungated            train the guided models even when the gate fails (the report still says so)

Training (scaled down by default for the simulated world on a CPU adapter: the paper trains resnet18 at
224 px, batch 256, 60 epochs, predictor 40 epochs, lr 0.1, crop 0.08; the report header lists every
setting of a run that differs from the paper's):
  --sim DIR            simulated world (default data/sim; generated if missing)
  --subject N          (default 1)
  --arch NAME          ${Object.keys(ARCHITECTURES).join(" | ")} (default resnet-tiny)
  --size PX            (default 32)       --batch N      (default 32)
  --epochs N           guided-model epochs (default 4)  --predictor-epochs N   (default 4)
  --crop-scale X       smallest RandomResizedCrop area of the guided models (default 0.35: torchvision's 0.08
                       crops away the silhouette that defines a simulated-world class at 32 px)
  --lr X               (default 0.05)     --alpha X      (default 0.9)
  --weight-decay X     (default 0.0001, the paper's)   --seed N       (default 0)

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
OUT/report.md. plan.json records the simulated world's fingerprint (SHA-256 over its files): a sweep resumed
with a different world is refused. A folder kept without the models' weights (README, "Continuing a grid
elsewhere") continues too: a model with an unfinished attack is trained again.
Exit codes: 0 ok, 1 error (one line), 2 usage error.

Internal (what each Slurm array task runs): deno task sweep job --plan OUT/plan.json --stage S --index I;
the gate job runs deno task sweep gate --plan OUT/plan.json (writes OUT/gate.json).`;

const FLAGS = {
  preset: { type: "string" },
  alphas: { type: "string" },
  "gate-fraction": { type: "string" },
  "ladder-every": { type: "string" },
  ungated: { type: "boolean" },
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
  if (args[0] === "gate") return await gateCommand(args.slice(1));
  const { values: v } = parseFlags(args, FLAGS);
  if (v.help) return console.log(HELP);
  const num = (name: string, fallback: number, opts: Parameters<typeof numberFlag>[2] = {}) =>
    v[name] === undefined ? fallback : numberFlag(name, v[name], opts);
  const str = (name: string, fallback: string) => (v[name] as string | undefined) ?? fallback;

  const presetName = v.preset as string | undefined;
  const preset = presetName === undefined ? undefined : PRESETS[presetName];
  if (presetName !== undefined && !preset) {
    throw new UsageError(`--preset: unknown '${presetName}'; choose ${Object.keys(PRESETS).join(", ")}`);
  }
  if (preset && (v.grid !== undefined || v.wd || v.alphas !== undefined)) {
    throw new UsageError("--preset brings its own grid: drop --grid, --wd and --alphas");
  }
  const grid = str("grid", "paper");
  if (grid !== "paper" && (v.wd || v.seeds !== undefined || v.alphas !== undefined)) {
    throw new UsageError(
      "--wd, --seeds and --alphas apply to --grid paper; put them in the grid file instead",
    );
  }
  const seeds = num("seeds", preset?.seeds ?? 1, { integer: true, min: 1 });
  const alphas = v.alphas === undefined
    ? []
    : (v.alphas as string).split(",").map((a) => numberFlag("alphas", a.trim(), { min: 0, max: 1 }));
  const models = preset
    ? preset.models(seeds)
    : grid === "paper"
    ? withAlphas(paperGrid({ wd: Boolean(v.wd), seeds }), alphas)
    : parseGrid(
      await Deno.readTextFile(grid).catch(() => {
        throw new UsageError(`--grid: cannot read '${grid}' (paper, or a JSON grid file; see --help)`);
      }),
      grid,
    );
  const p = preset?.settings ?? {};
  const arch = str("arch", p.arch ?? "resnet-tiny");
  if (!(arch in ARCHITECTURES)) {
    throw new UsageError(`--arch: unknown '${arch}'; choose ${Object.keys(ARCHITECTURES).join(", ")}`);
  }
  const attacksFlag = str("attacks", p.attacks ? p.attacks.join(",") || "none" : "pgd,fgsm");
  const attacks = attacksFlag === "none" ? [] : attacksFlag.split(",").map((a) => a.trim()).filter(Boolean);
  const unknownAttack = attacks.find((a) => !(ATTACK_NAMES as readonly string[]).includes(a));
  if (unknownAttack !== undefined) {
    throw new UsageError(
      `--attacks: unknown attack '${unknownAttack}'; choose none or from ${ATTACK_NAMES.join(", ")}`,
    );
  }
  const epsUnits = str("eps-units", "normalized");
  if (!["normalized", "pixel"].includes(epsUnits)) {
    throw new UsageError(`--eps-units: expected normalized or pixel, got '${epsUnits}'`);
  }
  const attackN = num("attack-n", p.attackN === undefined ? 64 : p.attackN ?? 0, { integer: true, min: 0 });
  const analyses = analysesFlag(
    str("analyses", p.analyses ? p.analyses.join(",") || "none" : ANALYSES.join(",")),
  );
  const eps = str("eps", p.eps ?? "0.001:0.019:0.002");
  const settings = {
    sim: resolve(str("sim", preset?.sim ?? "data/sim")),
    subject: num("subject", 1, { integer: true, min: 1, max: 8 }),
    arch,
    size: num("size", p.size ?? 32, { integer: true, min: 8, max: 1024 }),
    batch: num("batch", p.batch ?? 32, { integer: true, min: 2 }),
    epochs: num("epochs", p.epochs ?? 4, { integer: true, min: 1 }),
    cropScale: num("crop-scale", p.cropScale ?? 0.35, { min: 0.01, max: 1 }),
    predictorEpochs: num("predictor-epochs", p.predictorEpochs ?? 4, { integer: true, min: 1 }),
    lr: num("lr", p.lr ?? 0.05, { min: 0 }),
    alpha: num("alpha", p.alpha ?? 0.9, { min: 0, max: 1 }),
    wd: num("weight-decay", PAPER_SETTINGS.wd, { min: 0 }),
    seed: num("seed", 0, { integer: true, min: 0 }),
    attacks,
    eps,
    epsUnits,
    attackN: attackN === 0 ? null : attackN,
    analyses,
    analysisN: num("analysis-n", p.analysisN ?? 8, { integer: true, min: 1 }),
    transferEps: fewEps(eps),
    ladderEvery: num("ladder-every", p.ladderEvery ?? 1, { integer: true, min: 1 }),
    gateFraction: num("gate-fraction", GATE_FRACTION, { min: 0, max: 1 }),
    gated: !v.ungated,
  };
  const executor = str("executor", "local");
  if (executor !== "local" && executor !== "slurm") {
    throw new UsageError(`--executor: expected local or slurm, got '${executor}'`);
  }
  // every setting is checked before anything is written (a rerun must not rewrite plan.json first)
  const jobs = num("jobs", 1, { integer: true, min: 1 });
  const slurm = slurmOptions(v, num);
  const plan = buildPlan(str("out", "runs/sweep"), settings, models);
  // The paper grid takes most of an hour on a CPU: with no arguments, say what it would do and stop.
  if (args.length === 0) return console.log(previewText(plan));
  const say = (text: string) => v.quiet || console.error(`sweep: ${text}`);

  if (executor === "slurm" && v["dry-run"]) {
    console.log(dryRunText(slurmScripts(plan, slurm)));
    return;
  }
  await checkOutputPath(plan.out, "--out", "folder");
  const previous = await readPreviousPlan(plan);
  // one sweep per results folder at a time (the run folders inside have their own locks)
  const lock = await FolderLock.acquire(plan.out);
  try {
    const valPerClass = preset?.valPerClass;
    await runSweep(plan, executor, {
      jobs,
      slurm,
      quiet: Boolean(v.quiet),
      wait: Boolean(v.wait),
      valPerClass,
      previous,
    }, say);
  } finally {
    lock.release();
  }
}

/** Writes the evaluation set and plan.json, then runs the plan locally or submits it to Slurm. */
async function runSweep(
  plan: SweepPlan,
  executor: "local" | "slurm",
  o: {
    jobs: number;
    slurm: ReturnType<typeof slurmOptions>;
    quiet: boolean;
    wait: boolean;
    /** Validation images per class of a preset's world. */
    valPerClass?: number;
    /** The plan.json already in the folder, if any: its world must be this one. */
    previous: SweepPlan | null;
  },
  say: (text: string) => void,
): Promise<void> {
  const { settings, models } = plan;
  const analyses = settings.analyses;
  say(`${models.length} models, ${stageJobs(plan, "predictor").length} predictors → ${plan.out}`);
  for (const line of plan.skipped) say(line);
  const worldOptions = o.valPerClass === undefined ? {} : { valPerClass: o.valPerClass };
  if (executor === "local") {
    // Said before the world is generated: a GPU-scale grid should not cost minutes before it says so.
    const world = resolveSimWorldOptions(worldOptions);
    const config = modelConfig(settings.arch, { classes: world.classes, imageSize: settings.size });
    const stepsPerEpoch = Math.floor((world.classes * world.trainPerClass) / settings.batch);
    const epochs = models.reduce((sum, m) => sum + modelEpochs(m, settings), 0);
    const slow = softwareAdapterWarning(
      (await getGpu()).kind,
      settings.arch,
      config,
      settings.batch,
      stepsPerEpoch * epochs,
      "--preset controls is the grid for this machine",
    );
    if (slow) console.error(`sweep: ${slow}`); // a warning, shown with --quiet too
  }
  await ensureSimWorld(settings.sim, { progress: progressReporter("sweep", o.quiet), ...worldOptions });
  plan.world = await folderFingerprint(settings.sim);
  checkSameWorld(o.previous, plan.world, join(plan.out, "plan.json"));
  if (settings.attacks.length || analyses.length || stageJobs(plan, "gate").length) {
    const n = await writeEvalData(settings.sim, settings.size, evalDataPath(plan.out));
    if (n !== null) say(`evaluation set: ${n} validation images at ${settings.size} px`);
  }
  await writeFileAtomic(join(plan.out, "plan.json"), JSON.stringify(plan, null, 2) + "\n");

  if (executor === "local") {
    stopChildrenOnSignal();
    const result = await runLocal(plan, { jobs: o.jobs, progress: progressReporter("sweep", o.quiet) }).catch(
      async (e) => {
        // a failed gate (or job) blocks the report job: report what finished, then fail
        const report = plan.jobs.find((j) => j.stage === "report")!;
        await runJob(plan, report);
        throw e;
      },
    );
    console.log(
      `sweep: ${result.ran} steps run, ${result.skippedJobs} jobs already finished, in ${
        formatSeconds(result.seconds)
      }; report → ${join(plan.out, "report.md")}`,
    );
    return;
  }
  const ids = await submitSlurm(plan, slurmScripts(plan, o.slurm));
  console.log(
    `sweep: submitted ${Object.entries(ids).map(([stage, id]) => `${stage} ${id}`).join(", ")}` +
      ` (afterok chain); logs in ${join(plan.out, "logs", "slurm")}`,
  );
  if (o.wait) {
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
  const values = forFlag("--eps:", () => parseEpsGrid(grid));
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
 * The plan.json already in `plan.out` (null: none). A rerun into the same folder must plan what the finished
 * work was done with (see `checkSamePlan`).
 */
async function readPreviousPlan(plan: SweepPlan): Promise<SweepPlan | null> {
  const file = join(plan.out, "plan.json");
  const text = await Deno.readTextFile(file).catch(() => null);
  if (text === null) return null;
  let previous: SweepPlan;
  try {
    previous = JSON.parse(text);
  } catch {
    throw new UserError(`${file}: not JSON (damaged); delete it to replan this folder, or use another --out`);
  }
  checkSamePlan(plan, previous, file);
  return previous;
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

/**
 * `gate --plan FILE`: decides the gate over the plan's predictors, writes OUT/gate.json and fails (so the
 * guided models do not start) unless it passes or the plan is ungated.
 */
async function gateCommand(args: string[]): Promise<void> {
  const { values } = parseFlags(args, { plan: { type: "string" } });
  if (!values.plan) throw new UsageError("gate: --plan is required");
  const plan = JSON.parse(await Deno.readTextFile(values.plan as string)) as SweepPlan;
  const rois = predictorRois(plan.models);
  const verdict = await runGate(await getGpu(), {
    predictors: Object.fromEntries(rois.map((roi) => [roi, join(plan.out, "predictors", roi)])),
    prepared: Object.fromEntries(rois.map((roi) => [roi, join(plan.out, "prep", `${roi}.h5`)])),
    sim: plan.settings.sim,
    evalData: evalDataPath(plan.out),
  }, plan.settings.gateFraction ?? GATE_FRACTION);
  // gate.json marks the gate step finished: written only when the guided models may train
  const letThrough = verdict.pass || plan.settings.gated === false;
  const [keep, drop] = letThrough
    ? [gatePath(plan.out), gateFailedPath(plan.out)]
    : [gateFailedPath(plan.out), gatePath(plan.out)];
  await writeFileAtomic(keep, JSON.stringify(verdict, null, 2) + "\n");
  await Deno.remove(drop).catch(() => {});
  for (const line of verdict.reasons) console.error(`gate: ${line}`);
  if (verdict.pass) return console.log(`gate: passed (${rois.join(", ")})`);
  if (letThrough) {
    return console.log("gate: FAILED; --ungated: the guided models train anyway, the report flags them");
  }
  throw new UserError(
    `gate FAILED: the predictor-guided models are not trained and the hierarchy test is uninterpretable ` +
      `(${verdict.reasons.join("; ")}); see ${gateFailedPath(plan.out)}`,
  );
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
  const planFile = values.plan as string;
  const planText = await Deno.readTextFile(planFile).catch(() => {
    throw new UsageError(`--plan ${planFile}: cannot read it (the plan.json of a sweep's results folder)`);
  });
  let plan: SweepPlan;
  try {
    plan = JSON.parse(planText);
  } catch {
    throw new UserError(`--plan ${planFile}: not JSON (damaged); rerun deno task sweep to write it again`);
  }
  const jobs = stageJobs(plan, stage);
  const index = numberFlag("index", values.index, { integer: true, min: 0, max: jobs.length - 1 });
  stopChildrenOnSignal();
  const outcome = await runJob(plan, jobs[index]);
  if (!outcome.ok) throw new UserError(outcome.error ?? `${jobs[index].id} failed`);
  console.log(`sweep job ${jobs[index].id}: ${outcome.ran} steps run`);
}

if (import.meta.main) await runMain("sweep", () => main(Deno.args));
