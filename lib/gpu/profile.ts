/**
 * Per-dispatch GPU timing with `timestamp-query`: while {@link profileDispatches} runs some work, every
 * dispatch that goes through {@link Gpu.submit} is encoded in its own compute pass with timestamps at the
 * pass's start and end. Splitting the pass changes scheduling slightly, so read the result as shares of the
 * work, not as throughput; the normal submit path is untouched outside a profile.
 * @module
 */
import { type Dispatch, encodeDispatch, type Gpu, GpuError } from "./device.ts";

/** GPU time of one dispatch. */
export interface DispatchTiming {
  /** The pipeline label: `file#entry#constants`. */
  readonly label: string;
  readonly ms: number;
  /** Which {@link Gpu.submit} call (0-based, within the profile) it belonged to. */
  readonly submit: number;
}

/** Queries per set: WebGPU's maximum (4096) / 2 per dispatch bounds the dispatches of one submit. */
const QUERIES = 4096;

/**
 * Runs `work` and returns the GPU time of every dispatch it submitted, in order. Needs the adapter's
 * `timestamp-query` feature (lavapipe and llvmpipe offer it; {@link getGpu} requests it when offered).
 * Timestamps are taken as nanoseconds, which is what WebGPU specifies and what Mesa's software adapters
 * report.
 *
 * @example
 * ```ts
 * import type { Dispatch, Gpu } from "./device.ts";
 * // Per-kernel GPU times of one submission of `dispatches`.
 * async function timeKernels(gpu: Gpu, dispatches: Dispatch[]) {
 *   const timings = await profileDispatches(gpu, async () => {
 *     gpu.submit(dispatches);
 *     await gpu.sync();
 *   });
 *   return timings;
 * }
 * ```
 */
export async function profileDispatches(gpu: Gpu, work: () => Promise<void>): Promise<DispatchTiming[]> {
  const { device } = gpu;
  if (!device.features.has("timestamp-query")) {
    throw new GpuError(`profile: adapter "${gpu.description}" offers no timestamp-query`);
  }
  const querySet = device.createQuerySet({ type: "timestamp", count: QUERIES, label: "profile" });
  const submits: { labels: string[]; resolved: GPUBuffer; readback: GPUBuffer }[] = [];
  gpu.setSubmitEncoder((encoder, dispatches: readonly Dispatch[]) => {
    const count = 2 * dispatches.length;
    if (count > QUERIES) {
      throw new GpuError(`profile: ${dispatches.length} dispatches in one submit (at most ${QUERIES / 2})`);
    }
    dispatches.forEach((d, i) => {
      const pass = encoder.beginComputePass({
        timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
      });
      encodeDispatch(pass, d);
      pass.end();
    });
    // Resolved in the same command buffer, so the next submit may reuse the query slots from 0.
    const bytes = Math.max(8, 8 * count);
    const resolved = device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const readback = device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    if (count > 0) {
      encoder.resolveQuerySet(querySet, 0, count, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, readback, 0, bytes);
    }
    submits.push({ labels: dispatches.map((d) => d.label), resolved, readback });
  });
  try {
    await work();
  } finally {
    gpu.setSubmitEncoder(null);
  }
  const timings: DispatchTiming[] = [];
  for (const [submit, { labels, resolved, readback }] of submits.entries()) {
    await readback.mapAsync(GPUMapMode.READ);
    const stamps = new BigUint64Array(readback.getMappedRange());
    labels.forEach((label, i) =>
      timings.push({ label, ms: Number(stamps[2 * i + 1] - stamps[2 * i]) / 1e6, submit })
    );
    readback.unmap();
    readback.destroy();
    resolved.destroy();
  }
  querySet.destroy();
  gpu.checkErrors("profile");
  return timings;
}
