/**
 * What an attack needs from a model: a fixed-batch forward pass to logits and a backward pass from a seeded
 * logit gradient to the input gradient, with parameters frozen and BatchNorm in eval mode. Implemented over a
 * {@link Plan} by {@link attackModelFromPlan}; attacks depend only on this interface.
 * @module
 */
import type { Dispatch, Gpu } from "../gpu/device.ts";
import type { ModelConfig } from "../nn/models.ts";
import { type Mode, Plan } from "../nn/plan.ts";
import { largestFittingBatch } from "../nn/micro_batch.ts";

/** A frozen classifier on the GPU, for a fixed batch size. Images are NCHW float32 in [0, 1]. */
export interface AttackModel {
  readonly gpu: Gpu;
  /** [batch, channels, height, width]. */
  readonly inputShape: readonly [number, number, number, number];
  readonly classes: number;
  /** Images the forward pass reads (write adversarial candidates here). */
  readonly input: GPUBuffer;
  /** [batch, classes] logits written by {@link forward}. */
  readonly logits: GPUBuffer;
  /** [batch, classes] gradient of the attack loss w.r.t. the logits; written by the attack's loss kernel. */
  readonly logitsGrad: GPUBuffer;
  /** [batch, C, H, W] gradient w.r.t. the input, written by {@link backward}. */
  readonly inputGrad: GPUBuffer;
  /** Forward pass (eval mode) dispatches. */
  forward(): Dispatch[];
  /** Backward from {@link logitsGrad} to {@link inputGrad}; only valid after {@link forward} in the same submit. */
  backward(): Dispatch[];
}

/**
 * A frozen {@link AttackModel} for `config` with the given weights at `batch` images, or fewer when a tensor of
 * `batch` images would exceed the adapter's storage binding limit (attacks then run more, smaller batches;
 * `inputShape[0]` tells the batch used).
 *
 * @example
 * ```ts
 * import { getGpu } from "../gpu/mod.ts";
 * import { loadCheckpoint } from "../nn/mod.ts";
 * // A checkpoint as an attack target, 16 images per GPU batch.
 * async function attackTarget(path: string) {
 *   const gpu = await getGpu();
 *   const { config, weights } = await loadCheckpoint(path);
 *   return await createAttackModel(gpu, config, weights, 16);
 * }
 * ```
 */
export async function createAttackModel(
  gpu: Gpu,
  config: ModelConfig,
  weights: Map<string, Float32Array>,
  batch: number,
): Promise<AttackModel> {
  // The neural head plays no part in classification; leaving it out keeps its gradient out of the backward pass.
  const classifier = { ...config, neuralDim: 0 };
  const fitting = Math.min(batch, largestFittingBatch([classifier], gpu.bindingLimit));
  const plan = await Plan.create(gpu, classifier, fitting, { inputGrad: true, paramGrads: false });
  plan.loadStateDict(new Map([...weights].filter(([name]) => !name.startsWith("neural_head."))));
  return attackModelFromPlan(plan);
}

/**
 * Wraps a plan created with `inputGrad: true` (and preferably `paramGrads: false`). `mode` is the BatchNorm
 * mode of its passes: `eval` for attacks on a trained model, `train` for adversarial training's inner step.
 */
export function attackModelFromPlan(plan: Plan, mode: Mode = "eval"): AttackModel {
  const [n, c, h, w] = plan.model.graph.input.shape;
  return {
    gpu: plan.gpu,
    inputShape: [n, c, h, w],
    classes: plan.model.logits.shape[1],
    input: plan.input,
    logits: plan.value(plan.model.logits),
    logitsGrad: plan.grad(plan.model.logits),
    inputGrad: plan.inputGrad,
    forward: () => plan.forward(mode),
    backward: () => plan.backward(mode),
  };
}
