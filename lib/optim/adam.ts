/**
 * Adam and AdamW on the GPU with `torch.optim.Adam` / `torch.optim.AdamW` semantics (kernel:
 * `kernels/adam.wgsl`, AdamW being its `decoupled` flag).
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import { Optimizer, type OptimParam } from "./optimizer.ts";

/** Hyperparameters of {@link Adam}; defaults are torch's `Adam` (AdamW's default weight decay is 1e-2). */
export interface AdamOptions {
  /** Default [0.9, 0.999]. */
  readonly betas?: readonly [number, number];
  /** Added outside the square root. Default 1e-8. */
  readonly eps?: number;
  /** Default 0 (Adam) or 1e-2 (AdamW); per-parameter override in {@link OptimParam}. */
  readonly weightDecay?: number;
  /**
   * AdamW: decay the parameter directly, `p ← p·(1 − lr·wd)`, instead of adding `wd·p` to the gradient
   * (Adam's coupled L2). Default false.
   */
  readonly decoupled?: boolean;
}

/**
 * Adam exactly as PyTorch defines it, per element:
 * `g = grad + wd·p` (Adam) or `p ← p·(1 − lr·wd)` (AdamW); `m ← β1·m + (1 − β1)·g`;
 * `v ← β2·v + (1 − β2)·g²`; `p −= lr/(1 − β1^t) · m / (√v/√(1 − β2^t) + ε)`.
 * State per parameter: `optim.<name>.exp_avg`, `optim.<name>.exp_avg_sq`; shared step count.
 *
 * @example
 * ```ts
 * import { getGpu } from "../gpu/mod.ts";
 * const gpu = await getGpu();
 * // one parameter tensor of 2 values and its gradient
 * const param = gpu.upload(new Float32Array([1, 2])), grad = gpu.upload(new Float32Array([0.5, -0.5]));
 * const params = [{ name: "w", shape: [2], param, grad }];
 * // the neural predictor's optimizer (docs/method.md#neural-predictor): torch Adam with coupled L2
 * const adam = await Adam.create(gpu, params, { weightDecay: 5e-4 });
 * gpu.submit(adam.step(1e-3)); // after a forward/backward pass has written `grad`
 * console.log(await gpu.readF32(param, 2)); // ≈ [0.999, 2.001]: Adam's first step is lr·sign(g)
 * ```
 */
export class Adam extends Optimizer {
  readonly #beta1: number;
  readonly #beta2: number;

  private constructor(
    gpu: Gpu,
    params: readonly OptimParam[],
    pipeline: GPUComputePipeline,
    options: AdamOptions,
  ) {
    const { betas: [beta1, beta2] = [0.9, 0.999], eps = 1e-8, decoupled = false } = options;
    const weightDecay = options.weightDecay ?? (decoupled ? 1e-2 : 0);
    for (const [name, value] of [["beta1", beta1], ["beta2", beta2]] as const) {
      if (!(value >= 0 && value < 1)) throw new RangeError(`Adam: ${name} ${value} must be in [0, 1)`);
    }
    if (!(eps >= 0) || !(weightDecay >= 0)) {
      throw new RangeError(`Adam: eps ${eps} and weightDecay ${weightDecay} must be >= 0`);
    }
    super(gpu, params, pipeline, ["exp_avg", "exp_avg_sq"], (p, count) =>
      gpu.uniform([
        count,
        // 1 − β in float64, then rounded once, as torch passes these scalars.
        { f32: 1 - beta1 },
        { f32: beta2 },
        { f32: 1 - beta2 },
        { f32: eps },
        { f32: p.weightDecay ?? weightDecay },
        decoupled ? 1 : 0,
      ]));
    this.#beta1 = beta1;
    this.#beta2 = beta2;
  }

  /** Builds the pipeline, allocates the moment buffers and binds one dispatch per parameter. */
  static async create(gpu: Gpu, params: readonly OptimParam[], options: AdamOptions = {}): Promise<Adam> {
    return new Adam(gpu, params, await gpu.pipeline({ file: "adam", entry: "main" }), options);
  }

  protected writeNow(lr: number, step: number, now: DataView): void {
    // Bias corrections in float64 on the CPU, like torch's single-tensor path.
    now.setFloat32(0, lr, true);
    now.setFloat32(4, lr / (1 - this.#beta1 ** step), true);
    now.setFloat32(8, Math.sqrt(1 - this.#beta2 ** step), true);
  }
}
