/**
 * BatchNorm2d on NCHW fp32, matching PyTorch: train mode normalises with the batch mean and biased variance,
 * updates running statistics with `momentum` (running_var from the unbiased variance) and saves mean and
 * 1/sqrt(var + eps) for backward; eval mode uses the running statistics. Reductions are in
 * `kernels/batchnorm.wgsl`; elementwise passes are generated from the rules below.
 * @module
 */
import type { Dispatch, Gpu } from "../gpu/device.ts";
import { type CompiledRule, compileRule, type Rule } from "../gpu/expr.ts";
import { grid1d } from "../gpu/grid.ts";
import { checkBuffers } from "../gpu/operands.ts";
import { checkDims, checkShape } from "./shape.ts";

/**
 * Train mode, forward beside input gradient. `dWeight` = Σ dy·x̂ and `dBias` = Σ dy are the per-channel sums
 * the backward reduction produces first; `invCount` = 1 / (batch·height·width).
 */
export const BN_TRAIN_RULE = {
  inputs: {
    x: "elem",
    saveMean: "channel",
    saveInvStd: "channel",
    weight: "channel",
    bias: "channel",
    dWeight: "channel",
    dBias: "channel",
  },
  scalars: ["invCount"],
  forward: "(x - saveMean) * saveInvStd * weight + bias",
  grads: { x: "weight * saveInvStd * (dy - (dBias + (x - saveMean) * saveInvStd * dWeight) * invCount)" },
} as const satisfies Rule;

/** Eval mode (running statistics, an affine map per channel), forward beside input gradient. */
export const BN_EVAL_RULE = {
  inputs: { x: "elem", runningMean: "channel", runningVar: "channel", weight: "channel", bias: "channel" },
  scalars: ["eps"],
  forward: "(x - runningMean) / sqrt(runningVar + eps) * weight + bias",
  grads: { x: "dy * weight / sqrt(runningVar + eps)" },
} as const satisfies Rule;

/** Shape and hyper-parameters of a {@link BatchNorm2d}. */
export interface BatchNorm2dOptions {
  batch: number;
  channels: number;
  height: number;
  width: number;
  /** Added to the variance; default 1e-5. */
  eps?: number;
  /** Running-statistics momentum (PyTorch convention: new = (1 − m)·old + m·batch); default 0.1. */
  momentum?: number;
  /** Values per partial reduction (tuning; default 1024). */
  chunk?: number;
}

type Buffers<K extends string> = { readonly [P in K]: GPUBuffer };

/** BatchNorm2d over `[batch, channels, height, width]`; weight, bias and statistics are `[channels]`. */
export class BatchNorm2d {
  private constructor(
    private readonly gpu: Gpu,
    private readonly train: CompiledRule<typeof BN_TRAIN_RULE>,
    private readonly evalMode: CompiledRule<typeof BN_EVAL_RULE>,
    private readonly reductions: Record<
      "statsPartial" | "statsFinal" | "gradPartial" | "gradFinal",
      GPUComputePipeline
    >,
    /** Per (channel, run) pairs of partial results, reused by forward and backward. */
    private readonly partial: GPUBuffer,
    readonly options: Required<BatchNorm2dOptions>,
    private readonly chunks: number,
  ) {}

  /** Validates the shape, allocates the partial-reduction scratch and compiles every pass. */
  static async create(gpu: Gpu, options: BatchNorm2dOptions): Promise<BatchNorm2d> {
    const resolved = { eps: 1e-5, momentum: 0.1, chunk: 1024, ...options };
    const { batch, channels, height, width, chunk, eps, momentum } = resolved;
    checkDims("BatchNorm2d", { batch, channels, height, width, chunk });
    checkShape(eps > 0 && momentum >= 0 && momentum <= 1, "BatchNorm2d", `eps ${eps} / momentum ${momentum}`);
    const chunks = Math.ceil((batch * height * width) / chunk);
    const pipeline = (entry: string) => gpu.pipeline({ file: "batchnorm", entry });
    const [train, evalMode, statsPartial, statsFinal, gradPartial, gradFinal] = await Promise.all([
      compileRule(gpu, "BatchNorm2d.train", BN_TRAIN_RULE),
      compileRule(gpu, "BatchNorm2d.eval", BN_EVAL_RULE),
      pipeline("stats_partial"),
      pipeline("stats_final"),
      pipeline("grad_partial"),
      pipeline("grad_final"),
    ]);
    const partial = gpu.buffer(channels * chunks * 2 * 4, "batchnorm.partial");
    return new BatchNorm2d(
      gpu,
      train,
      evalMode,
      { statsPartial, statsFinal, gradPartial, gradFinal },
      partial,
      resolved,
      chunks,
    );
  }

  /** Expected shape of every named operand. */
  get #shapes(): Record<string, number[]> {
    const { batch, channels, height, width } = this.options;
    const t = [batch, channels, height, width], v = [channels];
    return {
      x: t,
      y: t,
      dy: t,
      dx: t,
      weight: v,
      bias: v,
      runningMean: v,
      runningVar: v,
      saveMean: v,
      saveInvStd: v,
      dWeight: v,
      dBias: v,
    };
  }

  get #extent() {
    const { batch, channels, height, width } = this.options;
    return { count: batch * channels * height * width, channels, plane: height * width };
  }

  get #params(): GPUBuffer {
    const { batch, channels, height, width, chunk, eps, momentum } = this.options;
    return this.gpu.uniform([batch, channels, height * width, chunk, this.chunks, { f32: eps }, {
      f32: momentum,
    }]);
  }

  get #invCount(): number {
    return 1 / (this.options.batch * this.options.height * this.options.width);
  }

  #reduce(entry: keyof BatchNorm2d["reductions"], buffers: GPUBuffer[], perChannel: boolean): Dispatch {
    const threads = this.options.channels * (perChannel ? 1 : this.chunks);
    return this.gpu.bind(this.reductions[entry], [...buffers, this.#params], grid1d(threads, 64));
  }

  /**
   * Train mode: `y` normalised with batch statistics; `saveMean`, `saveInvStd` written; `runningMean`,
   * `runningVar` updated in place. Needs batch·height·width > 1 (the unbiased variance), as PyTorch does.
   */
  forwardTrain(
    b: Buffers<"x" | "weight" | "bias" | "runningMean" | "runningVar" | "y" | "saveMean" | "saveInvStd">,
  ): Dispatch[] {
    checkBuffers("BatchNorm2d", this.#shapes, b);
    const { batch, channels, height, width } = this.options;
    checkShape(
      batch * height * width > 1,
      "BatchNorm2d",
      `train mode needs more than one value per channel, got input [${batch}, ${channels}, ${height}, ${width}]`,
    );
    return [
      this.#reduce("statsPartial", [b.x, this.partial], false),
      this.#reduce("statsFinal", [this.partial, b.runningMean, b.runningVar, b.saveMean, b.saveInvStd], true),
      this.train.forward.bind(b, b.y, this.#extent, { invCount: this.#invCount }),
    ];
  }

  /** Eval mode: `y = (x − runningMean) / sqrt(runningVar + eps) · weight + bias`. */
  forwardEval(b: Buffers<"x" | "weight" | "bias" | "runningMean" | "runningVar" | "y">): Dispatch[] {
    checkBuffers("BatchNorm2d", this.#shapes, b);
    return [this.evalMode.forward.bind(b, b.y, this.#extent, { eps: this.options.eps })];
  }

  /**
   * Train-mode backward: `dWeight`, `dBias` overwritten; `dx` overwritten, or added to with `accumulate`.
   * `saveMean` / `saveInvStd` are those of the matching {@link forwardTrain}.
   */
  backwardTrain(
    b: Buffers<"x" | "dy" | "weight" | "saveMean" | "saveInvStd" | "dx" | "dWeight" | "dBias">,
    accumulate = false,
  ): Dispatch[] {
    checkBuffers("BatchNorm2d", this.#shapes, b);
    return [
      this.#reduce("gradPartial", [b.x, b.dy, b.saveMean, b.saveInvStd, this.partial], false),
      this.#reduce("gradFinal", [this.partial, b.dWeight, b.dBias], true),
      this.train.grads.x.bind(b, b.dx, this.#extent, { invCount: this.#invCount }, accumulate),
    ];
  }

  /** Eval-mode input gradient (frozen statistics, e.g. attacks): `dx = dy · weight / sqrt(runningVar + eps)`. */
  backwardEval(b: Buffers<"dy" | "weight" | "runningVar" | "dx">, accumulate = false): Dispatch[] {
    checkBuffers("BatchNorm2d", this.#shapes, b);
    return [this.evalMode.grads.x.bind(b, b.dx, this.#extent, { eps: this.options.eps }, accumulate)];
  }
}
