/**
 * Helpers shared by the op tests: seeded random tensors, uploading, running dispatch lists and reading back,
 * and the finite-difference check of a reference gradient.
 * @module
 */
import type { Dispatch, Gpu } from "../lib/gpu/device.ts";
import { Random } from "../lib/random.ts";
import { assertClose } from "../lib/testing/assert.ts";

/** `count` values uniform in [-1, 1), seeded. */
export function randomTensor(random: Random, count: number): Float32Array {
  return Float32Array.from({ length: count }, () => random.uniform(-1, 1));
}

/** Submits `dispatches` and reads `count` floats of `out` back. */
export async function runAndRead(
  gpu: Gpu,
  dispatches: Dispatch[],
  out: GPUBuffer,
  count: number,
): Promise<Float32Array> {
  gpu.submit(dispatches);
  return await gpu.readF32(out, count);
}

/**
 * fp32 tolerance for values that are sums of `terms` products of O(1) numbers: rounding error grows with the
 * reduction length, and near-cancelling sums need an absolute floor.
 */
export function sumTolerance(terms: number): { rtol: number; atol: number } {
  return { rtol: 1e-4, atol: 2e-6 * Math.max(1, Math.sqrt(terms)) * 4 };
}

/**
 * Checks `grad` (the claimed gradient of `loss` at `x`) by central differences at `samples` seeded indices, in
 * float64: the model is linear in x, so only rounding separates the two.
 */
export function checkFiniteDifferences(
  loss: (x: Float64Array) => number,
  x: ArrayLike<number>,
  grad: ArrayLike<number>,
  { samples = 12, seed = 1, label = "gradient" } = {},
): void {
  const random = new Random(seed);
  const point = Float64Array.from(x);
  const h = 1e-3;
  const numeric: number[] = [], claimed: number[] = [];
  for (let s = 0; s < samples; s++) {
    const i = random.int(point.length);
    const keep = point[i];
    point[i] = keep + h;
    const up = loss(point);
    point[i] = keep - h;
    const down = loss(point);
    point[i] = keep;
    numeric.push((up - down) / (2 * h));
    claimed.push(grad[i]);
  }
  assertClose(claimed, numeric, { rtol: 1e-7, atol: 1e-9, label });
}
