/**
 * The neural predictor (docs/method.md#neural-predictor): a ResNet whose `fc` outputs an ROI's K PCA scores,
 * trained with the summed squared error over components averaged over the batch; validated by the per-image
 * Pearson r between predicted and measured K-vectors on the shared images (mean, median, max) and the
 * per-component r.
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import { UserError } from "../errors.ts";
import { type ModelConfig, modelConfig } from "../nn/models.ts";
import { Plan } from "../nn/plan.ts";
import { type MicroBatching, microBatching } from "../nn/micro_batch.ts";
import { type OptimizerOptions, TrainStep } from "../nn/train_step.ts";
import { columnCorrelations, rowCorrelations, summarize } from "./metrics.ts";
import type { TargetBatch } from "../data/images/predictor_dataset.ts";

/** COCO statistics the paper's predictor normalises with (docs/method.md#neural-predictor). */
export const COCO_MEAN = [0.4740539, 0.45110828, 0.4117162];
export const COCO_STD = [0.1120, 0.1153, 0.1304];

export interface PredictorSetup {
  arch: string;
  imageSize: number;
  batch: number;
  /** Components of the ROI targets. */
  k: number;
  optimizer: OptimizerOptions;
  /** Seed of the initial weights (torchvision's initialisation, {@link Plan.initialize}). */
  seed: number;
}

export interface PredictorTrainer {
  config: ModelConfig;
  plan: Plan;
  step: TrainStep;
  /** How a batch runs on this adapter (`count` > 1: micro-batches with accumulated gradients). */
  micro: MicroBatching;
  /** Uploads micro-batch `micro` (default 0) of a batch into the step's buffers. */
  load(batch: TargetBatch, micro?: number): void;
  /** Validation metrics; `components` holds the per-component r for the summary. */
  evaluate(
    batches: AsyncIterable<TargetBatch>,
  ): Promise<{ metrics: Record<string, number>; components: number[] }>;
}

/**
 * @example
 * ```ts
 * import { getGpu } from "../gpu/mod.ts";
 * const gpu = await getGpu();
 * // a predictor of K = 4 PCA scores on 8-px images (the paper's: resnet18, 227 px, batch 200)
 * const trainer = await createPredictorTrainer(gpu, {
 *   arch: "mlp", imageSize: 8, batch: 2, k: 4, optimizer: { kind: "adam", weightDecay: 5e-4 }, seed: 0,
 * });
 * console.log(trainer.plan.model.logits.shape); // [2, 4]: batch × K
 * ```
 */
export async function createPredictorTrainer(gpu: Gpu, s: PredictorSetup): Promise<PredictorTrainer> {
  const config = modelConfig(s.arch, {
    classes: s.k,
    imageSize: s.imageSize,
    mean: COCO_MEAN,
    std: COCO_STD,
  });
  const micro = microBatching([config], s.batch, gpu.bindingLimit);
  const plan = await Plan.create(gpu, config, micro.size);
  plan.initialize(s.seed);
  const step = await TrainStep.create(gpu, plan, s.optimizer, { kind: "regress" }, undefined, micro.count);
  const load = (full: TargetBatch, index = 0) => {
    const batch = targetMicroBatch(full, index, micro.size, s.k);
    plan.setInput(batch.images);
    gpu.write(step.target, batch.targets);
  };
  const evaluate = async (batches: AsyncIterable<TargetBatch>) => {
    const predictions: number[] = [], targets: number[] = [];
    for await (const full of batches) {
      for (let index = 0; index * micro.size < full.count; index++) {
        const batch = targetMicroBatch(full, index, micro.size, s.k);
        load(batch);
        gpu.submit(plan.forward("eval"));
        const out = await plan.read(plan.model.logits);
        predictions.push(...out.subarray(0, batch.count * s.k));
        targets.push(...batch.targets.subarray(0, batch.count * s.k));
      }
    }
    const n = predictions.length / s.k;
    if (n === 0) throw new UserError("validation set is empty");
    const perImage = summarize(rowCorrelations(predictions, targets, n, s.k));
    const components = Array.from(columnCorrelations(predictions, targets, n, s.k));
    let sse = 0;
    for (let i = 0; i < predictions.length; i++) sse += (predictions[i] - targets[i]) ** 2;
    return {
      metrics: {
        val_loss: sse / n,
        val_r_mean: perImage.mean,
        val_r_median: perImage.median,
        val_r_max: perImage.max,
        val_component_r_mean: summarize(components).mean,
      },
      components,
    };
  };
  return { config, plan, step, micro, load, evaluate };
}

/** Micro-batch `index` of `size` rows of a batch of `k`-component targets. */
function targetMicroBatch(batch: TargetBatch, index: number, size: number, k: number): TargetBatch {
  const rows = batch.targets.length / k;
  if (index === 0 && size === rows) return batch;
  const perImage = batch.images.length / rows;
  const start = index * size, end = start + size;
  return {
    ...batch,
    images: batch.images.subarray(start * perImage, end * perImage),
    targets: batch.targets.subarray(start * k, end * k),
    count: Math.max(0, Math.min(size, batch.count - start)),
  };
}
