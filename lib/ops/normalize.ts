/** Per-channel input normalisation `(x − mean_c) / std_c` on NCHW images, with its input gradient. @module */
import type { Dispatch, Gpu } from "../gpu/device.ts";
import { type CompiledRule, compileRule, type Rule } from "../gpu/expr.ts";
import { checkDims, checkShape } from "./shape.ts";

/** Forward beside gradient; `invstd` = 1 / std is precomputed once. */
export const NORMALIZE_RULE = {
  inputs: { x: "elem", mean: "channel", invstd: "channel" },
  forward: "(x - mean) * invstd",
  grads: { x: "dy * invstd" },
} as const satisfies Rule;

/** Shape and statistics of a {@link Normalize}. */
export interface NormalizeOptions {
  batch: number;
  channels: number;
  height: number;
  width: number;
  /** Per-channel mean, `channels` values. */
  mean: readonly number[];
  /** Per-channel standard deviation, `channels` positive values. */
  std: readonly number[];
}

/** `y = (x − mean_c) / std_c`; backward `dx = dy / std_c` (attacks need the gradient w.r.t. raw pixels). */
export class Normalize {
  private constructor(
    private readonly kernels: CompiledRule<typeof NORMALIZE_RULE>,
    private readonly stats: { mean: GPUBuffer; invstd: GPUBuffer },
    private readonly extent: { count: number; channels: number; plane: number },
  ) {}

  /** Validates, uploads the statistics once and compiles. */
  static async create(gpu: Gpu, options: NormalizeOptions): Promise<Normalize> {
    const { batch, channels, height, width, mean, std } = options;
    checkDims("Normalize", { batch, channels, height, width });
    checkShape(
      mean.length === channels && std.length === channels,
      "Normalize",
      `mean [${mean.length}] and std [${std.length}] must both have channels = ${channels} values`,
    );
    checkShape(std.every((s) => s > 0), "Normalize", `std must be positive, got [${std}]`);
    const stats = {
      mean: gpu.upload(Float32Array.from(mean), "normalize.mean"),
      invstd: gpu.upload(Float32Array.from(std, (s) => 1 / s), "normalize.invstd"),
    };
    const plane = height * width;
    const kernels = await compileRule(gpu, "Normalize", NORMALIZE_RULE);
    return new Normalize(kernels, stats, { count: batch * channels * plane, channels, plane });
  }

  /** `y = (x − mean_c) / std_c`. */
  forward({ x, y }: { x: GPUBuffer; y: GPUBuffer }): Dispatch[] {
    return [this.kernels.forward.bind({ x, ...this.stats }, y, this.extent)];
  }

  /** `dx = dy / std_c`, or `dx += …` with `accumulate`. */
  backward({ dy, dx }: { dy: GPUBuffer; dx: GPUBuffer }, accumulate = false): Dispatch[] {
    return [this.kernels.grads.x.bind({ dy, ...this.stats }, dx, this.extent, {}, accumulate)];
  }
}
