/**
 * 2-D convolution (NCHW, weight [out, in, k, k], square kernel, symmetric padding) and its gradients, all as
 * implicit GEMMs over the shared register-blocked core: nothing is unfolded into an im2col buffer.
 * @module
 */
import type { AdapterKind, Dispatch, Gpu } from "../gpu/device.ts";
import { grid1d } from "../gpu/grid.ts";
import {
  checkBuffer,
  checkFits,
  gemmGrid,
  type GemmKernel,
  gemmKernel,
  showShape,
  unusedBinding,
} from "./gemm.ts";
import { biasGrad, splitSum } from "./reduce.ts";
import { checkDims, checkShape } from "./shape.ts";

/** Shape of a {@link Conv2d} layer. */
export interface Conv2dOptions {
  batch: number;
  inChannels: number;
  height: number;
  width: number;
  outChannels: number;
  kernel: number;
  stride: number;
  padding: number;
  bias: boolean;
  /** Shape of the weight tensor, when known: checked against [out, in, k, k] so a mismatch fails at create. */
  weightShape?: readonly number[];
  /** Kernel variant; defaults to `gpu.kind`. */
  variant?: AdapterKind;
}

/** Most bytes the weight-gradient split-K scratch may take. */
const SPLIT_SCRATCH_BYTES = 32 * 2 ** 20;

/**
 * @example
 * ```ts
 * import { getGpu } from "../gpu/mod.ts";
 * const gpu = await getGpu();
 * // one 3 × 3 image, one 3 × 3 kernel of ones, padding 1: each output sums a 3 × 3 neighbourhood
 * const conv = await Conv2d.create(gpu, {
 *   batch: 1, inChannels: 1, height: 3, width: 3, outChannels: 1,
 *   kernel: 3, stride: 1, padding: 1, bias: false,
 * });
 * const x = gpu.upload(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
 * const weight = gpu.upload(new Float32Array(9).fill(1));
 * const y = gpu.buffer(9 * 4);
 * gpu.submit(conv.forward({ x, weight, y }));
 * console.log(await gpu.readF32(y, 9)); // [12, 21, 16, 27, 45, 33, 24, 39, 28]
 * ```
 */
export class Conv2d {
  readonly outHeight: number;
  readonly outWidth: number;
  readonly #gpu: Gpu;
  readonly #o: Readonly<Conv2dOptions>;
  readonly #kernels: { fwd: GemmKernel; dx: GemmKernel; dw: GemmKernel };
  readonly #params: { fwd: GPUBuffer; dxSet: GPUBuffer; dxAdd: GPUBuffer; dw: GPUBuffer };
  readonly #splits: number;
  /** Partial weight gradients of the split reduction (null when not split). */
  readonly #scratch: GPUBuffer | null;
  readonly #splitSum: ((partial: GPUBuffer, out: GPUBuffer) => Dispatch) | null;
  readonly #biasGrad: ((g: GPUBuffer, out: GPUBuffer) => Dispatch) | null;
  /**
   * Re-lays the weight for the forward and input-gradient GEMMs (see conv2d_weight_layout.wgsl). Each pass
   * re-lays right before its GEMM, so one Conv2d can serve several layers of the same shape in one submit.
   */
  readonly #layout: { fwd: WeightLayout; dx: WeightLayout };

  private constructor(
    gpu: Gpu,
    o: Conv2dOptions,
    out: [number, number],
    kernels: { fwd: GemmKernel; dx: GemmKernel; dw: GemmKernel },
    splits: number,
    splitSumBinder: ((partial: GPUBuffer, out: GPUBuffer) => Dispatch) | null,
    biasGradBinder: ((g: GPUBuffer, out: GPUBuffer) => Dispatch) | null,
    layout: { fwd: WeightLayout; dx: WeightLayout },
  ) {
    this.#gpu = gpu;
    this.#o = o;
    [this.outHeight, this.outWidth] = out;
    this.#kernels = kernels;
    this.#splits = splits;
    const shape = [
      o.batch,
      o.inChannels,
      o.height,
      o.width,
      o.outChannels,
      out[0],
      out[1],
      o.kernel,
      o.stride,
      o.padding,
    ];
    const uniform = (splitCount: number, beta: number) =>
      gpu.uniform([...shape, splitCount, Number(o.bias), { f32: beta }]);
    this.#params = { fwd: uniform(1, 0), dxSet: uniform(1, 0), dxAdd: uniform(1, 1), dw: uniform(splits, 0) };
    this.#scratch = splits > 1 ? gpu.buffer(splits * this.#weightSize() * 4, "conv2d-dw-split") : null;
    this.#splitSum = splitSumBinder;
    this.#biasGrad = biasGradBinder;
    this.#layout = layout;
  }

  /** Validates the shapes (ShapeError, naming them) and compiles or reuses the pipelines. */
  static async create(gpu: Gpu, o: Conv2dOptions): Promise<Conv2d> {
    const { batch, inChannels, height, width, outChannels, kernel, stride, padding } = o;
    checkDims("conv2d", { batch, inChannels, height, width, outChannels, kernel, stride });
    checkShape(Number.isInteger(padding) && padding >= 0, "conv2d", `padding must be >= 0, got ${padding}`);
    const input = [batch, inChannels, height, width];
    const weight = [outChannels, inChannels, kernel, kernel];
    const outH = Math.floor((height + 2 * padding - kernel) / stride) + 1;
    const outW = Math.floor((width + 2 * padding - kernel) / stride) + 1;
    checkShape(
      outH >= 1 && outW >= 1,
      "conv2d",
      `input ${showShape(input)} with padding ${padding} is smaller than the ${kernel}×${kernel} kernel`,
    );
    if (o.weightShape) {
      checkShape(
        o.weightShape.length === 4 && o.weightShape.every((d, i) => d === weight[i]),
        "conv2d",
        `weight ${showShape(o.weightShape)} does not fit input ${
          showShape(input)
        } → ${outChannels} channels ` +
          `(expected weight ${showShape(weight)})`,
      );
    }
    checkFits(gpu, "conv2d", "input", input);
    checkFits(gpu, "conv2d", "output", [batch, outChannels, outH, outW]);
    checkFits(gpu, "conv2d", "weight", weight);

    const variant = o.variant ?? gpu.kind;
    const [fwd, dx, dw, db, layoutFwd, layoutDx] = await Promise.all([
      gemmKernel(gpu, ["conv2d_forward"], variant),
      gemmKernel(gpu, ["conv2d_input_grad"], variant),
      gemmKernel(gpu, ["conv2d_weight_grad"], variant, {
        ALIGNED_ROWS: Number(outW % 4 === 0),
      }),
      o.bias ? biasGrad(gpu, { outer: batch, channels: outChannels, inner: outH * outW }) : null,
      weightLayout(gpu, o, false),
      weightLayout(gpu, o, true),
    ]);
    const weightFloats = weight.reduce((a, b) => a * b);
    const splits = weightGradSplits(dw, outChannels, weightFloats, batch * outH);
    const sum = splits > 1 ? await splitSum(gpu, weightFloats, splits) : null;
    return new Conv2d(gpu, { ...o }, [outH, outW], { fwd, dx, dw }, splits, sum, db, {
      fwd: layoutFwd,
      dx: layoutDx,
    });
  }

  /** `y = conv(x, weight) (+ bias)`. */
  forward(
    { x, weight, bias, y }: { x: GPUBuffer; weight: GPUBuffer; bias?: GPUBuffer; y: GPUBuffer },
  ): Dispatch[] {
    this.#check({ x, weight, y });
    let biasBuffer = unusedBinding(this.#gpu);
    if (this.#o.bias) {
      if (!bias) throw new TypeError("conv2d: created with bias: true, so forward needs a bias buffer");
      checkBuffer("conv2d", "bias", bias, [this.#o.outChannels]);
      biasBuffer = bias;
    }
    const k = this.#kernels.fwd;
    const grid = gemmGrid(k, this.#o.outChannels, this.#o.batch * this.outHeight * this.outWidth);
    const w = this.#layout.fwd;
    return [w.bind(weight), this.#gpu.bind(k.pipeline, [this.#params.fwd, x, w.buffer, y, biasBuffer], grid)];
  }

  /** `dx = ∂(y·dy)/∂x`, or `dx += …` with `accumulate` (for skip connections). */
  backwardInput(
    { dy, weight, dx }: { dy: GPUBuffer; weight: GPUBuffer; dx: GPUBuffer },
    accumulate = false,
  ): Dispatch[] {
    this.#check({ x: dx, weight, y: dy });
    const k = this.#kernels.dx;
    const params = accumulate ? this.#params.dxAdd : this.#params.dxSet;
    const grid = gemmGrid(k, this.#o.inChannels, this.#o.batch * this.#o.height * this.#o.width);
    const w = this.#layout.dx;
    return [w.bind(weight), this.#gpu.bind(k.pipeline, [params, dy, w.buffer, dx], grid)];
  }

  /** `dWeight` and `dBias` (both overwrite). */
  backwardParams(
    { x, dy, dWeight, dBias }: { x: GPUBuffer; dy: GPUBuffer; dWeight: GPUBuffer; dBias?: GPUBuffer },
  ): Dispatch[] {
    this.#check({ x, weight: dWeight, y: dy });
    const { inChannels, outChannels, kernel } = this.#o;
    const k = this.#kernels.dw;
    const grid = gemmGrid(k, outChannels, inChannels * kernel * kernel, this.#splits);
    const dispatches = [this.#gpu.bind(k.pipeline, [this.#params.dw, x, dy, this.#scratch ?? dWeight], grid)];
    if (this.#scratch && this.#splitSum) dispatches.push(this.#splitSum(this.#scratch, dWeight));
    if (this.#biasGrad) {
      if (!dBias) throw new TypeError("conv2d: created with bias: true, so backwardParams needs dBias");
      checkBuffer("conv2d", "dBias", dBias, [outChannels]);
      dispatches.push(this.#biasGrad(dy, dBias));
    }
    return dispatches;
  }

  #weightSize(): number {
    return this.#o.outChannels * this.#o.inChannels * this.#o.kernel ** 2;
  }

  #check({ x, weight, y }: { x: GPUBuffer; weight: GPUBuffer; y: GPUBuffer }): void {
    const { batch, inChannels, height, width, outChannels, kernel } = this.#o;
    checkBuffer("conv2d", "input", x, [batch, inChannels, height, width]);
    checkBuffer("conv2d", "weight", weight, [outChannels, inChannels, kernel, kernel]);
    checkBuffer("conv2d", "output", y, [batch, outChannels, this.outHeight, this.outWidth]);
  }
}

/** A weight re-laid as [tap][row][col padded to 4] in a buffer of its own, and the dispatch that fills it. */
interface WeightLayout {
  buffer: GPUBuffer;
  bind(weight: GPUBuffer): Dispatch;
}

/** Rows are output channels for the forward GEMM, input channels for the input gradient (`transposed`). */
async function weightLayout(gpu: Gpu, o: Conv2dOptions, transposed: boolean): Promise<WeightLayout> {
  const taps = o.kernel ** 2;
  const [rows, cols] = transposed ? [o.inChannels, o.outChannels] : [o.outChannels, o.inChannels];
  const count = taps * rows * Math.ceil(cols / 4) * 4;
  const buffer = gpu.buffer(count * 4, `conv2d-weight-${transposed ? "dx" : "fwd"}`);
  const pipeline = await gpu.pipeline({ file: "conv2d_weight_layout", entry: "main" });
  const params = gpu.uniform([o.outChannels, o.inChannels, taps, Number(transposed)]);
  return { buffer, bind: (weight) => gpu.bind(pipeline, [weight, buffer, params], grid1d(count)) };
}

/**
 * How many slices to cut the weight-gradient reduction (batch·oh·ow long) into: enough workgroups to keep every
 * core busy, at least 4 output rows per slice, and a bounded scratch buffer.
 */
function weightGradSplits(
  kernel: GemmKernel,
  outChannels: number,
  weightFloats: number,
  rows: number,
): number {
  const [x, y] = gemmGrid(kernel, outChannels, weightFloats / outChannels);
  const busy = Math.ceil((kernel.variant === "cpu" ? 32 : 256) / (x * y));
  const bySize = Math.floor(SPLIT_SCRATCH_BYTES / (weightFloats * 4));
  return Math.max(1, Math.min(busy, Math.floor(rows / 4), bySize));
}
