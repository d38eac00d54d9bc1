/**
 * Small reductions that finish GEMM-based ops: the bias gradient (sum over all axes but the channel) and the
 * split-K epilogue (sum of partial products).
 * @module
 */
import type { Dispatch, Gpu } from "../gpu/device.ts";
import { grid1d } from "../gpu/grid.ts";

/** Layout of a gradient seen as [outer, channels, inner]: linear is [batch, out, 1], conv [batch, cout, oh·ow]. */
export interface BiasLayout {
  outer: number;
  channels: number;
  inner: number;
}

/** Binder for `out[c] = Σ_o Σ_p g[o, c, p]`. */
export async function biasGrad(
  gpu: Gpu,
  layout: BiasLayout,
): Promise<(g: GPUBuffer, out: GPUBuffer) => Dispatch> {
  const pipeline = await gpu.pipeline({ file: "bias_grad", entry: "main" });
  const params = gpu.uniform([layout.outer, layout.channels, layout.inner]);
  return (g, out) => gpu.bind(pipeline, [g, out, params], [Math.ceil(layout.channels / 64)]);
}

/** Binder for `out[i] = Σ_z partial[z·count + i]` over `splits` slices. */
export async function splitSum(
  gpu: Gpu,
  count: number,
  splits: number,
): Promise<(partial: GPUBuffer, out: GPUBuffer) => Dispatch> {
  const pipeline = await gpu.pipeline({ file: "gemm_splitk", entry: "main" });
  const params = gpu.uniform([count, splits]);
  return (partial, out) => gpu.bind(pipeline, [partial, out, params], grid1d(count));
}
