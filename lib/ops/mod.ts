/**
 * One program object per kernel, forward beside backward: matrix products, linear and convolution layers
 * (all on one GEMM core), batch norm, elementwise ops, pooling, input normalisation, reductions and the
 * losses (softmax cross-entropy, MSE, the guidance loss, the manifold-guidance loss). Layout NCHW, fp32,
 * PyTorch weight layouts. `create` validates shapes (a {@link ShapeError} naming the op) before anything is
 * dispatched; the methods only bind buffers and return {@link Dispatch} lists to submit.
 *
 * Conventions for adding an op are in `docs/CONVENTIONS.md`. `gemm.ts`, `operands.ts` and `reduce.ts` are
 * internal building blocks.
 *
 * @example A 2×3 · 3×2 product on the GPU
 * ```ts
 * import { getGpu } from "../gpu/mod.ts";
 * import { Matmul } from "./mod.ts";
 * const gpu = await getGpu();
 * const matmul = await Matmul.create(gpu, { m: 2, k: 3, n: 2 });
 * const a = gpu.upload(new Float32Array([1, 2, 3, 4, 5, 6]));
 * const b = gpu.upload(new Float32Array([1, 0, 0, 1, 1, 1]));
 * const c = gpu.buffer(4 * 4);
 * gpu.submit(matmul.run({ a, b, c }));
 * console.log(await gpu.readF32(c, 4)); // Float32Array [4, 5, 10, 11]
 * ```
 * @module
 */
import type { Dispatch } from "../gpu/device.ts";
export type { Dispatch };
export { Matmul, type MatmulBuffers, type MatmulOptions } from "./matmul.ts";
export { Linear, type LinearOptions } from "./linear.ts";
export { Conv2d, type Conv2dOptions } from "./conv2d.ts";
export { BatchNorm2d, type BatchNorm2dOptions } from "./batchnorm.ts";
export { Add, Copy, Relu, Scale } from "./elementwise.ts";
export { Normalize, type NormalizeOptions } from "./normalize.ts";
export {
  AdaptiveAvgPool2d,
  type AdaptiveAvgPool2dOptions,
  GlobalAvgPool,
  MaxPool2d,
  type MaxPool2dOptions,
  type PoolInput,
} from "./pool.ts";
export { GuidanceLoss, type GuidanceLossOptions, Mse, SoftmaxCrossEntropy } from "./loss.ts";
export {
  type DimSign,
  MANIFOLD_DEFAULT_WEIGHTS,
  ManifoldLoss,
  type ManifoldLossWeights,
  type ManifoldTargets,
} from "./manifold_loss.ts";
export { Reduce, type ReduceOptions } from "./reduction.ts";
export { ShapeError } from "./shape.ts";
