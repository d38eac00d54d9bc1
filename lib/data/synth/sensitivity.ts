/**
 * How far each simulated ROI's response moves under small L∞ image perturbations, in units of its own
 * across-image SD — the number that says whether an ROI can be a robust teacher at all.
 *
 * Perturbations live on the 32-px feature grid (every image is resampled onto it before any stage runs, so an
 * L∞ ball of radius ε on the grid is exactly what an L∞ ball of radius ε on the stimulus can reach). For each
 * image x and radius ε, with Δr = response(clip(x + δ)) − response(x) over the ROI's voxels (z-scored, so SD 1
 * across images):
 * - **random**: δ = ε·(independent random signs per grid pixel and channel), RMS of Δr over voxels and images;
 * - **worst**: the largest RMS found by the Square Attack (Andriushchenko et al., "Square Attack: a
 *   query-efficient black-box adversarial attack via random search", ECCV 2020): start from vertical stripes
 *   of ±ε (one random sign per column and channel), then for `queries` steps set a random square of the image
 *   to ±ε (one random sign per channel) and keep the change if |Δr|² grew; the square's area starts at
 *   10 % of the image and halves after 10, 50 and 200 steps. It needs only response evaluations (the brain
 *   has no gradient) and suits receptive-field models, whose responses change patch by patch. Being a
 *   search, it is a lower bound on the true worst case (a stronger attack could only raise it).
 * @module
 */
import { FEATURE_GRID, resampleToGrid } from "./features.ts";
import { responder, type SimulatedBrain, simulatedRoiVoxels } from "./brain.ts";
import type { RoiName } from "../nsd/roi.ts";
import type { Random } from "../../random.ts";

/** One ROI's measured sensitivity at one radius. */
export interface Sensitivity {
  /** L∞ radius on [0, 1] pixels. */
  eps: number;
  /** RMS response change under random ±ε signs, in across-image SDs. */
  random: number;
  /** Largest RMS change the search found, in across-image SDs. */
  worst: number;
}

/** Settings of {@link measureSensitivity}. */
export interface SensitivityOptions {
  /** Radii (default 2/255 and 8/255). */
  epsilons?: number[];
  /** Square Attack steps per image and radius (default 100). */
  queries?: number;
}

/** Defaults of {@link measureSensitivity}. */
export const SENSITIVITY_DEFAULTS: Required<SensitivityOptions> = {
  epsilons: [2 / 255, 8 / 255],
  queries: 100,
};

/**
 * Measures ROI `roi`'s sensitivity on `images`: N×3×32×32 CHW pixels in [0, 1] (images already on the
 * feature grid, e.g. area-averaged stimuli). Deterministic given `rng`.
 */
export function measureSensitivity(
  brain: SimulatedBrain,
  roi: RoiName,
  images: Float32Array,
  rng: Random,
  options: SensitivityOptions = {},
): Sensitivity[] {
  const { epsilons, queries } = { ...SENSITIVITY_DEFAULTS, ...options };
  const g = FEATURE_GRID, plane = g * g, D = 3 * plane;
  if (images.length % D !== 0) throw new RangeError(`images: ${images.length} values is not N×3×${g}×${g}`);
  const N = images.length / D;
  const response = responder(brain, simulatedRoiVoxels(brain, roi));
  const perturbed = new Float32Array(D);
  /** Mean squared response change over voxels for x + δ (clipped to [0, 1]). */
  const change = (x: Float32Array, base: Float32Array, delta: Float32Array) => {
    for (let i = 0; i < D; i++) perturbed[i] = Math.min(1, Math.max(0, x[i] + delta[i]));
    const r = response(perturbed, g);
    let s = 0;
    for (let v = 0; v < r.length; v++) s += (r[v] - base[v]) ** 2;
    return s / Math.max(1, r.length);
  };
  const sign = () => (rng.chance(0.5) ? 1 : -1);
  return epsilons.map((eps) => {
    let randomSum = 0, worstSum = 0;
    for (let n = 0; n < N; n++) {
      const x = images.subarray(n * D, (n + 1) * D), base = response(x, g);
      randomSum += change(x, base, Float32Array.from({ length: D }, () => sign() * eps));
      const delta = new Float32Array(D);
      for (let c = 0; c < 3; c++) {
        for (let col = 0; col < g; col++) {
          const value = sign() * eps;
          for (let y = 0; y < g; y++) delta[c * plane + y * g + col] = value;
        }
      }
      let worst = change(x, base, delta);
      const candidate = new Float32Array(D);
      for (let q = 0; q < queries; q++) {
        const fraction = 0.1 / 2 ** [10, 50, 200].filter((t) => q >= t).length;
        const side = Math.max(1, Math.min(g - 1, Math.round(Math.sqrt(fraction * plane))));
        const top = rng.int(g - side + 1), left = rng.int(g - side + 1);
        candidate.set(delta);
        for (let c = 0; c < 3; c++) {
          const value = sign() * eps;
          for (let y = top; y < top + side; y++) {
            candidate.fill(value, c * plane + y * g + left, c * plane + y * g + left + side);
          }
        }
        const loss = change(x, base, candidate);
        if (loss > worst) worst = loss, delta.set(candidate);
      }
      worstSum += worst;
    }
    return { eps, random: Math.sqrt(randomSum / N), worst: Math.sqrt(worstSum / N) };
  });
}

/** CHW images of side `size` resampled onto the 32-px feature grid (see `resampleToGrid`). */
export function pixelsOnGrid(pixels: Float32Array, size: number): Float32Array {
  const D = 3 * FEATURE_GRID * FEATURE_GRID, plane = 3 * size * size, N = pixels.length / plane;
  const out = new Float32Array(N * D);
  for (let n = 0; n < N; n++) out.set(resampleToGrid(pixels, size, n * plane), n * D);
  return out;
}
