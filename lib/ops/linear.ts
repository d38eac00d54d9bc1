/**
 * torch `nn.Linear` on the GPU: `y[N, out] = x[N, in] · Wᵀ + b` with W stored [out, in], and its gradients.
 * Every product is a {@link Matmul}.
 * @module
 */
import type { AdapterKind, Dispatch, Gpu } from "../gpu/device.ts";
import { checkBuffer } from "./gemm.ts";
import { Matmul } from "./matmul.ts";
import { biasGrad } from "./reduce.ts";
import { checkDims } from "./shape.ts";

/** Shape of a {@link Linear} layer. */
export interface LinearOptions {
  batch: number;
  inFeatures: number;
  outFeatures: number;
  bias: boolean;
  /** Kernel variant; defaults to `gpu.kind`. */
  variant?: AdapterKind;
}

/**
 * @example
 * ```ts
 * import { getGpu } from "../gpu/mod.ts";
 * const gpu = await getGpu();
 * const fc = await Linear.create(gpu, { batch: 2, inFeatures: 3, outFeatures: 2, bias: true });
 * const x = gpu.upload(new Float32Array([1, 2, 3, 4, 5, 6])); // [batch, in]
 * const weight = gpu.upload(new Float32Array([1, 0, 0, 0, 1, 1])); // [out, in], PyTorch's layout
 * const bias = gpu.upload(new Float32Array([10, 20]));
 * const y = gpu.buffer(2 * 2 * 4);
 * gpu.submit(fc.forward({ x, weight, bias, y }));
 * console.log(await gpu.readF32(y, 4)); // [11, 25, 14, 31]
 * ```
 */
export class Linear {
  private constructor(
    readonly options: Readonly<LinearOptions>,
    private readonly fwd: Matmul,
    private readonly dxSet: Matmul,
    private readonly dxAdd: Matmul,
    private readonly dw: Matmul,
    private readonly db: ((g: GPUBuffer, out: GPUBuffer) => Dispatch) | null,
  ) {}

  /** Validates the shape (ShapeError) and compiles or reuses the pipelines. */
  static async create(gpu: Gpu, options: LinearOptions): Promise<Linear> {
    const { batch, inFeatures, outFeatures, bias, variant } = options;
    checkDims("linear", { batch, inFeatures, outFeatures });
    const [fwd, dxSet, dxAdd, dw, db] = await Promise.all([
      Matmul.create(gpu, { m: batch, n: outFeatures, k: inFeatures, transB: true, bias, variant }),
      Matmul.create(gpu, { m: batch, n: inFeatures, k: outFeatures, variant }),
      Matmul.create(gpu, { m: batch, n: inFeatures, k: outFeatures, accumulate: true, variant }),
      Matmul.create(gpu, { m: outFeatures, n: inFeatures, k: batch, transA: true, variant }),
      bias ? biasGrad(gpu, { outer: batch, channels: outFeatures, inner: 1 }) : null,
    ]);
    return new Linear(options, fwd, dxSet, dxAdd, dw, db);
  }

  /** `y = x·Wᵀ (+ bias)`. */
  forward(
    { x, weight, bias, y }: { x: GPUBuffer; weight: GPUBuffer; bias?: GPUBuffer; y: GPUBuffer },
  ): Dispatch[] {
    return this.fwd.run({ a: x, b: weight, c: y, bias });
  }

  /** `dx = dy·W`, or `dx += dy·W` with `accumulate`. */
  backwardInput(
    { dy, weight, dx }: { dy: GPUBuffer; weight: GPUBuffer; dx: GPUBuffer },
    accumulate = false,
  ): Dispatch[] {
    return (accumulate ? this.dxAdd : this.dxSet).run({ a: dy, b: weight, c: dx });
  }

  /** `dWeight = dyᵀ·x` and `dBias = Σ_batch dy` (both overwrite). */
  backwardParams(
    { x, dy, dWeight, dBias }: { x: GPUBuffer; dy: GPUBuffer; dWeight: GPUBuffer; dBias?: GPUBuffer },
  ): Dispatch[] {
    const dispatches = this.dw.run({ a: dy, b: x, c: dWeight });
    if (this.db) {
      if (!dBias) throw new TypeError("linear: created with bias: true, so backwardParams needs dBias");
      checkBuffer("linear", "dBias", dBias, [this.options.outFeatures]);
      dispatches.push(this.db(dy, dBias));
    }
    return dispatches;
  }
}
