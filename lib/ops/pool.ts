/**
 * Pooling on NCHW fp32: MaxPool2d with argmax indices (`kernels/maxpool.wgsl`) and adaptive / global average
 * pooling (`kernels/avgpool.wgsl`). Backward passes are gathers (one invocation per input element): race-free
 * for overlapping windows and deterministic.
 * @module
 */
import type { Dispatch, Gpu } from "../gpu/device.ts";
import { grid1d } from "../gpu/grid.ts";
import { checkBuffers } from "../gpu/operands.ts";
import { checkDims, checkShape } from "./shape.ts";

/** Input shape shared by the pooling ops. */
export interface PoolInput {
  batch: number;
  channels: number;
  height: number;
  width: number;
}

/** Geometry of a {@link MaxPool2d} (square kernel, floor mode, no dilation). */
export interface MaxPool2dOptions extends PoolInput {
  kernel: number;
  stride: number;
  padding: number;
}

interface PoolKernels {
  forward: GPUComputePipeline;
  backward: GPUComputePipeline;
}

async function poolKernels(gpu: Gpu, file: string): Promise<PoolKernels> {
  const [forward, backward] = await Promise.all([
    gpu.pipeline({ file, entry: "forward" }),
    gpu.pipeline({ file, entry: "backward" }),
  ]);
  return { forward, backward };
}

const shape = (s: PoolInput) => `[${s.batch}, ${s.channels}, ${s.height}, ${s.width}]`;

/**
 * MaxPool2d as PyTorch's (`-inf` padding, first maximum in row-major window order wins, NaN propagates).
 * `argmax` (u32, one per output) holds the chosen input's index h·width + w within its (n, c) plane.
 */
export class MaxPool2d {
  readonly outHeight: number;
  readonly outWidth: number;

  private constructor(
    private readonly gpu: Gpu,
    private readonly kernels: PoolKernels,
    readonly options: MaxPool2dOptions,
  ) {
    const { height, width, kernel, stride, padding } = options;
    this.outHeight = Math.floor((height + 2 * padding - kernel) / stride) + 1;
    this.outWidth = Math.floor((width + 2 * padding - kernel) / stride) + 1;
  }

  /** Validates the geometry (padding ≤ kernel / 2 and a window that fits, as PyTorch requires) and compiles. */
  static async create(gpu: Gpu, options: MaxPool2dOptions): Promise<MaxPool2d> {
    const { batch, channels, height, width, kernel, stride, padding } = options;
    checkDims("MaxPool2d", { batch, channels, height, width, kernel, stride });
    checkShape(
      Number.isInteger(padding) && padding >= 0 && 2 * padding <= kernel,
      "MaxPool2d",
      `padding ${padding} must be between 0 and kernel / 2 = ${kernel / 2}`,
    );
    checkShape(
      height + 2 * padding >= kernel && width + 2 * padding >= kernel,
      "MaxPool2d",
      `input ${shape(options)} padded by ${padding} is smaller than kernel ${kernel}×${kernel}`,
    );
    return new MaxPool2d(gpu, await poolKernels(gpu, "maxpool"), options);
  }

  /** Elements of the output `[batch, channels, outHeight, outWidth]` (and of `argmax`). */
  get outCount(): number {
    return this.options.batch * this.options.channels * this.outHeight * this.outWidth;
  }

  #params(accumulate: boolean): GPUBuffer {
    const { batch, channels, height, width, kernel, stride, padding } = this.options;
    return this.gpu.uniform([
      batch * channels,
      height,
      width,
      this.outHeight,
      this.outWidth,
      kernel,
      stride,
      padding,
      accumulate ? 1 : 0,
    ]);
  }

  get #shapes(): Record<string, number[]> {
    const { batch, channels, height, width } = this.options;
    const input = [batch, channels, height, width], output = [batch, channels, this.outHeight, this.outWidth];
    return { x: input, dx: input, y: output, dy: output, argmax: output };
  }

  /** `y` and `argmax` from `x`. */
  forward({ x, y, argmax }: { x: GPUBuffer; y: GPUBuffer; argmax: GPUBuffer }): Dispatch[] {
    checkBuffers("MaxPool2d", this.#shapes, { x, y, argmax });
    return [this.gpu.bind(this.kernels.forward, [x, y, argmax, this.#params(false)], grid1d(this.outCount))];
  }

  /** `dx` (overwritten, or added to with `accumulate`) from `dy` routed through `argmax`. */
  backward(
    { dy, argmax, dx }: { dy: GPUBuffer; argmax: GPUBuffer; dx: GPUBuffer },
    accumulate = false,
  ): Dispatch[] {
    checkBuffers("MaxPool2d", this.#shapes, { dy, argmax, dx });
    const { batch, channels, height, width } = this.options;
    const grid = grid1d(batch * channels * height * width);
    return [this.gpu.bind(this.kernels.backward, [dy, argmax, dx, this.#params(accumulate)], grid)];
  }
}

/** Output size of an {@link AdaptiveAvgPool2d}: `size` × `size`. */
export interface AdaptiveAvgPool2dOptions extends PoolInput {
  size: number;
}

/**
 * Adaptive average pooling to `size` × `size` where `size` divides height and width (each output averages
 * one block, as PyTorch's `AdaptiveAvgPool2d` does in that case). Output `[batch, channels, size, size]`.
 */
export class AdaptiveAvgPool2d {
  private constructor(
    private readonly gpu: Gpu,
    private readonly kernels: PoolKernels,
    readonly options: AdaptiveAvgPool2dOptions,
  ) {}

  /** Validates that `size` divides height and width, and compiles. */
  static async create(gpu: Gpu, options: AdaptiveAvgPool2dOptions): Promise<AdaptiveAvgPool2d> {
    const { batch, channels, height, width, size } = options;
    checkDims("AdaptiveAvgPool2d", { batch, channels, height, width, size });
    checkShape(
      height % size === 0 && width % size === 0,
      "AdaptiveAvgPool2d",
      `output [${size}, ${size}] must divide the input plane of ${shape(options)}`,
    );
    return new AdaptiveAvgPool2d(gpu, await poolKernels(gpu, "avgpool"), options);
  }

  /** Elements of the output. */
  get outCount(): number {
    return this.options.batch * this.options.channels * this.options.size ** 2;
  }

  #params(accumulate: boolean): GPUBuffer {
    const { batch, channels, height, width, size } = this.options;
    return this.gpu.uniform([batch * channels, height, width, size, accumulate ? 1 : 0]);
  }

  get #shapes(): Record<string, number[]> {
    const { batch, channels, height, width, size } = this.options;
    const input = [batch, channels, height, width], output = [batch, channels, size, size];
    return { x: input, dx: input, y: output, dy: output };
  }

  /** `y` = block means of `x`. */
  forward({ x, y }: { x: GPUBuffer; y: GPUBuffer }): Dispatch[] {
    checkBuffers("AdaptiveAvgPool2d", this.#shapes, { x, y });
    return [this.gpu.bind(this.kernels.forward, [x, y, this.#params(false)], grid1d(this.outCount))];
  }

  /** `dx = dy / block area` spread over each block (overwritten, or added to with `accumulate`). */
  backward({ dy, dx }: { dy: GPUBuffer; dx: GPUBuffer }, accumulate = false): Dispatch[] {
    checkBuffers("AdaptiveAvgPool2d", this.#shapes, { dy, dx });
    const { batch, channels, height, width } = this.options;
    const grid = grid1d(batch * channels * height * width);
    return [this.gpu.bind(this.kernels.backward, [dy, dx, this.#params(accumulate)], grid)];
  }
}

/** Global average pooling `[N, C, H, W] → [N, C]`: an {@link AdaptiveAvgPool2d} of size 1. */
export class GlobalAvgPool {
  /** Validates and compiles. */
  static async create(gpu: Gpu, options: PoolInput): Promise<AdaptiveAvgPool2d> {
    return await AdaptiveAvgPool2d.create(gpu, { ...options, size: 1 });
  }
}
