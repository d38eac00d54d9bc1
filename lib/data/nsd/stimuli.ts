/**
 * NSD stimuli from `nsd_stimuli.hdf5` (`/imgBrick`, row-major [73000, 425, 425, 3] uint8, HWC), read one image
 * per hyperslab by 0-based 73k id and resized like PIL's `Image.resize(size, Image.BILINEAR)`.
 *
 * PIL's bilinear is a separable triangle filter whose support widens by the scale factor when shrinking
 * (antialiasing), computed in 22-bit fixed point with a rounded uint8 result after the horizontal pass and
 * again after the vertical pass (Pillow `libImaging/Resample.c`). {@link resizeBilinearPil} follows that
 * arithmetic so outputs match the reference pipeline's uint8 images; float output is that uint8 ÷ 255, as
 * torchvision's `ToTensor` would give.
 * @module
 */
import { NsdFormatError } from "./errors.ts";
import { getDataset, readSlice, withH5 } from "./hdf5.ts";

/** Side of an NSD stimulus in pixels. */
export const NSD_STIMULUS_SIZE = 425;

/** Options of {@link readStimuli}. */
export interface StimulusOptions {
  /**
   * Output side in pixels (227 for the neural predictor, `docs/method.md#predictor-stimuli`). Default 227.
   */
  size?: number;
  /** "float32" → values in [0, 1]; "uint8" → 0..255. Default "float32". */
  dtype?: "float32" | "uint8";
}

/**
 * Reads images by 0-based 73k id as NCHW (`[ids.length, 3, size, size]`).
 *
 * @example
 * ```ts
 * import { nsdPaths } from "./paths.ts";
 * // 73k image 2950 (shared0001_nsd02951.png) at the predictor's 227 px.
 * async function firstSharedImage(nsdRoot: string) {
 *   const { data, shape } = await readStimuli(nsdPaths(nsdRoot, 1).stimuli, [2950], { size: 227 });
 *   return { data, shape }; // shape [1, 3, 227, 227]
 * }
 * ```
 */
export async function readStimuli(
  file: string,
  ids: ArrayLike<number>,
  { size = 227, dtype = "float32" }: StimulusOptions = {},
): Promise<{ data: Float32Array | Uint8Array; shape: [number, number, number, number] }> {
  return await withH5(file, undefined, (f) => {
    const { ds, shape } = getDataset(f, "imgBrick", {
      dtype: "<B",
      shape: [null, null, null, 3],
      describe: "[images, height, width, 3] uint8",
    });
    const [n, h, w] = shape;
    const plane = size * size;
    const out = dtype === "uint8"
      ? new Uint8Array(ids.length * 3 * plane)
      : new Float32Array(ids.length * 3 * plane);
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k];
      if (!Number.isInteger(id) || id < 0 || id >= n) {
        throw new NsdFormatError(file, `image id ${id} is outside 0..${n - 1} (ids are 0-based 73k ids)`);
      }
      const hwc = readSlice(ds, shape, [[id, id + 1], [0, h], [0, w], [0, 3]], file) as Uint8Array;
      for (let c = 0; c < 3; c++) {
        const channel = new Uint8Array(h * w);
        for (let i = 0; i < h * w; i++) channel[i] = hwc[3 * i + c];
        const resized = resizeBilinearPil(channel, h, w, size, size);
        const base = (k * 3 + c) * plane;
        if (out instanceof Uint8Array) out.set(resized, base);
        else for (let i = 0; i < plane; i++) out[base + i] = resized[i] / 255;
      }
    }
    return { data: out, shape: [ids.length, 3, size, size] as [number, number, number, number] };
  });
}

/** Pillow's fixed-point precision for 8-bit resampling (`PRECISION_BITS = 32 - 8 - 2`). */
const PRECISION_BITS = 22;

/**
 * Integer filter taps of one axis, as Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` with the
 * bilinear (triangle, support 1) filter: for output i, taps start at `bounds[2i]` and number `bounds[2i+1]`.
 */
function pilCoefficients(
  inSize: number,
  outSize: number,
): { bounds: Int32Array; kernel: Int32Array; width: number } {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // triangle support 1 × filterScale
  const width = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2), kernel = new Int32Array(outSize * width);
  const weights = new Float64Array(width);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    // C's (int) cast truncates toward zero; the clamp to 0 makes that equal to floor here.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      const d = Math.abs((x + xmin - center + 0.5) / filterScale);
      weights[x] = d < 1 ? 1 - d : 0;
      total += weights[x];
    }
    for (let x = 0; x < xmax; x++) {
      const k = total !== 0 ? weights[x] / total : 0;
      kernel[i * width + x] = Math.trunc(k * (1 << PRECISION_BITS) + (k < 0 ? -0.5 : 0.5));
    }
    bounds[2 * i] = xmin;
    bounds[2 * i + 1] = xmax;
  }
  return { bounds, kernel, width };
}

/**
 * Resizes one uint8 channel (row-major h×w) to outH×outW exactly as Pillow's bilinear `resize`: horizontal
 * pass, uint8 rounding and clamping, vertical pass, uint8 again. A pass is skipped when its size is unchanged.
 */
export function resizeBilinearPil(
  src: Uint8Array,
  h: number,
  w: number,
  outH: number,
  outW: number,
): Uint8Array {
  const half = 1 << (PRECISION_BITS - 1);
  const clip8 = (v: number) => Math.min(255, Math.max(0, v >> PRECISION_BITS));
  let current = src;
  if (outW !== w) {
    const { bounds, kernel, width } = pilCoefficients(w, outW);
    const next = new Uint8Array(h * outW);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < outW; x++) {
        const start = bounds[2 * x], n = bounds[2 * x + 1];
        let acc = half;
        for (let k = 0; k < n; k++) acc += current[y * w + start + k] * kernel[x * width + k];
        next[y * outW + x] = clip8(acc);
      }
    }
    current = next;
  }
  if (outH !== h) {
    const { bounds, kernel, width } = pilCoefficients(h, outH);
    const next = new Uint8Array(outH * outW);
    for (let y = 0; y < outH; y++) {
      const start = bounds[2 * y], n = bounds[2 * y + 1];
      for (let x = 0; x < outW; x++) {
        let acc = half;
        for (let k = 0; k < n; k++) acc += current[(start + k) * outW + x] * kernel[y * width + k];
        next[y * outW + x] = clip8(acc);
      }
    }
    current = next;
  }
  return current;
}
