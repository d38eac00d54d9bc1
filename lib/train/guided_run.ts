/**
 * A whole guided-classifier run into a run folder: model, optional frozen predictor, the epoch loop with
 * step LR, per-epoch metrics (train/val accuracy, CE, neural MSE, the neural head's r to the predictor),
 * checkpoints and `summary.json`.
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import type { RunOptions } from "../cli/run_flags.ts";
import { stepLR } from "../optim/schedule.ts";
import { UserError } from "../errors.ts";
import { RunDir } from "./run_dir.ts";
import { trainLoop } from "./loop.ts";
import { createGuidedTrainer, type LabeledBatch } from "./guided.ts";
import { loadCheckpoint } from "../nn/checkpoint.ts";
import { microBatchNotice } from "../nn/micro_batch.ts";
import type { PcaSize } from "../data/nsd/linalg.ts";
import type { ManifoldLossWeights, ManifoldTargets } from "../ops/manifold_loss.ts";
import {
  loadManifoldTargets,
  manifoldTargets,
  predictorOutputs,
  saveManifoldTargets,
} from "./manifold_stats.ts";

/** Run-folder file holding the manifold statistics, so a resumed run does not recompute them. */
export const MANIFOLD_STATS_FILE = "manifold_stats.safetensors";

/** The classification data a guided run consumes. */
export interface ClassificationData {
  /** Class names in label order. */
  classes: string[];
  /** Training images (whole batches per epoch = ⌊size / batch⌋). */
  trainSize: number;
  /** Shuffled, augmented training batches of an epoch (deterministic in seed and epoch). */
  train(epoch: number, batch: number): AsyncIterable<LabeledBatch>;
  /** Validation batches in order, the last one zero-padded (`count` < batch). */
  val(batch: number): AsyncIterable<LabeledBatch>;
  /** A description for the summary (e.g. `sim:data/sim`). */
  source: string;
  /** Stops any loader workers. */
  close(): void;
}

/** Options of {@link trainGuidedRun}. */
export interface GuidedRunOptions extends RunOptions {
  roi: string;
  predictor?: string;
  alpha: number;
  shuffle: boolean;
  momentum: number;
  /** StepLR: multiply the LR by `gamma` every `stepSize` epochs. */
  stepSize: number;
  gamma: number;
  predictorBatchNorm: "train" | "eval";
  /** Manifold guidance (method.md §7) from `predictor`'s outputs; absent = MSE guidance. */
  manifold?: { weights: ManifoldLossWeights; basis: PcaSize };
}

/** Summary written to `summary.json`. */
export interface GuidedSummary {
  kind: "guided";
  guidance: "mse" | "manifold";
  /** Manifold weights, basis rule and the directions kept per class (null for MSE guidance). */
  manifold: { weights: ManifoldLossWeights; basis: PcaSize; dims: number[] } | null;
  roi: string;
  alpha: number;
  shuffle: boolean;
  weightDecay: number;
  predictor: string | null;
  data: string;
  classes: number;
  epochs: number;
  final: Record<string, number | string | null>;
  seconds: number;
  trainImagesPerSecond: number;
}

/**
 * Trains (or resumes) a guided classifier and writes `model.safetensors`, `metrics.jsonl`, `summary.json`.
 *
 * @example
 * ```ts
 * const { summary } = await trainGuidedRun(gpu, data, { ...runOptions, roi: "TO", predictor: "runs/np",
 *   alpha: 0.9, shuffle: false, momentum: 0.9, stepSize: 20, gamma: 0.1, predictorBatchNorm: "train" });
 * ```
 */
export async function trainGuidedRun(
  gpu: Gpu,
  data: ClassificationData,
  o: GuidedRunOptions,
): Promise<{ summary: GuidedSummary; seconds: number }> {
  const predictorPath = o.predictor ? await predictorFile(o.predictor) : undefined;
  const manifold = o.manifold && await manifoldSetup(gpu, data, o, o.manifold, predictorPath);
  const trainer = await createGuidedTrainer(gpu, {
    arch: o.arch,
    classes: data.classes.length,
    imageSize: o.size,
    batch: o.batch,
    roi: manifold?.roi ?? o.roi,
    predictorPath,
    alpha: o.alpha,
    shuffle: o.shuffle,
    predictorBatchNorm: o.predictorBatchNorm,
    optimizer: { kind: "sgd", momentum: o.momentum, weightDecay: o.wd },
    seed: o.seed,
    manifold: manifold && { targets: manifold.targets, weights: manifold.weights },
  });
  if (trainer.micro.count > 1 && !o.quiet) console.log(microBatchNotice("train", o.batch, trainer.micro));
  // The run folder is touched only once the model, predictor and data are known to be usable.
  const run = new RunDir(o.out);
  await run.prepare({ kind: "guided", data: data.source, ...o, quiet: undefined }, {
    resume: o.resume,
    overwrite: o.force,
  });
  if (manifold?.computed) {
    await saveManifoldTargets(run.file(MANIFOLD_STATS_FILE), manifold.targets, {
      predictor: o.predictor ?? "",
      roi: manifold.roi,
      basis: JSON.stringify(manifold.basis),
    });
  }
  const steps = Math.floor(data.trainSize / o.batch);
  if (steps === 0) throw new Error(`--batch ${o.batch} is larger than the ${data.trainSize} training images`);
  const result = await trainLoop({
    run,
    config: trainer.config,
    step: trainer.step,
    epochs: o.epochs,
    schedule: stepLR({ baseLr: o.lr, stepSize: o.stepSize, gamma: o.gamma }),
    checkpointEvery: o.checkpointEvery,
    resume: o.resume,
    seed: o.seed,
    stepsPerEpoch: steps,
    label: `train ${trainer.roi}`,
    quiet: o.quiet,
    finalName: "model.safetensors",
    metadata: {
      roi: trainer.roi,
      alpha: String(trainer.alpha),
      guidance: manifold ? "manifold" : "mse",
      classes: JSON.stringify(data.classes),
    },
    batches: async function* (epoch) {
      for await (const batch of data.train(epoch, o.batch)) yield (micro) => trainer.load(batch, micro);
    },
    evaluate: () => trainer.evaluate(data.val(o.batch)),
  });
  const summary: GuidedSummary = {
    kind: "guided",
    guidance: manifold ? "manifold" : "mse",
    manifold: manifold
      ? { weights: manifold.weights, basis: manifold.basis, dims: Array.from(manifold.targets.dims) }
      : null,
    roi: trainer.roi,
    alpha: trainer.alpha,
    shuffle: o.shuffle,
    weightDecay: o.wd,
    predictor: o.predictor ?? null,
    data: data.source,
    classes: data.classes.length,
    epochs: o.epochs,
    final: result.last,
    seconds: result.seconds,
    trainImagesPerSecond: result.trainImagesPerSecond,
  };
  await run.writeSummary(summary);
  return { summary, seconds: result.seconds };
}

/** Accepts a predictor run folder or its `.safetensors` file. */
async function predictorFile(path: string): Promise<string> {
  const info = await Deno.stat(path).catch(() => null);
  return info?.isDirectory ? `${path}/predictor.safetensors` : path;
}

/**
 * The manifold targets of a run: read back from the run folder when resuming, else computed from the
 * predictor's outputs on one epoch of training batches (saved once the run folder is prepared).
 */
async function manifoldSetup(
  gpu: Gpu,
  data: ClassificationData,
  o: GuidedRunOptions,
  settings: NonNullable<GuidedRunOptions["manifold"]>,
  predictorPath: string | undefined,
): Promise<
  { targets: ManifoldTargets; weights: ManifoldLossWeights; basis: PcaSize; roi: string; computed: boolean }
> {
  if (!predictorPath) throw new UserError("--guidance manifold needs --predictor RUN (deno task predictor)");
  const roi = (await loadCheckpoint(predictorPath)).metadata.roi ?? "unknown";
  const saved = new RunDir(o.out).file(MANIFOLD_STATS_FILE);
  const common = { ...settings, roi };
  if (o.resume && await Deno.stat(saved).then(() => true, () => false)) {
    const targets = await loadManifoldTargets(saved);
    if (targets.classes !== data.classes.length) {
      throw new UserError(`${saved}: ${targets.classes} classes, the data has ${data.classes.length}`);
    }
    return { ...common, targets, computed: false };
  }
  const outputs = await predictorOutputs(gpu, predictorPath, {
    imageSize: o.size,
    batch: o.batch,
    steps: Math.floor(data.trainSize / o.batch),
    batches: data.train(0, o.batch),
    quiet: o.quiet,
  });
  const targets = manifoldTargets(
    outputs.points,
    outputs.labels,
    outputs.count,
    outputs.dim,
    data.classes.length,
    settings.basis,
  );
  return { ...common, targets, computed: true };
}
