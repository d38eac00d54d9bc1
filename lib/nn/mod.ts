/**
 * Models and their execution: architectures with torchvision parameter names ({@link modelConfig},
 * {@link buildModel}: ResNet-18 and small variants, linear, MLP, each with an optional neural head), the
 * static {@link Plan} (every buffer allocated once; forward and backward passes bound once into dispatch
 * lists), the {@link TrainStep} (loss, backward and optimizer update encoded as one submission) and
 * safetensors checkpoints that load into PyTorch unchanged.
 *
 * `graph.ts`, `init.ts` and `layer_kernels.ts` are internal: they turn a model description into kernels.
 *
 * @example Forward pass of a tiny MLP
 * ```ts
 * import { getGpu } from "../gpu/mod.ts";
 * import { modelConfig, Plan } from "./mod.ts";
 * const gpu = await getGpu();
 * const plan = await Plan.create(gpu, modelConfig("mlp", { classes: 3, imageSize: 4, channels: 1 }), 2);
 * plan.initialize(0);
 * plan.setInput(new Float32Array(2 * 16).fill(0.5)); // NCHW in [0, 1]
 * gpu.submit(plan.forward("eval"));
 * console.log(await plan.read(plan.model.logits)); // 2 × 3 logits
 * ```
 * @module
 */
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
} from "./models.ts";
export { type Mode, Plan, type PlanOptions } from "./plan.ts";
export {
  NonFiniteLossError,
  type Objective,
  type OptimizerOptions,
  type StepLosses,
  TrainStep,
} from "./train_step.ts";
export { type Checkpoint, loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
