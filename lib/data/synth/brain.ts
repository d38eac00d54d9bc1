/**
 * The simulated brain: an ellipsoidal voxel grid whose posterior cortical shell carries the Kastner2015 (Wang
 * 2015) visual areas in their usual posterior→anterior order, and a voxel response model in which each area
 * reads one stage of `features.ts`. Single-trial betas are signal + trial noise + session offset, with
 * per-voxel signal-to-noise drawn so NSD-style noise ceilings match the subj01 table of
 * `docs/method.md#noise-ceiling`.
 * @module
 */
import { CHANNELS, type ImageFeatures, RF_GRIDS, SHAPE_GRID } from "./features.ts";
import type { Random } from "../../random.ts";
import { ROI_LABELS, type RoiName } from "../nsd/roi.ts";

/**
 * Target noise ceiling (percent, mean and SD over voxels) per group of labels. The method's ROIs use the
 * subj01 values of `docs/method.md#noise-ceiling`; the rest are lower, as for voxels outside the
 * stimulus-driven areas.
 */
export const NC_TARGETS: Record<string, { mean: number; sd: number }> = {
  V1: { mean: 31.06, sd: 24.01 },
  V2: { mean: 29.94, sd: 23.86 },
  V3: { mean: 28, sd: 20 },
  V4: { mean: 31.82, sd: 18.78 },
  LO: { mean: 29.33, sd: 14.95 },
  TO: { mean: 43.04, sd: 20.41 },
  VO: { mean: 31.59, sd: 15.55 },
  PHC: { mean: 30.04, sd: 17.22 },
  dorsal: { mean: 15, sd: 12 },
  other: { mean: 5, sd: 5 },
};

/**
 * Which feature stage drives each label group and, for the object stages, how much of the drive is shape
 * (`shapeWeight`; the remainder reads the named extra: position/size, surface colour or scene layout).
 */
export const STAGES: Record<
  string,
  { stage: "v1" | "v2" | "v4" | "object"; shapeWeight?: number; extra?: "place" | "surface" | "scene" }
> = {
  V1: { stage: "v1" },
  V2: { stage: "v2" },
  V3: { stage: "v2" },
  V4: { stage: "v4" },
  LO: { stage: "object", shapeWeight: 0.8, extra: "place" },
  TO: { stage: "object", shapeWeight: 0.95, extra: "place" },
  VO: { stage: "object", shapeWeight: 0.75, extra: "surface" },
  PHC: { stage: "object", shapeWeight: 0.55, extra: "scene" },
  dorsal: { stage: "v2" },
  other: { stage: "v4" },
};

/** Pooled energy at which V1/V2 divisive normalisation is half-saturated (typical textured RF: ≈0.5–2). */
const EARLY_SEMI_SATURATION = 0.2;

/** Label group of a Kastner code (keys of {@link NC_TARGETS} / {@link STAGES}). */
function groupOf(label: number): string {
  for (const [roi, labels] of Object.entries(ROI_LABELS)) {
    if ((labels as readonly number[]).includes(label)) return roi;
  }
  if (label === 5 || label === 6) return "V3";
  if (label >= 16 && label <= 24) return "dorsal";
  return "other";
}

/** The label volumes of one subject, x fastest; −1 marks voxels outside the brain mask. */
export interface Atlas {
  dims: [number, number, number];
  brain: Uint8Array;
  kastner: Int16Array;
  nsdgeneral: Float32Array;
  prf: Int16Array;
  streams: Int16Array;
}

/** Posterior→anterior bands (fraction of the brain's length) of each label, per cortical sector. */
const BANDS: {
  sector: "any" | "ventral" | "lateral" | "dorsal";
  from: number;
  to: number;
  label: number;
  dorsalLabel?: number;
}[] = [
  { sector: "any", from: 0, to: 0.16, label: 1, dorsalLabel: 2 },
  { sector: "any", from: 0.16, to: 0.24, label: 3, dorsalLabel: 4 },
  { sector: "any", from: 0.24, to: 0.31, label: 5, dorsalLabel: 6 },
  { sector: "ventral", from: 0.31, to: 0.41, label: 7 },
  { sector: "ventral", from: 0.41, to: 0.47, label: 8 },
  { sector: "ventral", from: 0.47, to: 0.53, label: 9 },
  { sector: "ventral", from: 0.53, to: 0.59, label: 10 },
  { sector: "ventral", from: 0.59, to: 0.66, label: 11 },
  { sector: "lateral", from: 0.31, to: 0.38, label: 15 },
  { sector: "lateral", from: 0.38, to: 0.45, label: 14 },
  { sector: "lateral", from: 0.45, to: 0.53, label: 13 },
  { sector: "lateral", from: 0.53, to: 0.61, label: 12 },
  { sector: "dorsal", from: 0.31, to: 0.37, label: 17 },
  { sector: "dorsal", from: 0.37, to: 0.42, label: 16 },
  ...[18, 19, 20, 21, 22, 23, 24].map((label, i) => ({
    sector: "dorsal" as const,
    from: 0.42 + 0.05 * i,
    to: 0.47 + 0.05 * i,
    label,
  })),
  { sector: "dorsal", from: 0.85, to: 0.93, label: 25 },
];

/** Cortex is the outer shell of the ellipsoid: normalised radius ≥ this. */
const CORTEX_INNER = 0.45;

/**
 * Builds the label volumes on a `dims` grid. The layout is fixed by `dims`; only the nsdgeneral border (a few
 * visual voxels left out, some unlabelled ones let in) depends on `rng`, as it differs between subjects.
 */
export function buildAtlas(dims: [number, number, number], rng: Random): Atlas {
  const [X, Y, Z] = dims, n = X * Y * Z;
  const brain = new Uint8Array(n), nsdgeneral = new Float32Array(n);
  const kastner = new Int16Array(n), prf = new Int16Array(n), streams = new Int16Array(n);
  for (let z = 0; z < Z; z++) {
    for (let y = 0; y < Y; y++) {
      for (let x = 0; x < X; x++) {
        const i = x + X * (y + Y * z);
        const nx = (x - (X - 1) / 2) / (X / 2), ny = (y - (Y - 1) / 2) / (Y / 2);
        const nz = (z - (Z - 1) / 2) / (Z / 2);
        const rho = Math.hypot(nx, ny, nz);
        if (rho > 1) {
          for (const volume of [kastner, prf, streams, nsdgeneral]) volume[i] = -1;
          continue;
        }
        brain[i] = 1;
        const label = rho >= CORTEX_INNER ? corticalLabel((ny + 1) / 2, nx, nz) : 0;
        kastner[i] = label;
        prf[i] = label >= 1 && label <= 7 ? label : 0;
        streams[i] = streamOf(label);
        // nsdgeneral: the visual areas minus a ragged 3 % border, plus a quarter of the unlabelled posterior
        // cortex, so "label ∈ ROI" and "nsdgeneral == 1" really are different tests.
        const visual = label >= 1 && label <= 17;
        const posteriorUnlabelled = label === 0 && rho >= CORTEX_INNER && ny < 0.2;
        if (visual) nsdgeneral[i] = rng.chance(0.03) ? 0 : 1;
        else if (posteriorUnlabelled) nsdgeneral[i] = rng.chance(0.25) ? 1 : 0;
      }
    }
  }
  return { dims, brain, kastner, nsdgeneral, prf, streams };
}

function corticalLabel(along: number, nx: number, nz: number): number {
  const angle = (Math.atan2(nz, Math.abs(nx)) * 180) / Math.PI;
  const sector = angle < -35 ? "ventral" : angle > 35 ? "dorsal" : "lateral";
  for (const band of BANDS) {
    if (along < band.from || along >= band.to) continue;
    if (band.sector === "any") return nz >= 0 && band.dorsalLabel ? band.dorsalLabel : band.label;
    if (band.sector === sector) return band.label;
  }
  return 0;
}

function streamOf(label: number): number {
  if (label >= 1 && label <= 6) return 1; // early
  if (label === 7) return 2; // midventral
  if (label === 15) return 3; // midlateral
  if (label === 16 || label === 17) return 4; // midparietal
  if (label >= 8 && label <= 11) return 5; // ventral
  if (label >= 12 && label <= 14) return 6; // lateral
  if (label >= 18 && label <= 24) return 7; // parietal
  return 0;
}

/**
 * Flat grid indices (ascending) of each method ROI: label ∈ ROI and nsdgeneral == 1, as `docs/method.md#rois`
 * defines membership.
 */
export function roiVoxels(atlas: Atlas): Map<RoiName, number[]> {
  const out = new Map<RoiName, number[]>();
  for (const [roi, labels] of Object.entries(ROI_LABELS) as [RoiName, readonly number[]][]) {
    const members: number[] = [];
    atlas.kastner.forEach((l, i) => {
      if (labels.includes(l) && atlas.nsdgeneral[i] === 1) members.push(i);
    });
    out.set(roi, members);
  }
  return out;
}

/** Noise-model constants shared by every subject (recorded in the manifest). */
export const NOISE_MODEL = {
  /** Fraction of each voxel's trial-noise variance shared by all voxels on that trial (a global signal). */
  sharedNoise: 0.2,
  /** SD of the per-session, per-voxel offset, in units of the voxel's response SD. */
  sessionOffsetSd: 0.3,
  /** Range of the per-voxel response SD, in % signal change. */
  amplitudePct: [0.8, 2.5] as [number, number],
  /** NSD's int16 scale: stored value = % signal change × 300. */
  scale: 300,
} as const;

/** One subject's voxel model: in-brain voxel indices, their standardised image responses and noise terms. */
export interface SubjectModel {
  /** Flat grid indices of the in-brain voxels (the only voxels with non-zero betas). */
  voxels: Int32Array;
  /** [image][voxel] responses, z-scored over the subject's images. */
  signal: Float32Array;
  /** Per voxel: signal SD, noise SD (they sum to unit variance) and amplitude (% signal change). */
  signalSd: Float32Array;
  noiseSd: Float32Array;
  amplitude: Float32Array;
}

/**
 * Draws each in-brain voxel's tuning and signal-to-noise and evaluates its response to `images` (features of
 * the subject's images, in subject order).
 */
export function buildSubjectModel(atlas: Atlas, images: ImageFeatures[], rng: Random): SubjectModel {
  const [X, Y] = atlas.dims;
  const voxels = Int32Array.from(Array.from(atlas.brain).flatMap((b, i) => (b ? [i] : [])));
  const V = voxels.length, N = images.length;
  const signal = new Float32Array(N * V);
  const signalSd = new Float32Array(V), noiseSd = new Float32Array(V), amplitude = new Float32Array(V);
  const z = standardisedObjectFeatures(images);
  const v4z = standardise(images.map((f) => f.v4), CHANNELS.v4);
  const bounds = labelBounds(atlas);
  const response = new Float64Array(N);
  for (let v = 0; v < V; v++) {
    const i = voxels[v], label = atlas.kastner[i];
    const group = groupOf(label);
    const vr = rng.fork("voxel", i);
    const { stage, shapeWeight = 1, extra } = STAGES[group];
    const coords = [i % X, Math.floor(i / X) % Y, Math.floor(i / (X * Y))] as const;
    if (stage === "object") {
      const ws = gaussianWeights(vr, SHAPE_GRID * SHAPE_GRID, shapeWeight);
      const we = gaussianWeights(vr, z[extra!][0].length, Math.sqrt(1 - shapeWeight * shapeWeight));
      const bias = vr.normal() * 0.5;
      for (let n = 0; n < N; n++) {
        response[n] = softplus(2 * (dot(ws, z.shape[n]) + dot(we, z[extra!][n])) + bias);
      }
    } else {
      const grid = RF_GRIDS[stage], channels = CHANNELS[stage];
      const pos = retinotopicPosition(coords, bounds.get(label) ?? bounds.get(-1)!, grid.n, X, vr);
      if (stage === "v1") {
        // An orientation-tuned complex cell: von Mises weights over the 4 orientation channels, divisively
        // normalised by the pooled energy (Heeger 1992), so orientation content matters more than contrast.
        const preferred = vr.uniform(0, Math.PI);
        const w = [0, 1, 2, 3].map((o) => Math.exp(2 * Math.cos(2 * ((o * Math.PI) / 4 - preferred))));
        for (let n = 0; n < N; n++) {
          const f = images[n].v1, o = pos * channels;
          response[n] = dot(w, f, o) / (EARLY_SEMI_SATURATION + f[o] + f[o + 1] + f[o + 2] + f[o + 3]);
        }
      } else if (stage === "v2") {
        // Sparse positive mixture of energies and conjunctions, normalised like V1 by the pooled energy of
        // both scales (the first 8 channels), then compressed.
        const w = Array.from({ length: channels }, () => vr.gamma(0.5));
        for (let n = 0; n < N; n++) {
          const f = images[n].v2, o = pos * channels;
          let pooled = EARLY_SEMI_SATURATION;
          for (let k = 0; k < 8; k++) pooled += f[o + k];
          response[n] = Math.sqrt(dot(w, f, o) / pooled);
        }
      } else {
        const w = gaussianWeights(vr, channels, 1);
        const bias = vr.normal() * 0.5;
        for (let n = 0; n < N; n++) response[n] = softplus(2 * dot(w, v4z[n], pos * channels) + bias);
      }
    }
    zscoreInto(response, signal, v, V);
    // Noise ceiling drawn from a Beta with the group's mean and SD; NC = 100·x/(x + 1/3) with x = ncsnr²,
    // so x = NC/(3(100 − NC)), and signal + noise variance = 1.
    const { mean, sd } = NC_TARGETS[group];
    const nc = 100 * Math.min(0.97, Math.max(0.002, betaWithMoments(vr, mean / 100, sd / 100)));
    const x = nc / (3 * (100 - nc));
    signalSd[v] = Math.sqrt(x / (1 + x));
    noiseSd[v] = Math.sqrt(1 / (1 + x));
    amplitude[v] = vr.uniform(...NOISE_MODEL.amplitudePct);
  }
  return { voxels, signal, signalSd, noiseSd, amplitude };
}

/**
 * Single-trial betas of one session, NSD int16 (% signal change × 300), laid out [trial][z][y][x] — the byte
 * order of both the HDF5 `/betas` dataset (row-major [T, Z, Y, X]) and a NIfTI X×Y×Z×T volume.
 * `trialImages` holds the subject image index (0-based) of each trial in the session.
 */
export function sessionBetas(
  model: SubjectModel,
  gridSize: number,
  trialImages: ArrayLike<number>,
  rng: Random,
): Int16Array {
  const V = model.voxels.length, T = trialImages.length;
  const out = new Int16Array(T * gridSize);
  const offsets = Float32Array.from({ length: V }, () => rng.normal() * NOISE_MODEL.sessionOffsetSd);
  const own = Math.sqrt(1 - NOISE_MODEL.sharedNoise), shared = Math.sqrt(NOISE_MODEL.sharedNoise);
  for (let t = 0; t < T; t++) {
    const row = trialImages[t] * V, global = rng.normal() * shared;
    for (let v = 0; v < V; v++) {
      const value = model.signalSd[v] * model.signal[row + v] +
        model.noiseSd[v] * (own * rng.normal() + global) + offsets[v];
      const scaled = Math.round(NOISE_MODEL.scale * model.amplitude[v] * value);
      out[t * gridSize + model.voxels[v]] = Math.max(-32768, Math.min(32767, scaled));
    }
  }
  return out;
}

/**
 * The NSD noise ceiling of `docs/method.md#noise-ceiling` for each voxel: z-score within each session, keep
 * images with exactly 3 trials, σ²_noise = mean across-repeat variance (ddof 1), NC = 100·ncsnr²/(ncsnr² +
 * 1/3). `betas[s]` is session s's [trial][voxel] data for the voxels of interest; `images[s]` its trials'
 * images.
 */
export function noiseCeiling(
  betas: Float32Array[],
  images: ArrayLike<number>[],
  voxelCount: number,
): Float32Array {
  const V = voxelCount;
  const z = betas.map((b) => {
    const T = b.length / V, out = new Float32Array(b.length);
    for (let v = 0; v < V; v++) {
      let m = 0, s = 0;
      for (let t = 0; t < T; t++) m += b[t * V + v];
      m /= T;
      for (let t = 0; t < T; t++) s += (b[t * V + v] - m) ** 2;
      const sd = Math.sqrt(s / T);
      for (let t = 0; t < T; t++) out[t * V + v] = sd > 0 ? (b[t * V + v] - m) / sd : 0;
    }
    return out;
  });
  const trialsOf = new Map<number, Float32Array[]>();
  z.forEach((zs, s) => {
    for (let t = 0; t < images[s].length; t++) {
      const list = trialsOf.get(images[s][t]) ?? [];
      list.push(zs.subarray(t * V, (t + 1) * V));
      trialsOf.set(images[s][t], list);
    }
  });
  const triplets = [...trialsOf.values()].filter((l) => l.length === 3);
  const nc = new Float32Array(V);
  for (let v = 0; v < V; v++) {
    let noise = 0;
    for (const [a, b, c] of triplets) {
      const m = (a[v] + b[v] + c[v]) / 3;
      noise += ((a[v] - m) ** 2 + (b[v] - m) ** 2 + (c[v] - m) ** 2) / 2;
    }
    noise /= triplets.length;
    const ncsnr2 = noise > 0 ? Math.max(1 - noise, 0) / noise : 0;
    nc[v] = (100 * ncsnr2) / (ncsnr2 + 1 / 3);
  }
  return nc;
}

/** Per-dimension z-scores (over images) of the object stage's inputs. */
function standardisedObjectFeatures(images: ImageFeatures[]) {
  return {
    shape: standardise(images.map((f) => f.shape), SHAPE_GRID * SHAPE_GRID),
    place: standardise(images.map((f) => f.place), 3),
    surface: standardise(images.map((f) => f.surface), 3),
    scene: standardise(images.map((f) => f.scene), 4),
  };
}

/** z-scores each of the `period` interleaved channels over all images and positions (SD floor 1e-6). */
function standardise(rows: Float32Array[], period: number): Float32Array[] {
  const mean = new Float64Array(period), sq = new Float64Array(period);
  let count = 0;
  for (const r of rows) {
    for (let i = 0; i < r.length; i++) {
      mean[i % period] += r[i];
      sq[i % period] += r[i] * r[i];
    }
    count += r.length / period;
  }
  const sd = new Float64Array(period);
  for (let k = 0; k < period; k++) {
    mean[k] /= count;
    sd[k] = Math.sqrt(Math.max(0, sq[k] / count - mean[k] ** 2)) + 1e-6;
  }
  return rows.map((r) => r.map((x, i) => (x - mean[i % period]) / sd[i % period]));
}

function zscoreInto(response: Float64Array, signal: Float32Array, v: number, V: number): void {
  const N = response.length;
  let m = 0, s = 0;
  for (let n = 0; n < N; n++) m += response[n];
  m /= N;
  for (let n = 0; n < N; n++) s += (response[n] - m) ** 2;
  const sd = Math.sqrt(s / N);
  for (let n = 0; n < N; n++) signal[n * V + v] = sd > 1e-9 ? (response[n] - m) / sd : 0;
}

function gaussianWeights(rng: Random, n: number, norm: number): Float64Array {
  return Float64Array.from({ length: n }, () => (rng.normal() * norm) / Math.sqrt(n));
}

/** Σ a[i]·b[offset + i] over a's length. */
function dot(a: ArrayLike<number>, b: ArrayLike<number>, offset = 0): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[offset + i];
  return s;
}

function softplus(x: number): number {
  return x > 20 ? x : Math.log1p(Math.exp(x));
}

/** Beta deviate with mean m and SD s (method of moments). */
function betaWithMoments(rng: Random, m: number, s: number): number {
  const k = (m * (1 - m)) / (s * s) - 1;
  return rng.beta(m * k, (1 - m) * k);
}

/** Bounding box of each label's voxels (key −1: the whole grid), for retinotopic ranks. */
function labelBounds(atlas: Atlas): Map<number, { min: number[]; max: number[] }> {
  const [X, Y] = atlas.dims;
  const bounds = new Map<number, { min: number[]; max: number[] }>();
  atlas.kastner.forEach((label, i) => {
    const c = [i % X, Math.floor(i / X) % Y, Math.floor(i / (X * Y))];
    for (const key of [label, -1]) {
      const b = bounds.get(key) ?? { min: [...c], max: [...c] };
      c.forEach((v, d) => {
        b.min[d] = Math.min(b.min[d], v), b.max[d] = Math.max(b.max[d], v);
      });
      bounds.set(key, b);
    }
  });
  return bounds;
}

/**
 * A coarse retinotopic map: each hemisphere sees the contralateral hemifield, posterior voxels of an area map
 * the fovea and anterior ones the periphery, dorsal voxels the lower field; ±1 cell of scatter.
 */
function retinotopicPosition(
  [x, y, z]: readonly [number, number, number],
  { min, max }: { min: number[]; max: number[] },
  n: number,
  X: number,
  rng: Random,
): number {
  const rank = (v: number, d: number) => (v - min[d]) / (max[d] - min[d] + 1);
  const half = n / 2;
  const ecc = Math.min(half - 1, Math.floor(rank(y, 1) * half));
  const leftHemisphere = x < (X - 1) / 2;
  let col = leftHemisphere ? half + ecc : half - 1 - ecc;
  let row = n - 1 - Math.floor(rank(z, 2) * n);
  col = Math.min(n - 1, Math.max(0, col + rng.int(3) - 1));
  row = Math.min(n - 1, Math.max(0, row + rng.int(3) - 1));
  return row * n + col;
}
