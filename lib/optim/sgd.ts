/**
 * Stochastic gradient descent on the GPU with `torch.optim.SGD` semantics (kernel: `kernels/sgd.wgsl`).
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import { Optimizer, type OptimParam } from "./optimizer.ts";

/** Hyperparameters of {@link Sgd}; defaults are torch's. */
export interface SgdOptions {
  /** Coupled L2 term: `g ← g + weightDecay·p` before momentum. Default 0; per-parameter override in {@link OptimParam}. */
  readonly weightDecay?: number;
  /** Default 0 (no momentum buffers are allocated then). */
  readonly momentum?: number;
  /** Default 0. */
  readonly dampening?: number;
  /** Nesterov momentum: needs momentum > 0 and dampening 0, as torch requires. Default false. */
  readonly nesterov?: boolean;
}

/**
 * SGD exactly as PyTorch defines it, per element:
 * `g = grad + wd·p; b = g (first step) else μ·b + (1 − dampening)·g; g = nesterov ? g + μ·b : b; p −= lr·g`.
 * State per parameter: `optim.<name>.momentum_buffer` (only with momentum).
 *
 * @example
 * ```ts
 * import { getGpu } from "../gpu/mod.ts";
 * const gpu = await getGpu();
 * // one parameter tensor of 2 values and its gradient
 * const param = gpu.upload(new Float32Array([1, 2])), grad = gpu.upload(new Float32Array([0.5, -0.5]));
 * const params = [{ name: "w", shape: [2], param, grad }];
 * const sgd = await Sgd.create(gpu, params, { momentum: 0.9 });
 * gpu.submit(sgd.step(0.1));
 * console.log(await gpu.readF32(param, 2)); // [0.95, 2.05]: p − lr·g on the first step
 * ```
 */
export class Sgd extends Optimizer {
  /** Builds the pipeline, allocates momentum buffers and binds one dispatch per parameter. */
  static async create(gpu: Gpu, params: readonly OptimParam[], options: SgdOptions = {}): Promise<Sgd> {
    const { weightDecay = 0, momentum = 0, dampening = 0, nesterov = false } = options;
    if (!(momentum >= 0) || !(weightDecay >= 0) || !(dampening >= 0)) {
      throw new RangeError(
        `Sgd: momentum ${momentum}, dampening ${dampening}, weightDecay ${weightDecay} must be >= 0`,
      );
    }
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new RangeError("Sgd: Nesterov momentum requires a momentum and zero dampening");
    }
    const entry = momentum > 0 ? "momentum" : "plain";
    const pipeline = await gpu.pipeline({ file: "sgd", entry });
    return new Sgd(gpu, params, pipeline, momentum > 0 ? ["momentum_buffer"] : [], (p, count) =>
      gpu.uniform([
        count,
        { f32: p.weightDecay ?? weightDecay },
        { f32: momentum },
        { f32: dampening },
        nesterov ? 1 : 0,
      ]));
  }

  protected writeNow(lr: number, step: number, now: DataView): void {
    now.setFloat32(0, lr, true);
    now.setUint32(4, step === 1 ? 1 : 0, true);
  }
}
