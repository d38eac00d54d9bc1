/**
 * A whole guided-classifier run into a run folder: model, optional frozen predictor, the epoch loop with
 * step LR, per-epoch metrics (train/val accuracy, CE, neural MSE, the neural head's r to the predictor),
 * checkpoints and `summary.json`.
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import type { RunOptions } from "../cli/run_flags.ts";
import { stepLR } from "../optim/schedule.ts";
import { RunDir } from "./run_dir.ts";
import { trainLoop } from "./loop.ts";
import { createGuidedTrainer, type LabeledBatch } from "./guided.ts";

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
}

/** Summary written to `summary.json`. */
export interface GuidedSummary {
  kind: "guided";
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
  const trainer = await createGuidedTrainer(gpu, {
    arch: o.arch,
    classes: data.classes.length,
    imageSize: o.size,
    batch: o.batch,
    roi: o.roi,
    predictorPath: o.predictor ? await predictorFile(o.predictor) : undefined,
    alpha: o.alpha,
    shuffle: o.shuffle,
    predictorBatchNorm: o.predictorBatchNorm,
    optimizer: { kind: "sgd", momentum: o.momentum, weightDecay: o.wd },
  });
  // The run folder is touched only once the model, predictor and data are known to be usable.
  const run = new RunDir(o.out);
  await run.prepare({ kind: "guided", data: data.source, ...o, quiet: undefined }, {
    resume: o.resume,
    overwrite: o.force,
  });
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
    metadata: { roi: trainer.roi, alpha: String(trainer.alpha), classes: JSON.stringify(data.classes) },
    batches: async function* (epoch) {
      for await (const batch of data.train(epoch, o.batch)) {
        trainer.load(batch);
        yield;
      }
    },
    evaluate: () => trainer.evaluate(data.val(o.batch)),
  });
  const summary: GuidedSummary = {
    kind: "guided",
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
