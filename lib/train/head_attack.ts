/**
 * The adversarial δ of the `oracle-adversarial` teacher: one FGSM step against the student's own neural head.
 * From a start x′ in the ε-ball around x, x + δ = P(x′ + 1.25ε · sign ∇ₓ′‖head(x′) − t‖²), projected onto the
 * ε-ball and the box [0, 1], where t is the brain's (oracle's) target for the clean x. The cross-entropy takes
 * no part (α = 1 in the guidance loss writes a zero logit gradient), so δ is chosen by the neural head alone
 * and the ROI's invariance, not a classification attack, is what the student is then trained on. BatchNorm
 * runs in train mode, as in the training step that follows (and as in FGSM-RS training).
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import { attackModelFromPlan } from "../attacks/model.ts";
import { AttackOps } from "../attacks/ops.ts";
import { GuidanceLoss } from "../ops/loss.ts";
import type { Plan } from "../nn/plan.ts";
import { FGSM_RS_STEP } from "./augment.ts";
import type { LabeledBatch } from "./guided.ts";

/** Perturbs `batch` from `start` against the head's distance to `cleanTargets`; resolves to x + δ (host copy). */
export type HeadAttack = (
  batch: LabeledBatch,
  start: Float32Array,
  cleanTargets: Float32Array,
) => Promise<Float32Array>;

/**
 * The head attack of `plan` (created with `inputGrad: true` and a neural head). `target` and `labels` are
 * the training step's buffers: the attack writes the clean targets and the labels there, and the staging
 * that follows overwrites the targets with the brain's response to x + δ.
 *
 * @example
 * ```ts
 * import { getGpu } from "../gpu/mod.ts";
 * import { modelConfig, Plan } from "../nn/mod.ts";
 * const gpu = await getGpu();
 * // a 2-class MLP with a 3-wide neural head on 2×2 grey images, batch of 2
 * const config = modelConfig("mlp", { classes: 2, imageSize: 2, channels: 1, neuralDim: 3 });
 * const plan = await Plan.create(gpu, config, 2, { inputGrad: true });
 * plan.initialize(0);
 * const target = gpu.buffer(2 * 3 * 4, "target"), labels = gpu.buffer(2 * 4, "labels");
 * const eps = 0.1;
 * const attack = await createHeadAttack(gpu, plan, { target, labels }, eps);
 * const images = new Float32Array([0, 0.5, 1, 0.5, 0.2, 0.4, 0.6, 0.8]);
 * const batch = { images, labels: new Uint32Array([0, 1]), count: 2 };
 * const adversarial = await attack(batch, images, new Float32Array(6).fill(1));
 * console.log(adversarial.every((v, i) => Math.abs(v - images[i]) <= eps + 1e-6)); // true
 * ```
 */
export async function createHeadAttack(
  gpu: Gpu,
  plan: Plan,
  buffers: { target: GPUBuffer; labels: GPUBuffer },
  eps: number,
): Promise<HeadAttack> {
  const neural = plan.model.neural;
  if (!neural) throw new Error("createHeadAttack: the model has no neural head");
  const model = attackModelFromPlan(plan, "train");
  const ops = await AttackOps.create(model, { lo: 0, hi: 1 });
  const [batchSize, classes] = plan.model.logits.shape;
  const loss = await GuidanceLoss.create(gpu, {
    batch: batchSize,
    classes,
    neuralDim: neural.shape[1],
    alpha: 1,
  });
  const head = plan.value(neural);
  const dispatches = [
    ...model.forward(),
    ...loss.backward({
      logits: model.logits,
      labels: buffers.labels,
      head,
      target: buffers.target,
      dLogits: model.logitsGrad,
      dHead: plan.grad(neural),
    }),
    ...model.backward(),
    ...ops.step("linf", model.input, model.inputGrad, ops.constant(FGSM_RS_STEP * eps), eps),
  ];
  return async (batch, start, cleanTargets) => {
    ops.setBatch(batch.images, batch.labels, batch.count);
    gpu.write(buffers.labels, batch.labels);
    gpu.write(buffers.target, cleanTargets);
    plan.setInput(start);
    gpu.submit(dispatches);
    return await gpu.readF32(model.input, start.length);
  };
}
