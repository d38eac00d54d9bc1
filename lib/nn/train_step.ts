/**
 * One optimisation step as a fixed list of dispatches: forward (train mode), an optional frozen teacher
 * producing the neural targets, the loss, backward, the optimizer. Each step is one command buffer; the only
 * readback is {@link TrainStep.flush}, which returns the losses of every step since the last flush and stops
 * with an error naming the step if a loss became NaN or infinite.
 * @module
 */
import { UserError } from "../errors.ts";
import type { Dispatch, Gpu } from "../gpu/device.ts";
import { GuidanceLoss, Mse } from "../ops/loss.ts";
import { ManifoldLoss, type ManifoldLossWeights, type ManifoldTargets } from "../ops/manifold_loss.ts";
import { Scale } from "../ops/elementwise.ts";
import { Reduce } from "../ops/reduction.ts";
import { Adam } from "../optim/adam.ts";
import type { Optimizer } from "../optim/optimizer.ts";
import { Sgd } from "../optim/sgd.ts";
import type { Plan } from "./plan.ts";

/** Optimizer settings (PyTorch semantics). */
export type OptimizerOptions =
  | { kind: "sgd"; momentum?: number; nesterov?: boolean; weightDecay?: number }
  | { kind: "adam" | "adamw"; betas?: [number, number]; eps?: number; weightDecay?: number };

/**
 * What is minimised:
 * - `guide`: `(1 − α)·CE(logits, labels) + α·MSE(neural head, target)` (α = 0 is plain classification);
 * - `regress`: the neural predictor's loss, Σ (logits − target)² / batch (the paper's summed squared error);
 * - `manifold`: `w_ce·CE + w_rad·L_rad + w_dim·L_dim` of the neural head against stored per-class targets
 *   (docs/method.md#manifold-guidance, {@link ManifoldLoss}); no target buffer or teacher is used.
 */
export type Objective =
  | { kind: "guide"; alpha: number }
  | { kind: "regress" }
  | { kind: "manifold"; targets: ManifoldTargets; weights: ManifoldLossWeights };

/**
 * Loss values of one step. `ce` and `correct` are 0 for `regress`; `mse` is the per-element mean (0 for
 * `manifold`); `rad` and `dim` are the manifold terms (0 for the other objectives).
 */
export interface StepLosses {
  step: number;
  total: number;
  ce: number;
  mse: number;
  correct: number;
  rad: number;
  dim: number;
}

/** Raised when a loss stops being finite; names the step. */
export class NonFiniteLossError extends UserError {
  override name = "NonFiniteLossError";
}

/** Steps held on the GPU between flushes. */
const HISTORY_SLOTS = 64;
/** Loss values logged per step: total, ce, mse, correct (guide); total, ce, rad, dim, correct (manifold). */
const WIDTH = 5;

/** Per micro-batch: the gradients into the step's accumulators, overwriting (first) or adding (the rest). */
interface Accumulation {
  gradients: Map<string, GPUBuffer>;
  first: Dispatch[];
  rest: Dispatch[];
}

export class TrainStep {
  /** Images go into `plan.input`; labels (u32) here; neural targets in {@link target} unless a teacher writes them. */
  readonly labels: GPUBuffer;
  readonly target: GPUBuffer;
  #pending: number[] = [];
  #steps = 0;

  private constructor(
    readonly gpu: Gpu,
    readonly plan: Plan,
    readonly optimizer: Optimizer,
    readonly objective: Objective,
    private readonly lossDispatches: Dispatch[],
    private readonly logDispatches: Dispatch[],
    private readonly history: GPUBuffer,
    private readonly teacher: readonly Dispatch[],
    labels: GPUBuffer,
    target: GPUBuffer,
    private readonly guidance: GuidanceLoss | null,
    private readonly accumulation: Accumulation | null,
    /** Micro-batches of `plan.batch` images per step (see `lib/nn/micro_batch.ts`). */
    readonly microBatches: number,
    /** Passes over different views of the same images among those micro-batches ({@link create}). */
    readonly views: number,
  ) {
    this.labels = labels;
    this.target = target;
  }

  /**
   * Binds a training step for `plan`. With `teacher`, its dispatches run after the model's forward and must
   * write `teacherOutput` (e.g. a frozen predictor's output on the same batch), which becomes the target.
   * With `microBatches` k > 1 a step is k forward/backward passes of `plan.batch` images whose gradients are
   * averaged before one optimizer update (the batch is `k · plan.batch`; see `lib/nn/micro_batch.ts`).
   * With `views` v > 1 those k passes are v views of the same k / v micro-batches (e.g. an image and its
   * perturbation, each with its own loss weights, {@link setPassLoss}): the batch is `k / v · plan.batch`
   * images, and the logged losses and accuracy are the views' means.
   *
   * @example
   * ```ts
   * import { getGpu } from "../gpu/mod.ts";
   * import { modelConfig } from "./models.ts";
   * import { Plan } from "./plan.ts";
   * const gpu = await getGpu();
   * // a 2-class MLP with a 3-dimensional neural head, guided with α = 0.9
   * const config = modelConfig("mlp", { classes: 2, imageSize: 2, channels: 1, neuralDim: 3 });
   * const plan = await Plan.create(gpu, config, 2);
   * plan.initialize(0);
   * const step = await TrainStep.create(gpu, plan, { kind: "sgd", momentum: 0.9, weightDecay: 1e-4 }, {
   *   kind: "guide",
   *   alpha: 0.9,
   * });
   * plan.setInput(new Float32Array([0, 1, 1, 0, 1, 0, 0, 1]));
   * gpu.write(step.labels, new Uint32Array([0, 1]));
   * gpu.write(step.target, new Float32Array([1, 0, 0, 0, 1, 0])); // the neural head's targets
   * await step.run(0.1);
   * const [losses] = await step.flush(); // { step: 1, total, ce, mse, correct, … }
   * ```
   */
  static async create(
    gpu: Gpu,
    plan: Plan,
    optimizerOptions: OptimizerOptions,
    objective: Objective,
    teacher?: { dispatches: readonly Dispatch[]; output: GPUBuffer },
    microBatches = 1,
    views = 1,
  ): Promise<TrainStep> {
    if (!Number.isInteger(microBatches) || microBatches < 1) {
      throw new Error(`TrainStep: microBatches must be a positive integer, got ${microBatches}`);
    }
    if (!Number.isInteger(views) || views < 1 || microBatches % views !== 0) {
      throw new Error(`TrainStep: views must divide microBatches (${microBatches}), got ${views}`);
    }
    const model = plan.model;
    const batch = plan.batch;
    const accumulation = microBatches > 1 ? await createAccumulation(gpu, plan, microBatches) : null;
    const optimizer = await createOptimizer(gpu, plan, optimizerOptions, accumulation?.gradients);
    const labels = gpu.buffer(batch * 4, "train.labels");
    const out = gpu.buffer(WIDTH * 4, "train.loss");
    const logits = plan.value(model.logits), dLogits = plan.grad(model.logits);
    let lossDispatches: Dispatch[];
    let target: GPUBuffer;
    let guidance: GuidanceLoss | null = null;
    if (objective.kind === "guide") {
      const neuralDim = model.neural?.shape[1] ?? 1;
      target = teacher?.output ?? gpu.buffer(batch * neuralDim * 4, "train.target");
      guidance = await GuidanceLoss.create(gpu, { batch, classes: model.logits.shape[1], neuralDim });
      guidance.setAlpha(model.neural ? objective.alpha : 0);
      // A model without a neural head trains on CE alone; the loss still needs head/target operands.
      const head = model.neural ? plan.value(model.neural) : gpu.buffer(batch * 4, "train.no-head");
      const dHead = model.neural ? plan.grad(model.neural) : gpu.buffer(batch * 4, "train.no-head-grad");
      const operands = { logits, labels, head, target };
      lossDispatches = [
        ...guidance.forward({ ...operands, out }),
        ...guidance.backward({ ...operands, dLogits, dHead }),
      ];
    } else if (objective.kind === "manifold") {
      if (!model.neural) throw new Error("the manifold objective needs a model with a neural head");
      target = gpu.buffer(4, "train.no-target");
      const manifold = await ManifoldLoss.create(gpu, {
        batch,
        logitClasses: model.logits.shape[1],
        targets: objective.targets,
        weights: objective.weights,
      });
      const operands = { logits, labels, head: plan.value(model.neural) };
      lossDispatches = [
        ...manifold.forward({ ...operands, out }),
        ...manifold.backward({ ...operands, dLogits, dHead: plan.grad(model.neural) }),
      ];
    } else {
      const k = model.logits.shape[1];
      target = teacher?.output ?? gpu.buffer(logits.size, "train.target");
      const mse = await Mse.create(gpu, { count: batch * k });
      // Σ(pred − target)²/batch = K·mean: the reported loss and the mean's gradient are both scaled by K.
      const gradScale = await Scale.create(gpu, { count: batch * k, factor: k });
      const lossScale = await Scale.create(gpu, { count: 1, factor: k });
      const meanGrad = gpu.buffer(logits.size, "train.mse-grad");
      const mean = gpu.buffer(16, "train.mse");
      lossDispatches = [
        ...mse.forward({ pred: logits, target, out: mean }),
        ...lossScale.forward({ x: mean, y: out }),
        ...mse.backward({ pred: logits, target, dPred: meanGrad }),
        ...gradScale.forward({ x: meanGrad, y: dLogits }),
      ];
    }
    // One history slot per micro-batch; flush combines a step's slots.
    const history = gpu.buffer(HISTORY_SLOTS * microBatches * WIDTH * 4, "train.history");
    const logPipeline = await gpu.pipeline({ file: "loss_log", entry: "main" });
    const logDispatches = Array.from(
      { length: HISTORY_SLOTS * microBatches },
      (_, slot) => gpu.bind(logPipeline, [out, history, gpu.uniform([slot, WIDTH])], [1]),
    );
    return new TrainStep(
      gpu,
      plan,
      optimizer,
      objective,
      lossDispatches,
      logDispatches,
      history,
      teacher?.dispatches ?? [],
      labels,
      target,
      guidance,
      accumulation,
      microBatches,
      views,
    );
  }

  /** Images per step: the micro-batch times the number of micro-batches. */
  get batch(): number {
    return this.plan.batch * this.microBatches / this.views;
  }

  /** Steps run so far (including restored ones, see {@link restoreStepCount}). */
  get steps(): number {
    return this.#steps;
  }

  /** Changes α for the following steps (guided objective only). */
  setAlpha(alpha: number): void {
    this.guidance?.setAlpha(this.plan.model.neural ? alpha : 0);
  }

  /**
   * Sets α and the gradient scale of the passes submitted from now on (guided objective only): called from
   * {@link run}'s `load`, it weighs each view of a step differently. Gradients are averaged over the k passes,
   * so pass weights w_p need scale k·w_p; e.g. CE on x and MSE on x + δ at α: (0, 2(1 − α)) then (1, 2α).
   */
  setPassLoss(alpha: number, scale: number): void {
    if (!this.guidance) throw new Error("TrainStep.setPassLoss: only the guided objective has pass weights");
    this.guidance.setAlpha(alpha);
    this.guidance.setScale(scale);
  }

  /**
   * Submits one step at learning rate `lr`. `load(micro)` writes micro-batch `micro` (0-based) into the
   * input/label/target buffers before its pass; without it the step uses what the buffers hold (one
   * micro-batch only). Flushes (one readback) automatically when the on-GPU history is full.
   */
  async run(lr: number, load?: (micro: number) => void): Promise<StepLosses[]> {
    if (!load && this.microBatches > 1) {
      throw new Error(`TrainStep.run: a step of ${this.microBatches} micro-batches needs a load callback`);
    }
    const flushed = this.#pending.length === HISTORY_SLOTS ? await this.flush() : [];
    const slot = this.#pending.length * this.microBatches;
    for (let micro = 0; micro < this.microBatches; micro++) {
      load?.(micro);
      const accumulate = this.accumulation
        ? micro === 0 ? this.accumulation.first : this.accumulation.rest
        : [];
      const update = micro === this.microBatches - 1 ? this.optimizer.step(lr) : [];
      this.gpu.submit([
        ...this.plan.forward("train"),
        ...this.teacher,
        ...this.lossDispatches,
        this.logDispatches[slot + micro],
        ...this.plan.backward("train"),
        ...accumulate,
        ...update,
      ]);
      // PyTorch advances num_batches_tracked on every train-mode forward, micro-batches included.
      this.plan.countTrainStep();
    }
    this.#pending.push(++this.#steps);
    return flushed;
  }

  /** Reads the losses of the steps since the last flush; throws {@link NonFiniteLossError} naming the step. */
  async flush(): Promise<StepLosses[]> {
    if (this.#pending.length === 0) return [];
    const micro = this.microBatches;
    const values = await this.gpu.readF32(this.history, this.#pending.length * micro * WIDTH);
    // The regression loss kernel writes only the total (K·mean); its per-element mean follows from it.
    const k = this.objective.kind === "regress" ? this.plan.model.logits.shape[1] : 0;
    const manifold = this.objective.kind === "manifold";
    const correctField = manifold ? 4 : 3;
    const losses = this.#pending.map((step, i) => {
      // A step's micro-batches are equal in size: its mean losses are the means of theirs, its correct count
      // their sum.
      const v = new Float64Array(WIDTH);
      for (let m = 0; m < micro; m++) {
        const slot = values.subarray((i * micro + m) * WIDTH, (i * micro + m + 1) * WIDTH);
        for (let f = 0; f < WIDTH; f++) v[f] += f === correctField ? slot[f] / this.views : slot[f] / micro;
      }
      return manifold
        ? { step, total: v[0], ce: v[1], mse: 0, correct: v[4], rad: v[2], dim: v[3] }
        : { step, total: v[0], ce: v[1], mse: k ? v[0] / k : v[2], correct: v[3], rad: 0, dim: 0 };
    });
    this.#pending = [];
    const bad = losses.find((l) => !Number.isFinite(l.total));
    if (bad) {
      throw new NonFiniteLossError(
        `loss became ${bad.total} at step ${bad.step} (ce ${bad.ce}, mse ${bad.mse}); lower the learning rate ` +
          `or check the inputs — the last checkpoint is unaffected`,
      );
    }
    return losses;
  }

  /** Sets the step counter after a resume (the optimizer's own count is restored with its state). */
  restoreStepCount(steps: number): void {
    this.#steps = steps;
  }

  /** L2 norm of all parameter gradients of the last step (one readback; for logging). */
  async gradientNorm(): Promise<number> {
    const out = this.gpu.buffer(16, "train.gradnorm");
    const dispatches: Dispatch[] = [];
    let first = true;
    for (const grad of (this.accumulation?.gradients ?? this.plan.paramGrads).values()) {
      const reduce = await Reduce.create(this.gpu, { count: grad.size / 4 });
      dispatches.push(...reduce.sumOfSquares({ x: grad, out }, !first));
      first = false;
    }
    this.gpu.submit(dispatches);
    const [sum] = await this.gpu.readF32(out, 1);
    out.destroy();
    return Math.sqrt(sum);
  }
}

/** Accumulators of the batch-mean gradient: each micro-batch adds its (micro-batch mean) gradient / k. */
async function createAccumulation(gpu: Gpu, plan: Plan, microBatches: number): Promise<Accumulation> {
  const gradients = new Map<string, GPUBuffer>();
  const first: Dispatch[] = [], rest: Dispatch[] = [];
  for (const [name, grad] of plan.paramGrads) {
    const sum = gpu.buffer(grad.size, `train.accumulated:${name}`);
    const scale = await Scale.create(gpu, { count: grad.size / 4, factor: 1 / microBatches });
    first.push(...scale.forward({ x: grad, y: sum }));
    rest.push(...scale.forward({ x: grad, y: sum }, true));
    gradients.set(name, sum);
  }
  return { gradients, first, rest };
}

async function createOptimizer(
  gpu: Gpu,
  plan: Plan,
  options: OptimizerOptions,
  gradients: ReadonlyMap<string, GPUBuffer> = plan.paramGrads,
): Promise<Optimizer> {
  const params = plan.specs.filter((s) => s.trainable).map((s) => ({
    name: s.name,
    shape: s.shape,
    param: plan.params.get(s.name)!,
    grad: gradients.get(s.name)!,
  }));
  if (options.kind === "sgd") return await Sgd.create(gpu, params, options);
  return await Adam.create(gpu, params, { ...options, decoupled: options.kind === "adamw" });
}
