/**
 * `deno task train`: with no arguments, the embedded demo end to end on the simulated world; with arguments,
 * the paper's neural-guided training and its baselines. See `--help`.
 * @module
 */
import { numberFlag, parseFlags } from "../lib/cli/args.ts";
import { UsageError, UserError } from "../lib/errors.ts";
import { runMain } from "../lib/cli/main.ts";
import { checkOutputPath } from "../lib/io/output_path.ts";
import { formatSeconds, progressReporter } from "../lib/cli/progress.ts";
import { readRunFlags, RUN_FLAGS, type RunDefaults, runFlagsHelp } from "../lib/cli/run_flags.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { ROI_DEFINITIONS } from "../lib/data/nsd/roi.ts";
import { openClassificationData } from "../lib/train/classification_data.ts";
import { BASELINES } from "../lib/train/guided.ts";
import { type OracleMode, PERTURBING_MODES, TEACHERS } from "../lib/train/oracle_teacher.ts";
import { MANIFOLD_DEFAULT_WEIGHTS } from "../lib/ops/manifold_loss.ts";
import { type GuidedRunOptions, type GuidedSummary, trainGuidedRun } from "../lib/train/guided_run.ts";
import { type Augmentation, AUGMENTATIONS } from "../lib/train/augment.ts";
import { demoBaselineCommand, demoBaselineFolder, type DemoResult, runDemo } from "../lib/train/demo.ts";
import { contextLines } from "../lib/train/context.ts";
import type { PredictorSummary } from "../lib/train/predictor_run.ts";
import { dirname, join } from "node:path";

const DEFAULTS: RunDefaults = {
  arch: "resnet18",
  size: 224,
  epochs: 60,
  batch: 256,
  lr: 0.1,
  wd: 1e-4,
  seed: 0,
  out: "runs/train",
  checkpointEvery: 2,
};

const HELP = `deno task train [options]

Without options: the embedded demo — generates the simulated world (data/sim) if missing, prepares one ROI,
trains its neural predictor and a guided classifier (small models, 10–15 min on 2 CPU cores the first
time), then prints where the results are and a three-line summary.

With options: neural-guided training (docs/method.md#guided-training). The loss is
(1 − α)·CE(logits, y) + α·MSE(neural head, predictor(x)); the predictor is frozen and sees the same augmented
batch. SGD with momentum, StepLR. Run on a software adapter, a paper-scale run (resnet18 at 224 px) first
prints its cost: hours per step there, so it is meant for a GPU.

Options:
  --roi NAME                none | random | V1 | V2 | V4 | VO | PHC | LO | TO, or any ROI name of nsd-prep
                            (default none); an ROI must match the predictor's; none = α forced to 0;
                            random = a seeded random frozen predictor
  --predictor RUN           predictor run folder or .safetensors (deno task predictor); optional with none
  --alpha X                 guidance weight α in [0, 1] (default 0.9)
  --shuffle                 the predictor sees a different image (fixed seed-1024 permutation): V1-/TO-shuffle
  --data SRC                sim | imagefolder:DIR | cifar100:DIR (default sim)
  --sim DIR                 simulated world for --data sim (default data/sim; generated if missing)
  --classes FILE            class folder names to keep, one per line (index = position in sorted order);
                            resources/coco50.txt holds the paper's 50 COCO-matched ImageNet classes
  --crop-scale X            smallest area fraction of RandomResizedCrop (default 0.08, torchvision's)
  --momentum X              SGD momentum (default 0.9)
  --step-size N             StepLR: multiply the LR by --gamma every N epochs (default 20)
  --gamma X                 (default 0.1)
  --np-bn MODE              BatchNorm of the frozen predictor while training: train | eval (default train)
  --augment KIND            robustness augmentation of the training batches (default none):
                              noise    every pixel moved by U(−ε, ε), clamped to [0, 1]
                              fgsm-rs  FGSM with a random start (Wong et al. 2020): from x + U(−ε, ε), one
                                       step of 1.25ε along sign ∇ₓCE of the model being trained, projected
                                       onto the ε-ball; runs on the GPU in the training plan
                            a guided model's predictor sees the augmented batch too
  --aug-eps X               ε of --augment in pixel units, images in [0, 1] (default 0.0314 = 8/255)
  --keep-epochs             also keep each epoch's weights as epochs/epoch_<k>.safetensors in --out, k = 0
                            the initial ones (a checkpoint ladder for comparing models at matched clean
                            accuracy)

Controls on the simulated world, with the simulated brain itself as the teacher (no predictor):
  --teacher KIND            predictor (default) | oracle | oracle-shuffled | oracle-perturbed |
                            oracle-adversarial | oracle-adversarial-head | oracle-adversarial-sham.
                            oracle: the target is the brain's noise-free --roi response to the same augmented
                            batch, z-scored and PCA-projected like --prepared's targets;
                            oracle-shuffled (negative control): each image gets another batch image's target;
                            oracle-perturbed: the student sees x + δ (random ±ε signs) and the target is
                            brain(x + δ); oracle-adversarial (guaranteed positive): the same with δ one FGSM
                            step (random start, 1.25ε) against the student's own head's distance to
                            brain(x), on the GPU; oracle-adversarial-head (guaranteed positive, README
                            amendment 3): that δ reaches the neural head only, the cross-entropy sees the
                            clean x (two passes, one update); oracle-adversarial-sham (its baseline,
                            amendment 4): the same with target brain(x) + head(x + δ) − head(x), so the
                            target moves with the head, logging both movements (train_head_move,
                            train_target_move). Validation r/MSE: head vs brain(clean image).
  --prepared FILE           prepared ROI file of the --sim world (deno task nsd-prep) giving the voxels,
                            z-score and PCA of the oracle's targets; required with an oracle teacher
  --teacher-eps X           δ radius of oracle-perturbed and the oracle-adversarial modes, on [0, 1] pixels
                            (default 8/255 = 0.0314)

Manifold guidance (docs/method.md#manifold-guidance), instead of regressing onto the predictor's outputs:
  --guidance KIND           mse | manifold (default mse). manifold: per-class centre, radius and subspace of
                            the --predictor's outputs on the training images are computed once (saved as
                            manifold_stats.safetensors in --out); the predictor is not run while training
  --manifold-weights A,B,C  weights of CE, L_rad (radius hinge), L_dim (subspace term) (default 0.7,0.15,0.15;
                            1,0,0 is the plain-CE baseline that still logs L_rad and L_dim)
  --manifold-var X          class subspace: fewest directions explaining more than X of the variance
                            (default 0.95)
  --manifold-dims D         class subspace: D directions instead of --manifold-var
  --manifold-dim-sign S     raise-vaf (default: minimise 1 − VAF, outputs move into the class subspace) |
                            lower-vaf (the source's code as written: minimise VAF)
${runFlagsHelp(DEFAULTS)}

The weight-decay baselines are --roi none --wd X (e.g. 0.003 … 0.01).
Writes to --out: model.safetensors (torchvision names; config, ROI and α in metadata), checkpoint.safetensors
(+ optimizer state, for --resume), metrics.jsonl (train/val accuracy, CE, neural MSE, the neural head's r to
the predictor, per epoch; train/val L_rad and L_dim with --guidance manifold), summary.json, options.json.
Exit codes: 0 ok, 1 error (one line), 2 usage error.`;

async function main(args: string[]): Promise<void> {
  if (args.length === 0) {
    const result = await runDemo(await getGpu(), { progress: progressReporter("train", false) });
    printDemo(result);
    return;
  }
  const { values } = parseFlags(args, {
    ...RUN_FLAGS,
    roi: { type: "string" },
    predictor: { type: "string" },
    alpha: { type: "string" },
    shuffle: { type: "boolean" },
    data: { type: "string" },
    sim: { type: "string" },
    classes: { type: "string" },
    "crop-scale": { type: "string" },
    momentum: { type: "string" },
    "step-size": { type: "string" },
    gamma: { type: "string" },
    "np-bn": { type: "string" },
    guidance: { type: "string" },
    "manifold-weights": { type: "string" },
    "manifold-var": { type: "string" },
    "manifold-dims": { type: "string" },
    "manifold-dim-sign": { type: "string" },
    augment: { type: "string" },
    "aug-eps": { type: "string" },
    "keep-epochs": { type: "boolean" },
    teacher: { type: "string" },
    prepared: { type: "string" },
    "teacher-eps": { type: "string" },
  });
  if (values.help) return console.log(HELP);
  const run = readRunFlags(values, DEFAULTS, "train");
  await checkOutputPath(run.out, "--out", "folder");
  const roi = (values.roi as string | undefined) ?? "none";
  const valid = [...BASELINES, ...Object.keys(ROI_DEFINITIONS)];
  const canonical = valid.find((name) => name.toLowerCase() === roi.toLowerCase());
  if (!canonical) throw new UsageError(`--roi: unknown ROI '${roi}'; choose ${valid.join(", ")}`);
  const npBn = (values["np-bn"] as string | undefined) ?? "train";
  if (npBn !== "train" && npBn !== "eval") {
    throw new UsageError(`--np-bn: expected train or eval, got '${npBn}'`);
  }
  if (values.shuffle && (BASELINES as readonly string[]).includes(canonical)) {
    throw new UsageError("--shuffle needs an ROI predictor (e.g. --roi V1 --shuffle)");
  }
  // Every flag is checked before any work starts (opening "sim" may generate the world).
  const optional = (name: string, fallback: number, range: Parameters<typeof numberFlag>[2]) =>
    values[name] === undefined ? fallback : numberFlag(name, values[name], range);
  const options = {
    ...run,
    roi: canonical,
    predictor: values.predictor as string | undefined,
    alpha: optional("alpha", 0.9, { min: 0, max: 1 }),
    shuffle: Boolean(values.shuffle),
    momentum: optional("momentum", 0.9, { min: 0, max: 1 }),
    stepSize: optional("step-size", 20, { integer: true, min: 1 }),
    gamma: optional("gamma", 0.1, { min: 0 }),
    predictorBatchNorm: npBn as "train" | "eval",
    manifold: readManifoldFlags(values),
    augment: readAugmentFlags(values),
    keepEpochs: Boolean(values["keep-epochs"]),
    oracle: readTeacherFlags(values, canonical, (values.sim as string | undefined) ?? "data/sim"),
  };
  if (!options.predictor && !options.oracle && !(BASELINES as readonly string[]).includes(canonical)) {
    throw new UserError(`--roi ${canonical} needs --predictor RUN (train one with deno task predictor)`);
  }
  const cropScale = values["crop-scale"] === undefined
    ? undefined
    : numberFlag("crop-scale", values["crop-scale"], { min: 0.01, max: 1 });
  const data = await openClassificationData((values.data as string | undefined) ?? "sim", {
    size: run.size,
    seed: run.seed,
    sim: (values.sim as string | undefined) ?? "data/sim",
    classesFile: values.classes as string | undefined,
    shuffle: options.shuffle,
    cropScale,
  });
  let summary: GuidedSummary;
  try {
    ({ summary } = await trainGuidedRun(await getGpu(), data, options));
  } finally {
    data.close();
  }
  await printGuided(run.out, summary);
}

/** `--augment` and `--aug-eps`, or undefined without augmentation. */
function readAugmentFlags(values: Record<string, unknown>): Augmentation | undefined {
  const kind = values.augment as string | undefined;
  if (kind === undefined) {
    if (values["aug-eps"] !== undefined) throw new UsageError("--aug-eps applies to --augment noise|fgsm-rs");
    return undefined;
  }
  if (!(AUGMENTATIONS as readonly string[]).includes(kind)) {
    throw new UsageError(`--augment: expected ${AUGMENTATIONS.join(" or ")}, got '${kind}'`);
  }
  const eps = values["aug-eps"] === undefined
    ? 8 / 255
    : numberFlag("aug-eps", values["aug-eps"], { min: 1e-6, max: 1 });
  return { kind: kind as Augmentation["kind"], eps };
}

/** The oracle-teacher settings, or undefined for the predictor; every misuse is a usage error. */
function readTeacherFlags(
  values: Record<string, unknown>,
  roi: string,
  sim: string,
): GuidedRunOptions["oracle"] {
  const kind = (values.teacher as string | undefined) ?? "predictor";
  if (!(TEACHERS as readonly string[]).includes(kind)) {
    throw new UsageError(`--teacher: expected one of ${TEACHERS.join(", ")}, got '${kind}'`);
  }
  if (kind === "predictor") {
    const stray = ["prepared", "teacher-eps"].find((name) => values[name] !== undefined);
    if (stray) throw new UsageError(`--${stray} applies to an oracle --teacher`);
    return undefined;
  }
  const clash = ["predictor", "shuffle"].find((name) => values[name] !== undefined) ??
    (values.guidance === "manifold" ? "guidance manifold" : undefined);
  if (clash) {
    throw new UsageError(
      `--${clash} does not apply to --teacher ${kind} (the simulated brain is the teacher)`,
    );
  }
  if ((BASELINES as readonly string[]).includes(roi)) {
    throw new UsageError(`--teacher ${kind} needs an ROI (e.g. --roi TO), not ${roi}`);
  }
  if (values.prepared === undefined) {
    throw new UsageError(
      `--teacher ${kind} needs --prepared FILE (deno task nsd-prep --nsd ${sim} --roi ${roi})`,
    );
  }
  if (values["teacher-eps"] !== undefined && !PERTURBING_MODES.includes(kind as OracleMode)) {
    throw new UsageError(`--teacher-eps applies to --teacher ${PERTURBING_MODES.join(", ")}`);
  }
  return {
    mode: kind as OracleMode,
    sim,
    prepared: values.prepared as string,
    epsilon: values["teacher-eps"] === undefined
      ? undefined
      : numberFlag("teacher-eps", values["teacher-eps"], { min: 0, max: 1 }),
  };
}

/** The manifold-guidance settings, or undefined for MSE guidance; every misuse is a usage error. */
function readManifoldFlags(values: Record<string, unknown>): GuidedRunOptions["manifold"] {
  const guidance = (values.guidance as string | undefined) ?? "mse";
  if (guidance !== "mse" && guidance !== "manifold") {
    throw new UsageError(`--guidance: expected mse or manifold, got '${guidance}'`);
  }
  const manifoldOnly = ["manifold-weights", "manifold-var", "manifold-dims", "manifold-dim-sign"];
  if (guidance === "mse") {
    const stray = manifoldOnly.find((name) => values[name] !== undefined);
    if (stray) throw new UsageError(`--${stray} applies to --guidance manifold`);
    return undefined;
  }
  const mseOnly = ["roi", "alpha", "shuffle", "np-bn"].find((name) => values[name] !== undefined);
  if (mseOnly) {
    throw new UsageError(`--${mseOnly} does not apply to --guidance manifold (the ROI is the predictor's)`);
  }
  if (values.predictor === undefined) {
    throw new UsageError("--guidance manifold needs --predictor RUN (train one with deno task predictor)");
  }
  const d = MANIFOLD_DEFAULT_WEIGHTS;
  const raw = (values["manifold-weights"] as string | undefined) ?? `${d.ce},${d.rad},${d.dim}`;
  const parts = raw.split(",");
  const weights = parts.map(Number);
  if (
    parts.length !== 3 || weights.some((w) => !Number.isFinite(w) || w < 0) ||
    weights[0] + weights[1] + weights[2] <= 0
  ) {
    throw new UsageError(
      `--manifold-weights: expected three non-negative numbers CE,RAD,DIM not all 0 (e.g. 0.7,0.15,0.15), got '${raw}'`,
    );
  }
  if (values["manifold-var"] !== undefined && values["manifold-dims"] !== undefined) {
    throw new UsageError("--manifold-var and --manifold-dims are alternatives; pass one");
  }
  const basis = values["manifold-dims"] !== undefined
    ? { k: numberFlag("manifold-dims", values["manifold-dims"], { integer: true, min: 1 }) }
    : {
      variance: values["manifold-var"] === undefined
        ? 0.95
        : numberFlag("manifold-var", values["manifold-var"], { min: 1e-6, max: 1 - 1e-6 }),
    };
  const dimSign = (values["manifold-dim-sign"] as string | undefined) ?? d.dimSign;
  if (dimSign !== "raise-vaf" && dimSign !== "lower-vaf") {
    throw new UsageError(`--manifold-dim-sign: expected raise-vaf or lower-vaf, got '${dimSign}'`);
  }
  return { weights: { ce: weights[0], rad: weights[1], dim: weights[2], dimSign }, basis };
}

async function printGuided(out: string, s: GuidedSummary): Promise<void> {
  const f = s.final;
  console.log(
    `model → ${out}/model.safetensors (${formatSeconds(s.seconds)}, ${
      s.trainImagesPerSecond.toFixed(1)
    } img/s)`,
  );
  if (s.manifold) {
    const w = s.manifold.weights;
    console.log(
      `  clean accuracy ${fmt(f.val_acc)} (train ${fmt(f.train_acc)}), manifold guidance from ROI ${s.roi} ` +
        `(weights ${w.ce},${w.rad},${w.dim}, ${w.dimSign})`,
    );
    console.log(
      `  last epoch: L_rad ${fmt(f.val_rad)}, L_dim ${fmt(f.val_dim)} on validation batches ` +
        `(training ${fmt(f.train_rad)}, ${fmt(f.train_dim)})`,
    );
    return;
  }
  const augmented = s.augment ? `, ${s.augment.kind} augmentation ε ${fmt(s.augment.eps)}` : "";
  console.log(
    `  clean accuracy ${fmt(f.val_acc)} (train ${fmt(f.train_acc)}), ROI ${s.roi}, α ${s.alpha}${augmented}`,
  );
  console.log(
    `  neural loss ${fmt(f.val_neural_mse)}, neural head r to the predictor ${fmt(f.val_neural_r)}`,
  );
  if (typeof f.val_acc === "number") {
    const predictor = await predictorSummary(s.predictor);
    const r = predictor?.final.val_r_mean;
    for (
      const line of contextLines({
        accuracy: f.val_acc,
        classes: s.classes,
        predictorR: s.alpha > 0 && typeof r === "number" ? r : null,
        noiseCeiling: predictor?.noiseCeiling ?? null,
      })
    ) console.log(`  ${line}`);
  }
}

/** The predictor run's summary (a run folder or a file inside one), or null when there is none to read. */
async function predictorSummary(path: string | null): Promise<PredictorSummary | null> {
  if (!path) return null;
  const folder = (await Deno.stat(path).catch(() => null))?.isDirectory ? path : dirname(path);
  const text = await Deno.readTextFile(join(folder, "summary.json")).catch(() => null);
  const summary = text === null ? null : JSON.parse(text) as PredictorSummary;
  return summary?.kind === "predictor" ? summary : null;
}

function printDemo(r: DemoResult): void {
  console.log(`\ndemo finished in ${formatSeconds(r.seconds)}; results in ${r.root}/`);
  console.log(
    `  clean accuracy  ${fmt(r.guided.final.val_acc)} (guided by ${r.guided.roi}, α ${r.guided.alpha})`,
  );
  console.log(
    `  neural loss     ${fmt(r.guided.final.val_neural_mse)} (head-to-predictor r ${
      fmt(r.guided.final.val_neural_r)
    })`,
  );
  console.log(
    `  predictor r     ${
      fmt(r.predictor.final.val_r_mean)
    } (mean per image on the shared images, K = ${r.predictor.k})`,
  );
  const accuracy = r.guided.final.val_acc;
  if (typeof accuracy !== "number") return;
  const baseline = r.baseline && typeof r.baseline.final.val_acc === "number"
    ? { accuracy: r.baseline.final.val_acc, source: demoBaselineFolder(r.root) }
    : null;
  const context = contextLines({
    accuracy,
    classes: r.guided.classes,
    baseline,
    baselineCommand: demoBaselineCommand(r.root),
    predictorR: typeof r.predictor.final.val_r_mean === "number" ? r.predictor.final.val_r_mean : null,
    noiseCeiling: r.predictor.noiseCeiling,
  });
  console.log("in context:");
  for (const line of context) console.log(`  ${line}`);
}

const fmt = (v: unknown) => typeof v === "number" ? v.toFixed(3) : String(v);

if (import.meta.main) await runMain("train", () => main(Deno.args));
