/**
 * Losses: softmax cross-entropy (`kernels/softmax_ce.wgsl`), mean squared error (reduce + generated gradient)
 * and the neural-guidance loss `(1 − α)·CE + α·MSE` as one kernel pair (`kernels/guidance_loss.wgsl`).
 * Logits are `[batch, classes]` row-major, labels u32 `[batch]`; an out-of-range label makes that row's loss
 * NaN (caught by the finite check) rather than reading another row.
 * @module
 */
import type { Dispatch, Gpu } from "../gpu/device.ts";
import { type CompiledRule, compileRule, type Rule } from "../gpu/expr.ts";
import { grid1d } from "../gpu/grid.ts";
import { Reduce } from "./reduction.ts";
import { checkBuffers } from "../gpu/operands.ts";
import { checkDims, checkShape } from "./shape.ts";

/** Compiles `entries` of `file`. */
async function softmaxKernels<E extends string>(
  gpu: Gpu,
  file: string,
  entries: readonly E[],
): Promise<Record<E, GPUComputePipeline>> {
  const compiled = await Promise.all(entries.map((entry) => gpu.pipeline({ file, entry })));
  return Object.fromEntries(entries.map((e, i) => [e, compiled[i]])) as Record<E, GPUComputePipeline>;
}

const CE_ENTRIES = ["forward_rows", "forward_total", "backward"] as const;

/** Mean softmax cross-entropy over a batch, with the count of correct argmax predictions. */
export class SoftmaxCrossEntropy {
  private constructor(
    private readonly gpu: Gpu,
    private readonly kernels: Record<typeof CE_ENTRIES[number], GPUComputePipeline>,
    /** Per-row [loss, correct], allocated once. */
    private readonly rows: GPUBuffer,
    readonly batch: number,
    readonly classes: number,
  ) {}

  /** Allocates the per-row scratch and compiles. */
  static async create(
    gpu: Gpu,
    { batch, classes }: { batch: number; classes: number },
  ): Promise<SoftmaxCrossEntropy> {
    checkDims("SoftmaxCrossEntropy", { batch, classes });
    const kernels = await softmaxKernels(gpu, "softmax_ce", CE_ENTRIES);
    return new SoftmaxCrossEntropy(
      gpu,
      kernels,
      gpu.buffer(batch * 2 * 4, "softmax_ce.rows"),
      batch,
      classes,
    );
  }

  get #params(): GPUBuffer {
    return this.gpu.uniform([this.batch, this.classes]);
  }

  get #shapes(): Record<string, number[]> {
    const scores = [this.batch, this.classes];
    return { logits: scores, dLogits: scores, labels: [this.batch], out: [2] };
  }

  /** `out` (f32 ×2) = [mean loss, number of rows whose first maximal logit is the label]. */
  forward({ logits, labels, out }: { logits: GPUBuffer; labels: GPUBuffer; out: GPUBuffer }): Dispatch[] {
    checkBuffers("SoftmaxCrossEntropy", this.#shapes, { logits, labels, out });
    return [
      this.gpu.bind(
        this.kernels.forward_rows,
        [logits, labels, this.rows, this.#params],
        grid1d(this.batch, 64),
      ),
      this.gpu.bind(this.kernels.forward_total, [this.rows, out, this.#params], [1]),
    ];
  }

  /** `dLogits = (softmax(logits) − one_hot(labels)) / batch` (overwritten). */
  backward(
    { logits, labels, dLogits }: { logits: GPUBuffer; labels: GPUBuffer; dLogits: GPUBuffer },
  ): Dispatch[] {
    checkBuffers("SoftmaxCrossEntropy", this.#shapes, { logits, labels, dLogits });
    return [
      this.gpu.bind(this.kernels.backward, [logits, labels, dLogits, this.#params], grid1d(this.batch, 64)),
    ];
  }
}

/** MSE gradients beside each other; `g` = 2 / count (the forward is a reduction, see {@link Reduce}). */
export const MSE_RULE = {
  inputs: { pred: "elem", target: "elem" },
  scalars: ["g"],
  grads: { pred: "g * (pred - target)", target: "g * (target - pred)" },
} as const satisfies Rule;

/** Mean squared error over all `count` elements. */
export class Mse {
  private constructor(
    private readonly reduce: Reduce,
    private readonly kernels: CompiledRule<typeof MSE_RULE>,
    readonly count: number,
  ) {}

  /** Compiles (and allocates the reduction's scratch). */
  static async create(gpu: Gpu, { count }: { count: number }): Promise<Mse> {
    checkDims("Mse", { count });
    const [reduce, kernels] = await Promise.all([
      Reduce.create(gpu, { count }),
      compileRule(gpu, "Mse", MSE_RULE),
    ]);
    return new Mse(reduce, kernels, count);
  }

  /** `out[0] = mean (pred − target)²`. */
  forward({ pred, target, out }: { pred: GPUBuffer; target: GPUBuffer; out: GPUBuffer }): Dispatch[] {
    checkBuffers("Mse", { pred: [this.count], target: [this.count], out: [1] }, { pred, target, out });
    return this.reduce.sumOfSquaredDifferences({ a: pred, b: target, out }, 1 / this.count);
  }

  /**
   * `dPred = 2 (pred − target) / count` and, when `dTarget` is given, `dTarget = −dPred` (overwritten, or
   * added to with `accumulate`).
   */
  backward(
    { pred, target, dPred, dTarget }: {
      pred: GPUBuffer;
      target: GPUBuffer;
      dPred: GPUBuffer;
      dTarget?: GPUBuffer;
    },
    accumulate = false,
  ): Dispatch[] {
    const v = [this.count];
    checkBuffers("Mse", { pred: v, target: v, dPred: v, dTarget: v }, { pred, target, dPred, dTarget });
    const extent = { count: this.count }, g = { g: 2 / this.count };
    const dispatches = [this.kernels.grads.pred.bind({ pred, target }, dPred, extent, g, accumulate)];
    if (dTarget) {
      dispatches.push(this.kernels.grads.target.bind({ pred, target }, dTarget, extent, g, accumulate));
    }
    return dispatches;
  }
}

/** Shape of a {@link GuidanceLoss}: logits `[batch, classes]`, head and target `[batch, neuralDim]`. */
export interface GuidanceLossOptions {
  batch: number;
  classes: number;
  neuralDim: number;
  /** Initial α in [0, 1]; default 0. */
  alpha?: number;
  /** Initial gradient scale; default 1. */
  scale?: number;
}

const GUIDANCE_ENTRIES = ["forward_rows", "forward_total", "backward"] as const;

/**
 * `L = (1 − α)·CE(logits, labels) + α·MSE(head, target)`. α and a gradient (loss) scale sit in a dedicated
 * uniform buffer, changed with {@link setAlpha} / {@link setScale} between steps without rebinding: the
 * write is queued, so it applies to dispatches submitted after it.
 */
export class GuidanceLoss {
  #alpha: number;
  #scale: number;

  private constructor(
    private readonly gpu: Gpu,
    private readonly kernels: Record<typeof GUIDANCE_ENTRIES[number], GPUComputePipeline>,
    private readonly rows: GPUBuffer,
    private readonly params: GPUBuffer,
    readonly options: Readonly<Required<Omit<GuidanceLossOptions, "alpha" | "scale">>>,
  ) {
    this.#alpha = 0;
    this.#scale = 1;
  }

  /** Allocates the per-row scratch and the parameter uniform, and compiles. */
  static async create(gpu: Gpu, options: GuidanceLossOptions): Promise<GuidanceLoss> {
    const { batch, classes, neuralDim } = options;
    checkDims("GuidanceLoss", { batch, classes, neuralDim });
    const kernels = await softmaxKernels(gpu, "guidance_loss", GUIDANCE_ENTRIES);
    const params = gpu.device.createBuffer({
      size: 32,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: "guidance_loss.params",
    });
    const rows = gpu.buffer(batch * 3 * 4, "guidance_loss.rows");
    const loss = new GuidanceLoss(gpu, kernels, rows, params, { batch, classes, neuralDim });
    loss.setAlpha(options.alpha ?? 0);
    loss.setScale(options.scale ?? 1);
    return loss;
  }

  /** Current α. */
  get alpha(): number {
    return this.#alpha;
  }

  /** Current gradient scale. */
  get scale(): number {
    return this.#scale;
  }

  /** Sets α ∈ [0, 1] for dispatches submitted from now on. */
  setAlpha(alpha: number): void {
    checkShape(alpha >= 0 && alpha <= 1, "GuidanceLoss", `alpha must be in [0, 1], got ${alpha}`);
    this.#alpha = alpha;
    this.#upload();
  }

  /** Sets the factor applied to dLogits and dHead (loss scaling; the forward values stay unscaled). */
  setScale(scale: number): void {
    checkShape(Number.isFinite(scale), "GuidanceLoss", `scale must be finite, got ${scale}`);
    this.#scale = scale;
    this.#upload();
  }

  #upload(): void {
    const { batch, classes, neuralDim } = this.options;
    const data = new DataView(new ArrayBuffer(32));
    [batch, classes, neuralDim].forEach((v, i) => data.setUint32(4 * i, v, true));
    data.setFloat32(12, this.#alpha, true);
    data.setFloat32(16, this.#scale, true);
    this.gpu.write(this.params, new Uint32Array(data.buffer));
  }

  get #shapes(): Record<string, number[]> {
    const { batch, classes, neuralDim } = this.options;
    const scores = [batch, classes], neural = [batch, neuralDim];
    return {
      logits: scores,
      dLogits: scores,
      labels: [batch],
      head: neural,
      target: neural,
      dHead: neural,
      out: [4],
    };
  }

  /** `out` (f32 ×4) = [total, ce, mse, correct]. */
  forward(
    { logits, labels, head, target, out }: Record<"logits" | "labels" | "head" | "target" | "out", GPUBuffer>,
  ): Dispatch[] {
    checkBuffers("GuidanceLoss", this.#shapes, { logits, labels, head, target, out });
    const rowsGrid = grid1d(this.options.batch, 64);
    return [
      this.gpu.bind(
        this.kernels.forward_rows,
        [logits, labels, head, target, this.rows, this.params],
        rowsGrid,
      ),
      this.gpu.bind(this.kernels.forward_total, [this.rows, out, this.params], [1]),
    ];
  }

  /**
   * `dLogits = scale·(1 − α)·(softmax − one_hot)/batch`, `dHead = scale·α·2(head − target)/(batch·neuralDim)`
   * (both overwritten).
   */
  backward(
    { logits, labels, head, target, dLogits, dHead }: Record<
      "logits" | "labels" | "head" | "target" | "dLogits" | "dHead",
      GPUBuffer
    >,
  ): Dispatch[] {
    checkBuffers("GuidanceLoss", this.#shapes, { logits, labels, head, target, dLogits, dHead });
    const { batch, neuralDim } = this.options;
    const buffers = [logits, labels, head, target, dLogits, dHead, this.params];
    return [this.gpu.bind(this.kernels.backward, buffers, grid1d(batch * (1 + neuralDim), 64))];
  }
}
