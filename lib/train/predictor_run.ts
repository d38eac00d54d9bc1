/**
 * A whole neural-predictor run into a run folder: data, model, the epoch loop, `summary.json`.
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import type { RunOptions } from "./run_options.ts";
import { UsageError } from "../errors.ts";
import { RunDir } from "./run_dir.ts";
import { microBatchNotice } from "../nn/micro_batch.ts";
import { softwareAdapterWarning } from "../nn/cost.ts";
import { trainLoop } from "./loop.ts";
import { createPredictorTrainer } from "./predictor.ts";
import { PredictorDataset } from "../data/images/predictor_dataset.ts";
import { readPreparedTargets } from "../data/nsd/prepared.ts";

/** Options of {@link trainPredictorRun}. */
export interface PredictorRunOptions extends RunOptions {
  prepared: string;
  /** Path of `nsd_stimuli.hdf5` for a subject. */
  stimuli: (subject: number) => string;
  /** Shuffled-pairing control seed. */
  shuffle?: number;
}

/** Summary written to `summary.json`. */
export interface PredictorSummary {
  kind: "predictor";
  roi: string;
  subject: number;
  k: number;
  prepared: string;
  shuffle: number | null;
  epochs: number;
  final: Record<string, number | string | null>;
  componentR: number[];
  /** Mean voxel noise ceiling of the ROI in % (from the prepared file; null when it has none). */
  noiseCeiling: number | null;
  seconds: number;
  trainImagesPerSecond: number;
}

/**
 * Trains (or resumes) a predictor and writes `predictor.safetensors`, `metrics.jsonl`, `summary.json`.
 *
 * @example
 * ```ts
 * import type { Gpu } from "../gpu/mod.ts";
 * import { nsdPaths } from "../data/nsd/paths.ts";
 * // The TO predictor on the simulated world; `run` carries arch, epochs, out, …
 * async function trainToPredictor(gpu: Gpu, run: PredictorRunOptions) {
 *   return await trainPredictorRun(gpu, { ...run, prepared: "runs/demo/subj01_TO.h5",
 *     stimuli: (s) => nsdPaths("data/sim", s).stimuli });
 * }
 * ```
 */
export async function trainPredictorRun(
  gpu: Gpu,
  o: PredictorRunOptions,
): Promise<{ summary: PredictorSummary; seconds: number }> {
  // Read the inputs before touching the run folder, so a bad path fails without side effects.
  const { subject } = await readPreparedTargets(o.prepared);
  const data = await PredictorDataset.open(o.prepared, o.stimuli(subject), {
    size: o.size,
    batch: o.batch,
    seed: o.seed,
    shuffleSeed: o.shuffle,
  });
  const run = new RunDir(o.out);
  let failed = true;
  try {
    const steps = Math.floor(data.trainIds.length / o.batch);
    if (steps === 0) {
      throw new UsageError(
        `batch ${o.batch} is larger than the ${data.trainIds.length} training images of ${o.prepared}`,
      );
    }
    const { stimuli: _stimuli, ...recorded } = o;
    await run.prepare({ kind: "predictor", ...recorded, progress: undefined }, {
      resume: o.resume,
      overwrite: o.force,
    });
    const result = await trainPredictor(gpu, o, run, data, steps);
    failed = false;
    return result;
  } finally {
    data.close();
    run.close({ failed });
  }
}

async function trainPredictor(
  gpu: Gpu,
  o: PredictorRunOptions,
  run: RunDir,
  data: PredictorDataset,
  steps: number,
): Promise<{ summary: PredictorSummary; seconds: number }> {
  const { prepared } = data;
  const trainer = await createPredictorTrainer(gpu, {
    arch: o.arch,
    imageSize: o.size,
    batch: o.batch,
    k: prepared.k,
    optimizer: { kind: "adam", weightDecay: o.wd },
    seed: o.seed,
  });
  if (trainer.micro.count > 1) o.progress?.say(microBatchNotice(o.batch, trainer.micro));
  const slow = softwareAdapterWarning(gpu.kind, o.arch, trainer.config, o.batch, steps * o.epochs);
  if (slow) o.progress?.say(slow);
  let components: number[] = [];
  const result = await trainLoop({
    run,
    config: trainer.config,
    step: trainer.step,
    epochs: o.epochs,
    schedule: () => o.lr,
    checkpointEvery: o.checkpointEvery,
    resume: o.resume,
    seed: o.seed,
    stepsPerEpoch: steps,
    label: `predictor ${prepared.roi}`,
    progress: o.progress,
    finalName: "predictor.safetensors",
    metadata: { roi: prepared.roi, subject: String(prepared.subject), prepared: o.prepared },
    batches: async function* (epoch) {
      for await (const batch of data.train(epoch)) yield (micro) => trainer.load(batch, micro);
    },
    evaluate: async () => {
      const { metrics, components: perComponent } = await trainer.evaluate(data.val());
      components = perComponent;
      return metrics;
    },
  });
  if (components.length === 0) components = (await trainer.evaluate(data.val())).components;
  const summary: PredictorSummary = {
    kind: "predictor",
    roi: prepared.roi,
    subject: prepared.subject,
    k: prepared.k,
    prepared: o.prepared,
    shuffle: data.shuffleSeed,
    epochs: o.epochs,
    final: result.last,
    componentR: components,
    noiseCeiling: prepared.noiseCeilingMean,
    seconds: result.seconds,
    trainImagesPerSecond: result.trainImagesPerSecond,
  };
  await run.writeSummary(summary);
  return { summary, seconds: result.seconds };
}
