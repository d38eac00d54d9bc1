/**
 * The epoch loop shared by the neural predictor and the guided classifier: resume from the run's checkpoint,
 * train one epoch of static steps, validate, log, checkpoint atomically every N epochs, write the final
 * weights and the summary. With the same seed a resumed run ends exactly where an uninterrupted one does
 * (data order and augmentation are functions of seed, epoch and index; the kernels are deterministic).
 * @module
 */
import { loadCheckpoint, saveCheckpoint } from "../nn/checkpoint.ts";
import type { ModelConfig } from "../nn/models.ts";
import type { Objective, StepLosses, TrainStep } from "../nn/train_step.ts";
import type { Schedule } from "../optim/schedule.ts";
import type { EpochMetrics, RunDir } from "./run_dir.ts";
import { type ProgressReporter, SILENT } from "../progress.ts";

/** Everything the loop needs; the caller owns data and evaluation. */
export interface LoopOptions {
  run: RunDir;
  config: ModelConfig;
  step: TrainStep;
  epochs: number;
  /** Learning rate for a 0-based epoch. */
  schedule: Schedule;
  checkpointEvery: number;
  resume: boolean;
  seed: number;
  /** Steps per epoch (for the progress bar). */
  stepsPerEpoch: number;
  /**
   * Yields once per training step (0-based epoch) a loader that writes micro-batch `micro` of that step's
   * batch into the step's buffers (micro is always 0 unless the step runs micro-batches).
   */
  batches(epoch: number): AsyncIterable<(micro: number) => void>;
  /** Validation metrics after an epoch (the plan's weights are current). */
  evaluate(epoch: number): Promise<Record<string, number | null>>;
  /** Final weights file name in the run folder. */
  finalName: string;
  label: string;
  /** Where the step bar goes (default: nowhere). */
  progress?: ProgressReporter;
  /** Extra metadata for the checkpoints (e.g. ROI, predictor path). */
  metadata?: Record<string, string>;
  /** Run-folder subfolder keeping each epoch's weights as `epoch_<k>.safetensors` (k = 0: the initial ones). */
  keepEpochs?: string;
}

/** Result of {@link trainLoop}: the last epoch's metrics and the wall time of this process's share. */
export interface LoopResult {
  last: EpochMetrics;
  seconds: number;
  trainImagesPerSecond: number;
}

/** Runs (or resumes) training to `epochs` and returns the final epoch's metrics. */
export async function trainLoop(o: LoopOptions): Promise<LoopResult> {
  const { run, step } = o;
  const plan = step.plan;
  let startEpoch = 0;
  if (o.resume && await exists(run.checkpoint)) {
    const checkpoint = await loadCheckpoint(run.checkpoint, o.config);
    // validated before anything is loaded or truncated
    const resumed = await run.resumePoint(checkpoint.metadata, o);
    plan.loadStateDict(checkpoint.weights, run.checkpoint);
    step.optimizer.importState(checkpoint.extra, run.checkpoint);
    startEpoch = resumed.epoch;
    step.restoreStepCount(resumed.step);
    await run.truncateMetrics(startEpoch);
  } else {
    // A fresh run starts from the weights the trainer initialised from the same seed.
    await run.truncateMetrics(0);
  }
  // the ladder's weights after each epoch, and before the first (chance accuracy: the ladder's floor)
  const keepEpoch = async (epoch: number) => {
    if (!o.keepEpochs) return;
    await Deno.mkdir(run.file(o.keepEpochs), { recursive: true });
    const file = run.file(`${o.keepEpochs}/epoch_${epoch}.safetensors`);
    await saveCheckpoint(file, o.config, await plan.stateDict(), { ...o.metadata, epoch: String(epoch) });
  };
  if (startEpoch === 0) await keepEpoch(0);
  const progress = (o.progress ?? SILENT).stage(o.label, (o.epochs - startEpoch) * o.stepsPerEpoch, {
    unit: "steps",
  });
  const started = performance.now();
  let trainSeconds = 0, trainImages = 0;
  let last: EpochMetrics | undefined;
  for (let epoch = startEpoch; epoch < o.epochs; epoch++) {
    const lr = o.schedule(epoch);
    const losses: StepLosses[] = [];
    const epochStart = performance.now();
    let note = "";
    for await (const load of o.batches(epoch)) {
      const flushed = await step.run(lr, load);
      if (flushed.length) note = describe(flushed);
      losses.push(...flushed);
      progress.tick(1, note);
    }
    losses.push(...await step.flush());
    trainSeconds += (performance.now() - epochStart) / 1000;
    trainImages += losses.length * step.batch;
    const metrics: EpochMetrics = {
      epoch: epoch + 1,
      lr,
      ...trainMetrics(losses, step.batch, step.objective.kind),
      grad_norm_last_step: await step.gradientNorm(),
      ...await o.evaluate(epoch),
    };
    await run.appendMetrics(metrics);
    last = metrics;
    await keepEpoch(epoch + 1);
    if ((epoch + 1) % o.checkpointEvery === 0 || epoch + 1 === o.epochs) {
      const metadata = {
        ...o.metadata,
        epoch: String(epoch + 1),
        step: String(step.steps),
        seed: String(o.seed),
      };
      await saveCheckpoint(
        run.checkpoint,
        o.config,
        await plan.stateDict(),
        metadata,
        await step.optimizer.exportState(),
      );
    }
  }
  progress.done(last ? describeMetrics(last) : "");
  if (!last) last = (await run.readMetrics()).at(-1)!;
  await saveCheckpoint(run.file(o.finalName), o.config, await plan.stateDict(), {
    ...o.metadata,
    epoch: String(last.epoch),
  });
  return {
    last,
    seconds: (performance.now() - started) / 1000,
    trainImagesPerSecond: trainSeconds > 0 ? trainImages / trainSeconds : NaN,
  };
}

function trainMetrics(
  losses: StepLosses[],
  batch: number,
  kind: Objective["kind"],
): Record<string, number> {
  const n = Math.max(1, losses.length);
  const sum = (key: keyof StepLosses) => losses.reduce((a, l) => a + l[key], 0) / n;
  if (kind === "manifold") {
    return {
      train_loss: sum("total"),
      train_ce: sum("ce"),
      train_rad: sum("rad"),
      train_dim: sum("dim"),
      train_acc: sum("correct") / batch,
    };
  }
  return kind === "guide"
    ? {
      train_loss: sum("total"),
      train_ce: sum("ce"),
      train_neural_mse: sum("mse"),
      train_acc: sum("correct") / batch,
    }
    : { train_loss: sum("total"), train_mse: sum("mse") };
}

function describe(losses: StepLosses[]): string {
  const l = losses.at(-1)!;
  return `loss ${l.total.toFixed(4)}`;
}

function describeMetrics(m: EpochMetrics): string {
  return Object.entries(m).filter(([k]) => k.startsWith("val_") && !k.includes("component"))
    .map(([k, v]) => `${k} ${typeof v === "number" ? v.toFixed(3) : v}`).join(" ");
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
