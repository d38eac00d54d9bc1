/**
 * neuroguide: train image classifiers whose representation is pulled toward human ventral-stream fMRI (NSD),
 * on WebGPU, and measure what that neural guidance does.
 *
 * @example Train a tiny model and read its logits
 * ```ts
 * import { getGpu, modelConfig, Plan, TrainStep } from "./mod.ts";
 * const gpu = await getGpu();
 * const plan = await Plan.create(gpu, modelConfig("resnet-tiny", { classes: 10, imageSize: 32 }), 16);
 * plan.initialize(0);
 * const step = await TrainStep.create(gpu, plan, { kind: "sgd", momentum: 0.9 }, { kind: "guide", alpha: 0 });
 * plan.setInput(images); gpu.write(step.labels, labels);
 * await step.run(0.1);
 * console.log(await step.flush());
 * ```
 * @module
 */

// Errors: every error a user can fix derives from UserError (one-line message)
export { UsageError, UserError } from "./lib/errors.ts";

// GPU core
export { type AdapterKind, type Dispatch, getGpu, Gpu, GpuError, type KernelSpec } from "./lib/gpu/device.ts";
export { loadKernelSource } from "./lib/gpu/shader.ts";

// Ops (one program object per kernel; forward beside backward)
export { Matmul } from "./lib/ops/matmul.ts";
export { Linear } from "./lib/ops/linear.ts";
export { Conv2d } from "./lib/ops/conv2d.ts";
export { BatchNorm2d } from "./lib/ops/batchnorm.ts";
export { Add, Copy, Relu, Scale } from "./lib/ops/elementwise.ts";
export { Normalize } from "./lib/ops/normalize.ts";
export { AdaptiveAvgPool2d, GlobalAvgPool, MaxPool2d } from "./lib/ops/pool.ts";
export { GuidanceLoss, Mse, SoftmaxCrossEntropy } from "./lib/ops/loss.ts";
export {
  type DimSign,
  MANIFOLD_DEFAULT_WEIGHTS,
  ManifoldLoss,
  type ManifoldLossWeights,
  type ManifoldTargets,
} from "./lib/ops/manifold_loss.ts";
export { Reduce } from "./lib/ops/reduction.ts";
export { ShapeError } from "./lib/ops/shape.ts";

// Models, plans, training
export {
  type ArchitectureName,
  ARCHITECTURES,
  buildModel,
  type BuiltModel,
  type HeadPosition,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type ModelConfig,
  modelConfig,
} from "./lib/nn/models.ts";
export { type Mode, Plan, type PlanOptions } from "./lib/nn/plan.ts";
export {
  NonFiniteLossError,
  type Objective,
  type OptimizerOptions,
  type StepLosses,
  TrainStep,
} from "./lib/nn/train_step.ts";
export { type Checkpoint, loadCheckpoint, saveCheckpoint } from "./lib/nn/checkpoint.ts";
export { Adam, type AdamOptions } from "./lib/optim/adam.ts";
export { Sgd, type SgdOptions } from "./lib/optim/sgd.ts";
export { cosineAnnealingLR, type Schedule, stepLR, withWarmup } from "./lib/optim/schedule.ts";
export { createGuidedTrainer, type GuidedSetup, type GuidedTrainer } from "./lib/train/guided.ts";
export { createPredictorTrainer, type PredictorSetup, type PredictorTrainer } from "./lib/train/predictor.ts";
export {
  loadManifoldTargets,
  manifoldTargets,
  predictorOutputs,
  saveManifoldTargets,
} from "./lib/train/manifold_stats.ts";
export { columnCorrelations, crossEntropy, pearson, rowCorrelations } from "./lib/train/metrics.ts";

// Files
export {
  checkStateDict,
  readConfig,
  readSafetensors,
  type Safetensors,
  SafetensorsError,
  writeSafetensors,
} from "./lib/io/safetensors.ts";
export { Random } from "./lib/random.ts";

// Data: NSD readers and preparation, the simulated world, image sources and loaders
export * from "./lib/data/nsd/mod.ts";
export * from "./lib/data/synth/mod.ts";
export * from "./lib/data/images/mod.ts";
export { openClassificationData } from "./lib/train/classification_data.ts";
export {
  type GuidedRunOptions,
  type GuidedSummary,
  MANIFOLD_STATS_FILE,
  trainGuidedRun,
} from "./lib/train/guided_run.ts";
export { trainPredictorRun } from "./lib/train/predictor_run.ts";
export { runDemo } from "./lib/train/demo.ts";

// Analyses
export * from "./lib/analysis/mod.ts";

// Attacks
export * from "./lib/attacks/mod.ts";

// Plots and sweep reports
export * from "./lib/plot/mod.ts";
export * from "./lib/report/mod.ts";

// Notebooks
export {
  DEFAULT_RESULTS,
  NOTEBOOK_SWEEP_COMMAND,
  resultsFolder,
  showChart,
  showTable,
} from "./lib/notebook/mod.ts";
