/**
 * Gram matrices `X Xᵀ` of feature matrices: the one heavy product behind RDMs and CKA. Small inputs use a
 * float64 CPU product (also the test oracle); large ones, when a {@link Gpu} is given, run as one fp32
 * `Matmul` on the GPU and come back as float64.
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import { crossProduct } from "../linalg/product.ts";
import { Matmul } from "../ops/matmul.ts";
import type { Matrix } from "./matrix.ts";

/**
 * Multiply-adds (rows² × cols) below which the CPU path is used even when a GPU is given: below it the CPU
 * product takes a few milliseconds, less than a pipeline compile plus a round trip, and keeps float64.
 */
export const GPU_MIN_WORK = 1 << 24;

/** Options for {@link gram}. */
export interface GramOptions {
  /** Run products of at least `minGpuWork` multiply-adds on this GPU (fp32); smaller ones in float64 on the CPU. */
  gpu?: Gpu;
  /** Threshold for the GPU path in multiply-adds (rows² × cols); default {@link GPU_MIN_WORK}. */
  minGpuWork?: number;
}

/**
 * The rows × rows Gram matrix `X Xᵀ` in float64 on the CPU.
 *
 * @example
 * ```ts
 * import { fromRows } from "./matrix.ts";
 * const g = gramCpu(fromRows([[1, 2], [3, 4]])); // [5, 11, 11, 25]
 * ```
 */
export function gramCpu(x: Matrix): Float64Array {
  const data = x.data instanceof Float64Array ? x.data : Float64Array.from(x.data);
  return crossProduct(data, x.rows, x.cols, 1);
}

/**
 * The rows × rows Gram matrix `X Xᵀ`: on `options.gpu` when the product is large (fp32 accumulate, relative
 * error about 1e-6 for unit-scale rows of 4,096 features), else {@link gramCpu}.
 *
 * @example
 * ```ts
 * import { getGpu } from "../gpu/mod.ts";
 * import { fromRows } from "./matrix.ts";
 * const gpu = await getGpu();
 * // minGpuWork: 0 forces the GPU even for this tiny input (by default small products stay on the CPU)
 * const g = await gram(fromRows([[1, 2], [3, 4]]), { gpu, minGpuWork: 0 }); // ≈ [5, 11, 11, 25] (float32)
 * ```
 */
export async function gram(x: Matrix, options: GramOptions = {}): Promise<Float64Array> {
  const { gpu, minGpuWork = GPU_MIN_WORK } = options;
  if (!gpu || x.rows * x.rows * x.cols < minGpuWork) return gramCpu(x);
  return Float64Array.from(await gramGpu(gpu, x));
}

/** `X Xᵀ` as one matmul with B = A transposed (the same buffer bound twice, both read-only). */
async function gramGpu(gpu: Gpu, x: Matrix): Promise<Float32Array> {
  const n = x.rows;
  const mm = await Matmul.create(gpu, { m: n, n, k: x.cols, transB: true });
  const a = gpu.upload(x.data instanceof Float32Array ? x.data : Float32Array.from(x.data), "gram-x");
  const c = gpu.buffer(n * n * 4, "gram");
  try {
    gpu.submit(mm.run({ a, b: a, c }));
    return await gpu.readF32(c, n * n);
  } finally {
    a.destroy();
    c.destroy();
  }
}
