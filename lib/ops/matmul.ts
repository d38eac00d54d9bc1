/**
 * General matrix product on the GPU: `C[M,N] (+)= alpha · op(A)[M,K] · op(B)[K,N] (+ bias[N])`, row-major,
 * where op optionally transposes (A stored [K,M], B stored [N,K]).
 * @module
 */
import type { AdapterKind, Dispatch, Gpu } from "../gpu/device.ts";
import { checkBuffer, checkFits, gemmGrid, type GemmKernel, gemmKernel, unusedBinding } from "./gemm.ts";
import { checkDims } from "./shape.ts";

/** Shape and options of a {@link Matmul}. */
export interface MatmulOptions {
  m: number;
  n: number;
  k: number;
  /** A is stored [K, M]. */
  transA?: boolean;
  /** B is stored [N, K]. */
  transB?: boolean;
  /** Add into C instead of overwriting it. */
  accumulate?: boolean;
  /** Scale of the product (default 1). */
  alpha?: number;
  /** Add a bias vector of N values to every row (pass it to {@link Matmul.run}). */
  bias?: boolean;
  /** Kernel variant; defaults to `gpu.kind`. Forcing one lets tests cover both on any adapter. */
  variant?: AdapterKind;
}

/** Operands of {@link Matmul.run}. */
export interface MatmulBuffers {
  a: GPUBuffer;
  b: GPUBuffer;
  c: GPUBuffer;
  /** Required when created with `bias: true`. */
  bias?: GPUBuffer;
}

/**
 * @example
 * ```ts
 * import { getGpu } from "../gpu/mod.ts";
 * const gpu = await getGpu();
 * // C = A · Bᵀ with A [2, 3] and B stored [2, 3] (transB)
 * const mm = await Matmul.create(gpu, { m: 2, n: 2, k: 3, transB: true });
 * const a = gpu.upload(new Float32Array([1, 2, 3, 4, 5, 6]));
 * const b = gpu.upload(new Float32Array([1, 0, 0, 0, 1, 1]));
 * const c = gpu.buffer(2 * 2 * 4);
 * gpu.submit(mm.run({ a, b, c }));
 * console.log(await gpu.readF32(c, 4)); // [1, 5, 4, 11]
 * ```
 */
export class Matmul {
  private constructor(
    readonly gpu: Gpu,
    readonly options: Readonly<MatmulOptions>,
    readonly kernel: GemmKernel,
    readonly params: GPUBuffer,
  ) {}

  /** Validates the shape (ShapeError) and compiles or reuses the pipeline. */
  static async create(gpu: Gpu, options: MatmulOptions): Promise<Matmul> {
    const { m, n, k, transA = false, transB = false, accumulate = false, alpha = 1, bias = false } = options;
    checkDims("matmul", { m, n, k });
    checkFits(gpu, "matmul", "A", [m, k]);
    checkFits(gpu, "matmul", "B", [k, n]);
    checkFits(gpu, "matmul", "C", [m, n]);
    const kernel = await gemmKernel(gpu, ["matmul"], options.variant ?? gpu.kind, {
      TRANS_A: Number(transA),
      TRANS_B: Number(transB),
      // rows of stored A are [M] when transposed, else [K]; rows of stored B are [K] when transposed, else [N]
      VEC_A: Number(!transA && k % 4 === 0),
      VEC_B: Number((transB ? k : n) % 4 === 0),
    });
    const params = gpu.uniform([m, n, k, Number(bias), { f32: alpha }, { f32: accumulate ? 1 : 0 }]);
    return new Matmul(gpu, options, kernel, params);
  }

  /** One dispatch computing C; checks that the buffers are large enough. */
  run({ a, b, c, bias }: MatmulBuffers): Dispatch[] {
    const { m, n, k, transA, transB } = this.options;
    checkBuffer("matmul", "A", a, transA ? [k, m] : [m, k]);
    checkBuffer("matmul", "B", b, transB ? [n, k] : [k, n]);
    checkBuffer("matmul", "C", c, [m, n]);
    let biasBuffer = unusedBinding(this.gpu);
    if (this.options.bias) {
      if (!bias) throw new TypeError("matmul: created with bias: true but run without a bias buffer");
      checkBuffer("matmul", "bias", bias, [n]);
      biasBuffer = bias;
    }
    return [
      this.gpu.bind(this.kernel.pipeline, [a, b, c, biasBuffer, this.params], gemmGrid(this.kernel, m, n)),
    ];
  }
}
