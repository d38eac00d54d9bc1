/**
 * The GEMM machinery behind {@link Matmul}, `Linear` and `Conv2d`: composes an operand file (what A, B and C are)
 * with the shared register-blocked core and a driver chosen per adapter, plus the buffer checks every op runs.
 * See `kernels/gemm_core.wgsl` for the contract between the WGSL parts.
 * @module
 */
import type { AdapterKind, Gpu } from "../gpu/device.ts";
import { loadKernelSource } from "../gpu/shader.ts";
import { ShapeError } from "./shape.ts";

/** Outputs per invocation along M and along N (the 16×8 register tile of `gemm_core.wgsl`). */
export const TILE = { m: 16, n: 8 } as const;

/**
 * Workgroup shape of the barrier-free CPU driver, in invocations (x along N, y along M): one row of tiles, so
 * a workgroup's invocations share their A rows. On llvmpipe the shape barely mattered (16×8 ≈ 64×1 measured);
 * the number of storage loads per multiply-add does.
 */
export const CPU_WORKGROUP = { x: 64, y: 1 } as const;

/** Workgroup shape of the tiled GPU driver (fixed: its workgroup tiles are sized for it). */
const GPU_WORKGROUP = { x: 16, y: 8 } as const;

/** A compiled GEMM kernel and the driver it runs on (which sets the workgroup shape of its grid). */
export interface GemmKernel {
  readonly pipeline: GPUComputePipeline;
  readonly variant: AdapterKind;
}

/**
 * Pipeline for `operands` (kernel files defining the GEMM operands, in order) on the `variant` driver.
 * Cached by the gpu context, so ops built for the same layer shape share it.
 */
export async function gemmKernel(
  gpu: Gpu,
  operands: readonly string[],
  variant: AdapterKind,
  constants: Record<string, number> = {},
): Promise<GemmKernel> {
  const driver = variant === "cpu" ? "gemm_cpu" : "gemm_gpu";
  const files = [...operands, "gemm_core", driver];
  const source = (await Promise.all(files.map(loadKernelSource))).join("\n");
  const all = variant === "cpu" ? { WG_X: CPU_WORKGROUP.x, ...constants } : constants;
  const pipeline = await gpu.pipeline({ file: files.join("+"), entry: "main", source, constants: all });
  return { pipeline, variant };
}

/** Workgroup grid covering an M×N output in `splits` reduction slices. */
export function gemmGrid(kernel: GemmKernel, m: number, n: number, splits = 1): [number, number, number] {
  const wg = kernel.variant === "cpu" ? CPU_WORKGROUP : GPU_WORKGROUP;
  return [Math.ceil(n / (TILE.n * wg.x)), Math.ceil(m / (TILE.m * wg.y)), splits];
}

const spare = new WeakMap<Gpu, GPUBuffer>();

/** A placeholder for unused bindings: the kernels always declare them, branches skip the reads. */
export function unusedBinding(gpu: Gpu): GPUBuffer {
  let buffer = spare.get(gpu);
  if (!buffer) {
    buffer = gpu.buffer(16, "unused-binding");
    spare.set(gpu, buffer);
  }
  return buffer;
}

/** Formats a shape as `[a, b, c]` for error messages. */
export function showShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Throws a ShapeError unless a tensor of `shape` fits one storage binding of this adapter. */
export function checkFits(gpu: Gpu, op: string, name: string, shape: readonly number[]): void {
  const bytes = shape.reduce((a, b) => a * b, 4);
  const limit = gpu.device.limits.maxStorageBufferBindingSize;
  if (bytes > limit) {
    const what = `${op}: ${name} ${showShape(shape)} needs ${bytes} bytes`;
    throw new ShapeError(`${what}, over this adapter's storage binding limit of ${limit}; split the batch`);
  }
}

/**
 * Throws a ShapeError unless `buffer` can hold a tensor of `shape` (checked when binding). Sizes must be whole
 * vec4s, as `gpu.buffer` makes them: the kernels read operands in vec4s and could not reach a partial tail.
 */
export function checkBuffer(op: string, name: string, buffer: GPUBuffer, shape: readonly number[]): void {
  if (buffer.size % 16 !== 0) {
    throw new ShapeError(
      `${op}: ${name} buffer is ${buffer.size} bytes, not a multiple of 16 (use gpu.buffer)`,
    );
  }
  const floats = shape.reduce((a, b) => a * b, 1);
  if (buffer.size < floats * 4) {
    throw new ShapeError(
      `${op}: ${name} buffer holds ${Math.floor(buffer.size / 4)} floats, too few for ${showShape(shape)}`,
    );
  }
}
