/**
 * Neural-guided classifier training (docs/method.md#guided-training): a classifier with a neural head
 * regressed onto a frozen neural predictor's output on the same batch, `L = (1 − α)·CE + α·MSE(head(x),
 * NP(x))`, and the baselines: `none` (α = 0), `random` (a seeded random frozen predictor), `shuffle` (the
 * predictor sees another image, chosen by a fixed permutation) and the weight-decay models.
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import { UserError } from "../errors.ts";
import { loadCheckpoint } from "../nn/checkpoint.ts";
import { type ModelConfig, modelConfig } from "../nn/models.ts";
import { Plan } from "../nn/plan.ts";
import { type MicroBatching, microBatching } from "../nn/micro_batch.ts";
import { type Objective, type OptimizerOptions, TrainStep } from "../nn/train_step.ts";
import { ManifoldLoss, type ManifoldLossWeights, type ManifoldTargets } from "../ops/manifold_loss.ts";
import { crossEntropy, rowCorrelations, summarize } from "./metrics.ts";
import { ADVERSARIAL_MODES, HEAD_ONLY_MODES, type OracleTeacher } from "./oracle_teacher.ts";
import { createHeadAttack } from "./head_attack.ts";

/** Names accepted by `--roi`: a baseline or an ROI the predictor was trained on. */
export const BASELINES = ["none", "random"] as const;

/** Output size of the random predictor (the paper's `Encoders.py` uses K = 497). */
export const RANDOM_PREDICTOR_DIM = 497;

/** Seed of the random predictor and of the shuffle permutation (the paper's 1024). */
export const CONTROL_SEED = 1024;

/** A batch for the classifier: images NCHW in [0, 1], labels, and how many rows are real (the rest is padding). */
export interface LabeledBatch {
  images: Float32Array;
  labels: Uint32Array;
  count: number;
  /** Images the predictor sees instead (the shuffle control); absent = the same images. */
  predictorImages?: Float32Array;
}

/** How the guided model is built. */
export interface GuidedSetup {
  arch: string;
  classes: number;
  imageSize: number;
  batch: number;
  /** "none", "random" or an ROI name that must match the predictor's. */
  roi: string;
  /** Predictor checkpoint (needed unless roi is a baseline). */
  predictorPath?: string;
  alpha: number;
  /** The predictor sees a different image (fixed permutation); the data source supplies those images. */
  shuffle: boolean;
  /** BatchNorm mode of the frozen predictor during training (docs/method.md#guided-training: "train"). */
  predictorBatchNorm: "train" | "eval";
  optimizer: OptimizerOptions;
  /** Seed of the classifier's initial weights (torchvision's initialisation, {@link Plan.initialize}). */
  seed: number;
  /** Allocate the input gradient (an FGSM-RS augmentation steps along it). */
  inputGrad?: boolean;
  /** Neural-head width when no predictor fixes it (roi none). */
  neuralDim?: number;
  /**
   * Manifold guidance (docs/method.md#manifold-guidance): the head is trained towards these per-class targets
   * instead of a predictor's outputs; `roi` is then only a label and no predictor is loaded.
   */
  manifold?: { targets: ManifoldTargets; weights: ManifoldLossWeights };
  /**
   * The simulated brain is the teacher (`oracle_teacher.ts`): targets are computed from each batch on the
   * CPU and no predictor is loaded; `roi` must be the oracle's.
   */
  oracle?: OracleTeacher;
}

/** The bound pieces of a guided run. */
export interface GuidedTrainer {
  config: ModelConfig;
  plan: Plan;
  predictor: Plan | null;
  step: TrainStep;
  /** ROI recorded in the predictor (or the baseline's name). */
  roi: string;
  /** Effective α (0 for none). */
  alpha: number;
  /** How a batch runs on this adapter (`count` > 1: micro-batches with accumulated gradients). */
  micro: MicroBatching;
  /** Uploads micro-batch `micro` (default 0) of a training batch into the step's buffers. */
  load(batch: LabeledBatch, micro?: number): void;
  /**
   * With an oracle teacher, stages a whole training batch instead of {@link load}: what its mode shows the
   * student (after GPU work, for the adversarial modes) and the CPU-computed targets. Resolves to the step's
   * per-pass load (the head-only modes: view 0 the clean images, view 1 x + δ). Undefined otherwise.
   */
  stage?: (batch: LabeledBatch) => Promise<(view: number) => void>;
  /** Validation metrics over `batches`. */
  evaluate(batches: AsyncIterable<LabeledBatch>): Promise<Record<string, number | null>>;
}

/**
 * Builds the classifier plan, the frozen predictor (if any) and the training step.
 *
 * @example
 * ```ts
 * import { getGpu } from "../gpu/mod.ts";
 * const gpu = await getGpu();
 * // The None baseline on a tiny MLP: no predictor, α forced to 0. An ROI model instead sets roi: "TO" and
 * // predictorPath: "runs/np-TO/predictor.safetensors" (a `deno task predictor` run).
 * const trainer = await createGuidedTrainer(gpu, {
 *   arch: "mlp", classes: 3, imageSize: 4, batch: 2, roi: "none",
 *   alpha: 0.9, shuffle: false, predictorBatchNorm: "train", optimizer: { kind: "sgd", momentum: 0.9, weightDecay: 1e-4 },
 *   seed: 0,
 * });
 * console.log(trainer.alpha); // 0
 * ```
 */
export async function createGuidedTrainer(gpu: Gpu, s: GuidedSetup): Promise<GuidedTrainer> {
  const baseline = (BASELINES as readonly string[]).includes(s.roi) ? s.roi : null;
  let predictorConfig: ModelConfig | null = null;
  let predictorWeights: Map<string, Float32Array> | null = null;
  let roi = s.roi;
  if (s.manifold) {
    // No predictor at train time: the targets were computed from it beforehand.
  } else if (s.oracle) {
    if (baseline || s.oracle.roi.toLowerCase() !== s.roi.toLowerCase()) {
      throw new UserError(`--roi ${s.roi}: the oracle's prepared file is for ROI '${s.oracle.roi}'`);
    }
    roi = s.oracle.roi;
  } else if (baseline === "random") {
    predictorConfig = modelConfig(s.arch, { classes: RANDOM_PREDICTOR_DIM, imageSize: s.imageSize });
  } else if (s.predictorPath) {
    // With roi none a predictor is optional: it is only measured against, never trained towards.
    const checkpoint = await loadCheckpoint(s.predictorPath);
    const trainedOn = checkpoint.metadata.roi ?? "unknown";
    if (!baseline && trainedOn.toLowerCase() !== s.roi.toLowerCase()) {
      throw new UserError(
        `ROI ${s.roi}: the predictor ${s.predictorPath} was trained on ROI '${trainedOn}'`,
      );
    }
    if (!baseline) roi = trainedOn;
    // Global average pooling makes the predictor size-agnostic; it runs at the classifier's image size.
    predictorConfig = { ...checkpoint.config, imageSize: s.imageSize, neuralDim: 0 };
    predictorWeights = checkpoint.weights;
  } else if (!baseline) {
    throw new UserError(`ROI ${s.roi} needs a predictor trained on it (deno task predictor)`);
  }
  const neuralDim = s.manifold?.targets.dim ?? s.oracle?.k ?? predictorConfig?.classes ?? s.neuralDim ??
    RANDOM_PREDICTOR_DIM;
  const config = modelConfig(s.arch, { classes: s.classes, imageSize: s.imageSize, neuralDim });
  const micro = microBatching(
    predictorConfig ? [config, predictorConfig] : [config],
    s.batch,
    gpu.bindingLimit,
  );
  if (micro.count > 1 && s.oracle) {
    throw new UserError(
      `batch ${s.batch} needs ${micro.count} micro-batches on this adapter, and oracle teachers run unsplit ` +
        `only: use a batch of at most ${micro.size}`,
    );
  }
  const adversarial = s.oracle !== undefined && ADVERSARIAL_MODES.includes(s.oracle.mode);
  // CE on x and the head's MSE on x + δ: two views of each batch, one update (TrainStep views)
  const views = s.oracle && HEAD_ONLY_MODES.includes(s.oracle.mode) ? 2 : 1;
  const plan = await Plan.create(gpu, config, micro.size, {
    inputGrad: (s.inputGrad ?? false) || adversarial,
  });
  plan.initialize(s.seed);
  let predictor: Plan | null = null;
  if (predictorConfig) {
    // bnMomentum 0: in train-mode BN the predictor normalises with batch statistics (as the paper's
    // model.train() does) but its running statistics stay those it was trained with — PyTorch would let them
    // drift, which would make validation depend on how long training ran and break exact resume.
    predictor = await Plan.create(gpu, predictorConfig, micro.size, {
      paramGrads: false,
      bnMomentum: 0,
      input: s.shuffle ? undefined : plan.input,
    });
    if (predictorWeights) predictor.loadStateDict(predictorWeights, s.predictorPath);
    else predictor.initialize(CONTROL_SEED);
  }
  const alpha = baseline === "none" || s.manifold ? 0 : s.alpha;
  const oracleTarget = s.oracle && alpha > 0 ? gpu.buffer(s.batch * neuralDim * 4, "oracle.target") : null;
  const teacher = oracleTarget
    ? { dispatches: [], output: oracleTarget }
    : predictor && alpha > 0
    ? { dispatches: predictor.forward(s.predictorBatchNorm), output: predictor.value(predictor.model.logits) }
    : undefined;
  const objective: Objective = s.manifold ? { kind: "manifold", ...s.manifold } : { kind: "guide", alpha };
  const step = await TrainStep.create(gpu, plan, s.optimizer, objective, teacher, micro.count * views, views);

  const loadClean = (full: LabeledBatch, index = 0) => {
    const batch = microBatchOf(full, index, micro.size);
    plan.setInput(batch.images);
    gpu.write(step.labels, batch.labels);
    if (predictor && s.shuffle) predictor.setInput(batch.predictorImages ?? batch.images);
  };
  const oracle = s.oracle;
  const headAttack = oracle && oracleTarget && adversarial
    ? await createHeadAttack(gpu, plan, { target: oracleTarget, labels: step.labels }, oracle.epsilon)
    : null;
  // With the oracle, a training batch becomes what its mode shows the student, plus CPU-computed targets.
  const stage = oracle && oracleTarget
    ? async (batch: LabeledBatch) => {
      const student = headAttack
        ? {
          attack: (start: Float32Array, cleanTargets: Float32Array) => headAttack(batch, start, cleanTargets),
          head: async (images: Float32Array) => {
            plan.setInput(images);
            gpu.submit(plan.forward("train"));
            return await plan.read(plan.model.neural!);
          },
        }
        : undefined;
      const { images, targets, headImages } = await oracle.trainBatch(
        batch.images,
        batch.count,
        s.imageSize,
        student,
      );
      gpu.write(step.labels, batch.labels);
      gpu.write(oracleTarget, targets);
      if (!headImages) {
        plan.setInput(images);
        return () => {};
      }
      // view 0: (1 − α)·CE on x; view 1: α·MSE on x + δ (scales 2(1 − α) and 2α: the views are averaged)
      return (view: number) => {
        plan.setInput(view === 0 ? images : headImages);
        step.setPassLoss(view === 0 ? 0 : 1, 2 * (view === 0 ? 1 - alpha : alpha));
      };
    }
    : undefined;

  const probe = s.manifold && await manifoldProbe(gpu, plan, s.manifold);
  const evaluate = async (batches: AsyncIterable<LabeledBatch>) => {
    const classes = config.classes;
    let n = 0, ceSum = 0, correct = 0, mseSum = 0, radSum = 0, dimSum = 0;
    const headR: number[] = [];
    for await (const full of batches) {
      for (let index = 0; index * micro.size < full.count; index++) {
        await evaluateBatch(microBatchOf(full, index, micro.size));
      }
    }
    if (n === 0) throw new UserError("validation set is empty");
    const r = summarize(headR);
    return {
      val_acc: correct / n,
      val_ce: ceSum / n,
      val_neural_mse: predictor || oracle ? mseSum / (n * neuralDim) : null,
      val_neural_r: predictor || oracle ? r.mean : null,
      ...(probe ? { val_rad: radSum / n, val_dim: dimSum / n } : {}),
    };

    async function evaluateBatch(batch: LabeledBatch): Promise<void> {
      loadClean(batch);
      gpu.submit([...plan.forward("eval"), ...(predictor ? predictor.forward("eval") : [])]);
      const logits = await plan.read(plan.model.logits);
      const ce = crossEntropy(logits, batch.labels, batch.count, classes);
      ceSum += ce.sum;
      correct += ce.correct;
      n += batch.count;
      if (predictor || oracle) {
        const head = (await plan.read(plan.model.neural!)).subarray(0, batch.count * neuralDim);
        // The oracle's validation target is always the brain's response to the clean image itself.
        const target = oracle
          ? oracle.targets(batch.images, batch.count, s.imageSize).subarray(0, batch.count * neuralDim)
          : (await predictor!.read(predictor!.model.logits)).subarray(0, batch.count * neuralDim);
        for (let i = 0; i < head.length; i++) mseSum += (head[i] - target[i]) ** 2;
        headR.push(...rowCorrelations(head, target, batch.count, neuralDim));
      }
      if (probe) {
        const [rad, dim] = await probe(batch);
        radSum += rad * batch.count;
        dimSum += dim * batch.count;
      }
    }
  };
  const name = s.manifold ? roi : baseline ?? roi;
  return { config, plan, predictor, step, roi: name, alpha, micro, load: loadClean, stage, evaluate };
}

/** Micro-batch `index` of `size` rows of a batch (the whole batch when it is that size already). */
export function microBatchOf(batch: LabeledBatch, index: number, size: number): LabeledBatch {
  const rows = batch.labels.length;
  if (index === 0 && size === rows) return batch;
  const perImage = batch.images.length / rows;
  const start = index * size, end = start + size;
  return {
    images: batch.images.subarray(start * perImage, end * perImage),
    labels: batch.labels.subarray(start, end),
    count: Math.max(0, Math.min(size, batch.count - start)),
    predictorImages: batch.predictorImages?.subarray(start * perImage, end * perImage),
  };
}

/**
 * Measures L_rad and L_dim of the plan's current (eval-mode) outputs on a validation batch — per batch, as in
 * training — with the padding rows labelled out of range so they take no part.
 */
async function manifoldProbe(
  gpu: Gpu,
  plan: Plan,
  manifold: NonNullable<GuidedSetup["manifold"]>,
): Promise<(batch: LabeledBatch) => Promise<[number, number]>> {
  const model = plan.model;
  const loss = await ManifoldLoss.create(gpu, {
    batch: plan.batch,
    logitClasses: model.logits.shape[1],
    ...manifold,
  });
  const labels = gpu.buffer(plan.batch * 4, "manifold-probe.labels");
  const out = gpu.buffer(5 * 4, "manifold-probe.out");
  const dispatches = loss.forward({
    logits: plan.value(model.logits),
    labels,
    head: plan.value(model.neural!),
    out,
  });
  return async (batch) => {
    const padded = batch.labels.map((label, i) => i < batch.count ? label : manifold.targets.classes);
    gpu.write(labels, padded);
    gpu.submit(dispatches);
    const values = await gpu.readF32(out, 5);
    return [values[2], values[3]];
  };
}
