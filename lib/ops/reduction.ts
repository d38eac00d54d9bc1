/**
 * Whole-buffer reductions (`kernels/reduction.wgsl`): sum of squares (gradient norms), scaled sum of squared
 * differences (MSE) and a non-finite check. Two passes each, no atomics, any length.
 * @module
 */
import type { Dispatch, Gpu } from "../gpu/device.ts";
import { grid1d } from "../gpu/grid.ts";
import { checkBuffers } from "../gpu/operands.ts";
import { checkDims } from "./shape.ts";

/** Options of a {@link Reduce}. */
export interface ReduceOptions {
  /** Elements reduced per call. */
  count: number;
  /** Upper bound on first-pass partials (tuning; default 4096, fastest for 11M values on the software adapter). */
  partials?: number;
}

const ENTRIES = [
  "partial_sum_squares",
  "partial_squared_difference",
  "partial_non_finite",
  "final_sum",
  "final_any",
] as const;
type Entry = typeof ENTRIES[number];

/** Reductions over the first `count` floats of a buffer; results land in element 0 of an output buffer. */
export class Reduce {
  private constructor(
    private readonly gpu: Gpu,
    private readonly pipelines: Record<Entry, GPUComputePipeline>,
    /** First-pass results, allocated once and reused by every method. */
    private readonly partial: GPUBuffer,
    readonly count: number,
    readonly partials: number,
  ) {}

  /** Allocates the partials scratch and compiles. */
  static async create(gpu: Gpu, { count, partials = 4096 }: ReduceOptions): Promise<Reduce> {
    checkDims("Reduce", { count, partials });
    // at least 64 elements per partial: fewer would only lengthen the serial second pass
    const used = Math.min(partials, Math.ceil(count / 64));
    const compiled = await Promise.all(ENTRIES.map((entry) => gpu.pipeline({ file: "reduction", entry })));
    const pipelines = Object.fromEntries(ENTRIES.map((e, i) => [e, compiled[i]])) as Record<
      Entry,
      GPUComputePipeline
    >;
    return new Reduce(gpu, pipelines, gpu.buffer(used * 4, "reduction.partial"), count, used);
  }

  #pass(
    first: Entry,
    inputs: GPUBuffer[],
    last: Entry,
    out: GPUBuffer,
    scale = 1,
    accumulate = false,
  ): Dispatch[] {
    const shapes = { input: [this.count], output: [1] };
    for (const input of inputs) checkBuffers("Reduce", shapes, { input });
    checkBuffers("Reduce", shapes, { output: out });
    const params = this.gpu.uniform([this.count, this.partials, accumulate ? 1 : 0, { f32: scale }]);
    return [
      this.gpu.bind(this.pipelines[first], [...inputs, this.partial, params], grid1d(this.partials, 64)),
      this.gpu.bind(this.pipelines[last], [this.partial, out, params], [1]),
    ];
  }

  /** `out[0] = Σ x²` (f32), or `out[0] += …` with `accumulate` (a norm over several parameter buffers). */
  sumOfSquares({ x, out }: { x: GPUBuffer; out: GPUBuffer }, accumulate = false): Dispatch[] {
    return this.#pass("partial_sum_squares", [x], "final_sum", out, 1, accumulate);
  }

  /** `out[0] = scale · Σ (a − b)²`, or `out[0] += …` with `accumulate`. */
  sumOfSquaredDifferences(
    { a, b, out }: { a: GPUBuffer; b: GPUBuffer; out: GPUBuffer },
    scale = 1,
    accumulate = false,
  ): Dispatch[] {
    return this.#pass("partial_squared_difference", [a, b], "final_sum", out, scale, accumulate);
  }

  /**
   * Sets `flag[0]` (u32) to 1 if any of the `count` values is NaN or ±Inf; leaves it untouched otherwise, so
   * one flag can collect checks of many buffers and steps until the host reads and clears it.
   */
  nonFinite({ x, flag }: { x: GPUBuffer; flag: GPUBuffer }): Dispatch[] {
    return this.#pass("partial_non_finite", [x], "final_any", flag);
  }
}
