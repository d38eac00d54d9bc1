/**
 * Input augmentations that make a classifier robust, used as the measurement chain's positive control (a
 * None model trained with them must come out more robust than one trained without):
 * - `noise`: every pixel moved by U(−ε, ε), then clamped to [0, 1];
 * - `fgsm-rs`: FGSM with a random start (Wong, Rice & Kolter 2020, "Fast is better than free"): from
 *   x + U(−ε, ε), one step of 1.25ε along sign ∇ₓCE on the model being trained, projected onto the ε-ball
 *   and the box. The inner step runs on the GPU with the attack kernels over the training plan itself (train
 *   mode, as the reference's `model.train()` does).
 * The draws are a function of seed, epoch and step, so a resumed run sees the same perturbations.
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import { fill } from "../gpu/fill.ts";
import { Random } from "../random.ts";
import { uniformStart } from "../attacks/attack.ts";
import { attackModelFromPlan } from "../attacks/model.ts";
import { AttackOps } from "../attacks/ops.ts";
import type { Plan } from "../nn/plan.ts";
import type { LabeledBatch } from "./guided.ts";

/** Augmentation kinds of `deno task train --augment`. */
export const AUGMENTATIONS = ["noise", "fgsm-rs"] as const;

/** An augmentation and its L∞ radius ε in pixel units (images in [0, 1]). */
export interface Augmentation {
  kind: typeof AUGMENTATIONS[number];
  eps: number;
}

/** FGSM-RS's step as a multiple of ε (Wong et al. 2020). */
export const FGSM_RS_STEP = 1.25;

/** Replaces the plan's input batch (already loaded) by its augmented version. */
export type Augmenter = (batch: LabeledBatch, epoch: number, step: number) => Promise<void>;

/** Whether `augment` needs the plan's input gradient (create the plan with `inputGrad: true`). */
export function needsInputGrad(augment: Augmentation | undefined): boolean {
  return augment?.kind === "fgsm-rs";
}

/**
 * The augmenter of `plan` (created with `inputGrad: true` for `fgsm-rs`).
 *
 * @example
 * ```ts
 * import { getGpu } from "../gpu/mod.ts";
 * import { modelConfig, Plan } from "../nn/mod.ts";
 * const gpu = await getGpu();
 * // a 2-class MLP on 2×2 grey images, batch of 2
 * const config = modelConfig("mlp", { classes: 2, imageSize: 2, channels: 1 });
 * const plan = await Plan.create(gpu, config, 2, { inputGrad: true });
 * plan.initialize(0);
 * const eps = 0.1;
 * const augment = await createAugmenter(gpu, plan, { kind: "fgsm-rs", eps }, 0);
 * const images = new Float32Array([0, 0.5, 1, 0.5, 0.2, 0.4, 0.6, 0.8]);
 * await augment({ images, labels: new Uint32Array([0, 1]), count: 2 }, 0, 0); // epoch 0, step 0
 * const seen = await gpu.readF32(plan.input, images.length); // what the training step will see
 * console.log(seen.every((v, i) => Math.abs(v - images[i]) <= eps + 1e-6 && v >= 0 && v <= 1)); // true
 * ```
 */
export async function createAugmenter(
  gpu: Gpu,
  plan: Plan,
  augment: Augmentation,
  seed: number,
): Promise<Augmenter> {
  const [, c, h, w] = plan.model.graph.input.shape;
  const dim = c * h * w, box = { lo: 0, hi: 1 };
  const start = (batch: LabeledBatch, epoch: number, step: number) =>
    uniformStart(batch.images, dim, "linf", augment.eps, new Random(`augment:${seed}/${epoch}/${step}`), box);
  if (augment.kind === "noise") {
    return (batch, epoch, step) => {
      plan.setInput(start(batch, epoch, step));
      return Promise.resolve();
    };
  }
  const model = attackModelFromPlan(plan, "train");
  const ops = await AttackOps.create(model, box);
  // the neural head's output gradient still holds the last training step's guidance term: zero it, so the
  // step follows the cross-entropy alone (the parameter gradients it writes are overwritten by the real step)
  const neural = plan.model.neural;
  const clearHead = neural
    ? [await fill(gpu, plan.grad(neural), neural.shape.reduce((a, b) => a * b, 1))]
    : [];
  const rate = ops.constant(FGSM_RS_STEP * augment.eps);
  const dispatches = [
    ...model.forward(),
    ops.loss("ce"),
    ...clearHead,
    ...model.backward(),
    ...ops.step("linf", model.input, model.inputGrad, rate, augment.eps),
  ];
  // the queue runs this before the training step that follows: no readback, no wait
  return (batch, epoch, step) => {
    ops.setBatch(batch.images, batch.labels, batch.count);
    plan.setInput(start(batch, epoch, step));
    gpu.submit(dispatches);
    return Promise.resolve();
  };
}
