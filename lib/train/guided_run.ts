/**
 * A whole guided-classifier run into a run folder: model, optional frozen predictor, the epoch loop with
 * step LR, per-epoch metrics (train/val accuracy, CE, neural MSE, the neural head's r to the predictor),
 * checkpoints and `summary.json`.
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import type { RunOptions } from "./run_options.ts";
import { stepLR } from "../optim/schedule.ts";
import { UsageError, UserError } from "../errors.ts";
import { RunDir } from "./run_dir.ts";
import { type Augmentation, createAugmenter, needsInputGrad } from "./augment.ts";
import { trainLoop } from "./loop.ts";
import { createGuidedTrainer, type LabeledBatch } from "./guided.ts";
import { loadOracleTeacher, type OracleOptions } from "./oracle_teacher.ts";
import { loadCheckpoint } from "../nn/checkpoint.ts";
import { microBatchNotice } from "../nn/micro_batch.ts";
import { softwareAdapterWarning } from "../nn/cost.ts";
import type { PcaSize } from "../linalg/pca.ts";
import type { ManifoldLossWeights, ManifoldTargets } from "../ops/manifold_loss.ts";
import {
  loadManifoldTargets,
  manifoldTargets,
  predictorOutputs,
  saveManifoldTargets,
} from "./manifold_stats.ts";

/** Run-folder folder of the per-epoch weights (`--keep-epochs`): `epoch_<k>.safetensors`. */
export const EPOCHS_DIR = "epochs";

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
  /**
   * Manifold guidance (docs/method.md#manifold-guidance) from `predictor`'s outputs; absent = MSE guidance.
   */
  manifold?: { weights: ManifoldLossWeights; basis: PcaSize };
  /** Robustness augmentation of the training batches (the measurement chain's positive control). */
  augment?: Augmentation;
  /** Also keep each epoch's weights as `epochs/epoch_<k>.safetensors` (a None checkpoint ladder). */
  keepEpochs?: boolean;
  /** The simulated brain as the teacher instead of a predictor (`oracle_teacher.ts`); seeded by `seed`. */
  oracle?: Omit<OracleOptions, "seed">;
}

/** Summary written to `summary.json`. */
export interface GuidedSummary {
  kind: "guided";
  guidance: "mse" | "manifold";
  /** What the head was regressed onto: the predictor, or an oracle mode with its δ radius. */
  teacher?: { kind: string; epsilon: number; prepared: string } | { kind: "predictor" };
  /** Manifold weights, basis rule and the directions kept per class (null for MSE guidance). */
  manifold: { weights: ManifoldLossWeights; basis: PcaSize; dims: number[] } | null;
  roi: string;
  alpha: number;
  shuffle: boolean;
  weightDecay: number;
  /** Training augmentation (null: none). */
  augment: Augmentation | null;
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
 * import type { Gpu } from "../gpu/mod.ts";
 * // A TO-guided run with the paper's loss and schedule; `run` carries arch, epochs, out, …
 * async function trainTo(gpu: Gpu, data: ClassificationData, run: GuidedRunOptions) {
 *   const { summary } = await trainGuidedRun(gpu, data, { ...run, roi: "TO", predictor: "runs/np-TO",
 *     alpha: 0.9, shuffle: false, momentum: 0.9, stepSize: 20, gamma: 0.1, predictorBatchNorm: "train" });
 *   return summary;
 * }
 * ```
 */
export async function trainGuidedRun(
  gpu: Gpu,
  data: ClassificationData,
  o: GuidedRunOptions,
): Promise<{ summary: GuidedSummary; seconds: number }> {
  const predictorPath = o.predictor ? await predictorFile(o.predictor) : undefined;
  const manifold = o.manifold && await manifoldSetup(gpu, data, o, o.manifold, predictorPath);
  if (o.oracle && o.augment) {
    // the oracle's targets are computed for the images its mode shows the student; an augmentation after it
    // would train on other images than the targets describe
    throw new UsageError(`--augment does not combine with --teacher ${o.oracle.mode}`);
  }
  const oracle = o.oracle && await loadOracleTeacher({ ...o.oracle, seed: o.seed });
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
    inputGrad: needsInputGrad(o.augment),
    manifold: manifold && { targets: manifold.targets, weights: manifold.weights },
    oracle,
  });
  const steps = Math.floor(data.trainSize / o.batch);
  if (steps === 0) {
    throw new UsageError(
      `batch ${o.batch} is larger than the ${data.trainSize} training images of ${data.source}`,
    );
  }
  if (trainer.micro.count > 1 && o.augment) {
    throw new UserError(
      `batch ${o.batch} needs ${trainer.micro.count} micro-batches on this adapter, and training ` +
        `augmentation runs unsplit only: use a batch of at most ${trainer.micro.size}`,
    );
  }
  const augment = o.augment && await createAugmenter(gpu, trainer.plan, o.augment, o.seed);
  if (trainer.micro.count > 1) o.progress?.say(microBatchNotice(o.batch, trainer.micro));
  const slow = softwareAdapterWarning(gpu.kind, o.arch, trainer.config, o.batch, steps * o.epochs);
  if (slow) o.progress?.say(slow);
  // The run folder is touched only once the model, predictor and data are known to be usable.
  const run = new RunDir(o.out);
  let failed = true;
  try {
    await run.prepare({ kind: "guided", data: data.source, ...o, progress: undefined }, {
      resume: o.resume,
      overwrite: o.force,
    });
    const result = await guidedEpochs(run, data, o, { trainer, manifold, augment, oracle }, steps);
    failed = false;
    return result;
  } finally {
    run.close({ failed });
  }
}

/** The epoch loop and summary of {@link trainGuidedRun}, in the prepared (locked) run folder. */
async function guidedEpochs(
  run: RunDir,
  data: ClassificationData,
  o: GuidedRunOptions,
  parts: {
    trainer: Awaited<ReturnType<typeof createGuidedTrainer>>;
    manifold: Awaited<ReturnType<typeof manifoldSetup>> | undefined;
    augment: Awaited<ReturnType<typeof createAugmenter>> | undefined;
    oracle: Awaited<ReturnType<typeof loadOracleTeacher>> | undefined;
  },
  steps: number,
): Promise<{ summary: GuidedSummary; seconds: number }> {
  const { trainer, manifold, augment, oracle } = parts;
  if (manifold?.computed) {
    await saveManifoldTargets(run.file(MANIFOLD_STATS_FILE), manifold.targets, {
      predictor: o.predictor ?? "",
      roi: manifold.roi,
      basis: JSON.stringify(manifold.basis),
    });
  }
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
    progress: o.progress,
    finalName: "model.safetensors",
    metadata: {
      roi: trainer.roi,
      alpha: String(trainer.alpha),
      guidance: manifold ? "manifold" : "mse",
      teacher: oracle ? oracle.mode : "predictor",
      classes: JSON.stringify(data.classes),
    },
    batches: async function* (epoch) {
      let step = 0;
      for await (const batch of data.train(epoch, o.batch)) {
        if (trainer.stage) {
          // an oracle teacher runs unsplit (createGuidedTrainer checks): the batch is staged whole
          yield await trainer.stage(batch);
        } else if (augment) {
          // augmentation runs unsplit (checked above): load, perturb the input in place, then step as is
          trainer.load(batch);
          await augment(batch, epoch, step++);
          yield () => {};
        } else yield (micro) => trainer.load(batch, micro);
      }
    },
    keepEpochs: o.keepEpochs ? EPOCHS_DIR : undefined,
    evaluate: async () => {
      // the sham teacher's movement under δ over this epoch's training batches (README, amendment 4)
      const moved = oracle?.movement?.();
      return {
        ...await trainer.evaluate(data.val(o.batch)),
        ...(moved ? { train_head_move: moved.head, train_target_move: moved.target } : {}),
      };
    },
  });
  const summary: GuidedSummary = {
    kind: "guided",
    guidance: manifold ? "manifold" : "mse",
    teacher: oracle
      ? { kind: oracle.mode, epsilon: oracle.epsilon, prepared: o.oracle!.prepared }
      : { kind: "predictor" },
    manifold: manifold
      ? { weights: manifold.weights, basis: manifold.basis, dims: Array.from(manifold.targets.dims) }
      : null,
    roi: trainer.roi,
    alpha: trainer.alpha,
    shuffle: o.shuffle,
    weightDecay: o.wd,
    augment: o.augment ?? null,
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
  const file = info?.isDirectory ? `${path}/predictor.safetensors` : path;
  if (!(await Deno.stat(file).catch(() => null))) {
    throw new UsageError(
      `--predictor ${path}: no ${
        info?.isDirectory ? "predictor.safetensors in that run folder" : "such file or run folder"
      } ` +
        `(train one with deno task predictor)`,
    );
  }
  return file;
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
  if (!predictorPath) throw new UserError("manifold guidance needs a predictor (deno task predictor)");
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
    progress: o.progress,
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
