/** Test helpers: a seeded RNG, central finite differences, and GPU upload / run / read shortcuts. @module */
import type { Dispatch, Gpu } from "../../lib/gpu/device.ts";

/** Seeded uniform values in [lo, hi) (mulberry32), rounded to float32 so GPU and reference see the same input. */
export function random(count: number, seed: number, lo = -1, hi = 1): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: count }, () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.fround(lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296));
  });
}

/** Gradient of scalar `f` at `x` by central differences with step `h` (x is restored). */
export function finiteDifference(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  return x.map((v, i) => {
    x[i] = v + h;
    const up = f(x);
    x[i] = v - h;
    const down = f(x);
    x[i] = v;
    return (up - down) / (2 * h);
  });
}

/** Σ a·b: turns a tensor-valued function into a scalar one for finite differences (b plays dy). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Uploads values as float32. */
export function f32(gpu: Gpu, values: ArrayLike<number>): GPUBuffer {
  return gpu.upload(Float32Array.from(values));
}

/** A zero-filled float32 buffer of `count` values. */
export function zeros(gpu: Gpu, count: number): GPUBuffer {
  return gpu.buffer(count * 4);
}

/** Submits `dispatches` and reads back the first `count` floats of each buffer. */
export async function run(
  gpu: Gpu,
  dispatches: Dispatch[],
  ...outputs: [GPUBuffer, number][]
): Promise<Float32Array[]> {
  gpu.submit(dispatches);
  const values = [];
  for (const [buffer, count] of outputs) values.push(await gpu.readF32(buffer, count));
  return values;
}
