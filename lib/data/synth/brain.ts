/**
 * The simulated brain: an ellipsoidal voxel grid whose posterior cortical shell carries the Kastner2015
 * (Wang 2015) visual areas in their usual posterior→anterior order, and a voxel response model in which each
 * area reads one stage of `features.ts`. Single-trial betas are signal + trial noise + session offset, with
 * per-voxel signal-to-noise drawn so NSD-style noise ceilings match NSD subj01's per-ROI values
 * (`docs/method.md#noise-ceiling`).
 * @module
 */
import {
  CHANNELS,
  EXTRAS,
  type GridImage,
  type Knobs,
  RF_GRIDS,
  ROI_KNOBS,
  SHAPE_GRID,
  stageFeatures,
  type StageRoi,
  toGrid,
} from "./features.ts";
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
 * Which stage of `features.ts` drives each label group (V3 and the dorsal areas read V2's, unlabelled brain
 * voxels V4's) and, for the object stages, how much of the drive is the silhouette (`shapeWeight`; the rest
 * reads the stage's extras: position/size, surface or scene layout).
 */
export const STAGES: Record<string, { stage: StageRoi; shapeWeight?: number }> = {
  V1: { stage: "V1" },
  V2: { stage: "V2" },
  V3: { stage: "V2" },
  V4: { stage: "V4" },
  LO: { stage: "LO", shapeWeight: 0.8 },
  TO: { stage: "TO", shapeWeight: 0.95 },
  VO: { stage: "VO", shapeWeight: 0.75 },
  PHC: { stage: "PHC", shapeWeight: 0.55 },
  dorsal: { stage: "V2" },
  other: { stage: "V4" },
};

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

/** How one voxel reads its stage's features (all weights drawn once per voxel from the subject's seed). */
export type VoxelTuning =
  /** V1: von Mises orientation weights over the 4 normalised energies of RF `pos`. */
  | { kind: "orientation"; stage: "V1"; pos: number; weights: Float64Array }
  /** V2: √(sparse positive mixture of the normalised channels of RF `pos`). */
  | { kind: "mixture"; stage: "V2"; pos: number; weights: Float64Array }
  /** V4: softplus(2·w·z + bias) of the standardised texture statistics of RF `pos`. */
  | { kind: "projection"; stage: "V4"; pos: number; weights: Float64Array; bias: number }
  /** Object stages: softplus(2·w·z + bias) of the standardised silhouette and extras. */
  | { kind: "projection"; stage: "VO" | "PHC" | "LO" | "TO"; pos: -1; weights: Float64Array; bias: number };

/** Per-feature mean and SD (over the subject's images) used to standardise a stage before projection. */
export interface FeatureStats {
  /** Channels per position: statistics are pooled over positions (retinotopic) or per dimension (object). */
  period: number;
  mean: number[];
  sd: number[];
}

/**
 * One subject's simulated brain: every in-brain voxel's tuning, the statistics that z-score its response
 * over the subject's images, and its noise terms. Everything but the statistics follows from the atlas and
 * the subject's seed; the statistics are stored with the world (see `loadSimulatedBrain` in `world.ts`).
 */
export interface SimulatedBrain {
  atlas: Atlas;
  /** Flat grid indices of the in-brain voxels (the only voxels with non-zero betas), ascending. */
  voxels: Int32Array;
  tuning: VoxelTuning[];
  /** Each stage's pre-blur and semi-saturation ({@link ROI_KNOBS} unless built with others). */
  knobs: Record<StageRoi, Knobs>;
  /** Standardisation of the V4 and object stages' features. */
  featureStats: Partial<Record<StageRoi, FeatureStats>>;
  /**
   * Per voxel: raw-response mean over the subject's images, and the divisor that standardises it: the SD
   * over those images, floored at a quarter of the label group's median SD.
   */
  responseMean: Float64Array;
  responseScale: Float64Array;
  /** Per voxel: signal SD and noise SD of a single trial (they sum to unit variance) and amplitude (% signal). */
  signalSd: Float32Array;
  noiseSd: Float32Array;
  amplitude: Float32Array;
}

/** The statistics a {@link SimulatedBrain} is rebuilt from (JSON-serialisable; written with the world). */
export interface BrainStatistics {
  knobs: Record<StageRoi, Knobs>;
  featureStats: Partial<Record<StageRoi, FeatureStats>>;
  responseMean: number[];
  responseScale: number[];
}

/** Floor of a voxel's response divisor, as a fraction of its label group's median response SD. */
const RESPONSE_SD_FLOOR = 0.25;

/** A brain and its z-scored responses ([image][voxel]) to the images it was built from. */
export interface BuiltBrain {
  brain: SimulatedBrain;
  signal: Float32Array;
}

/**
 * Draws each in-brain voxel's tuning and signal-to-noise and evaluates its response to `grids` (the
 * subject's images on the feature grid, `toGrid`, in subject order); the feature and response statistics are
 * taken over these images. `knobs` overrides {@link ROI_KNOBS} (for experiments and tests).
 */
export function buildSimulatedBrain(
  atlas: Atlas,
  grids: GridImage[],
  rng: Random,
  knobs: Record<StageRoi, Knobs> = { ...ROI_KNOBS },
): BuiltBrain {
  const drawn = drawVoxels(atlas, rng);
  const features = new Map<StageRoi, Float32Array[]>();
  const featureStats: Partial<Record<StageRoi, FeatureStats>> = {};
  for (const stage of new Set(drawn.tuning.map((t) => t.stage))) {
    const rows = grids.map((grid) => stageFeatures(stage, grid, knobs[stage]));
    features.set(stage, rows);
    if (stage === "V4") featureStats[stage] = statistics(rows, CHANNELS.V4, () => 0);
    // The silhouette's cells share one mean and SD, so cells that are almost always background (corners of
    // the frame) are not blown up into noise amplifiers; each extra has its own.
    else if (stage !== "V1" && stage !== "V2") {
      const cells = SHAPE_GRID * SHAPE_GRID;
      featureStats[stage] = statistics(rows, rows[0].length, (k) => (k < cells ? 0 : k - cells + 1));
    }
  }
  const V = drawn.voxels.length, N = grids.length;
  const brain: SimulatedBrain = {
    ...drawn,
    knobs,
    featureStats,
    responseMean: new Float64Array(V),
    responseScale: new Float64Array(V),
  };
  const signal = new Float32Array(N * V), response = new Float64Array(N);
  const scratch = new Float64Array(maxFeatureLength(brain));
  const sd = new Float64Array(V);
  for (let v = 0; v < V; v++) {
    const tuning = brain.tuning[v], rows = features.get(tuning.stage)!;
    for (let n = 0; n < N; n++) response[n] = rawResponse(brain, tuning, rows[n], scratch);
    let m = 0, s = 0;
    for (let n = 0; n < N; n++) m += response[n];
    m /= N;
    for (let n = 0; n < N; n++) s += (response[n] - m) ** 2;
    sd[v] = Math.sqrt(s / N);
    brain.responseMean[v] = m;
    for (let n = 0; n < N; n++) signal[n * V + v] = response[n] - m;
  }
  // A voxel whose receptive field rarely sees anything (an early voxel in the image corner) has a tiny SD;
  // dividing by it would turn that voxel into an amplifier of pixel noise. Each voxel is divided by its SD
  // or a quarter of its label group's median SD, whichever is larger (its signal variance is then below 1).
  const groups = Array.from(drawn.voxels, (i) => groupOf(drawn.atlas.kastner[i]));
  const median = new Map<string, number>();
  for (const group of new Set(groups)) {
    const list = Array.from(sd).filter((_, v) => groups[v] === group).sort((a, b) => a - b);
    median.set(group, list[Math.floor(list.length / 2)]);
  }
  for (let v = 0; v < V; v++) {
    brain.responseScale[v] = Math.max(sd[v], RESPONSE_SD_FLOOR * median.get(groups[v])!);
    const gain = brain.responseScale[v] > 1e-9 ? 1 / brain.responseScale[v] : 0;
    for (let n = 0; n < N; n++) signal[n * V + v] *= gain;
  }
  return { brain, signal };
}

/** Rebuilds the brain {@link buildSimulatedBrain} made with the same atlas and `rng`, from its statistics. */
export function restoreSimulatedBrain(atlas: Atlas, rng: Random, stats: BrainStatistics): SimulatedBrain {
  const drawn = drawVoxels(atlas, rng);
  if (stats.responseMean.length !== drawn.voxels.length) {
    throw new RangeError(
      `brain statistics hold ${stats.responseMean.length} voxels, the atlas ${drawn.voxels.length}`,
    );
  }
  return {
    ...drawn,
    knobs: stats.knobs,
    featureStats: stats.featureStats,
    responseMean: Float64Array.from(stats.responseMean),
    responseScale: Float64Array.from(stats.responseScale),
  };
}

/** The statistics of `brain` as plain JSON data (what {@link restoreSimulatedBrain} needs). */
export function brainStatistics(brain: SimulatedBrain): BrainStatistics {
  return {
    knobs: brain.knobs,
    featureStats: brain.featureStats,
    responseMean: Array.from(brain.responseMean),
    responseScale: Array.from(brain.responseScale),
  };
}

/** Flat grid indices (ascending, as `loadRoi` orders them) of ROI `roi`'s voxels in `brain`. */
export function simulatedRoiVoxels(brain: SimulatedBrain, roi: RoiName): Int32Array {
  return Int32Array.from(roiVoxels(brain.atlas).get(roi)!);
}

/** Units of {@link simulatedResponses}. */
export type ResponseUnits = "signal" | "beta";

/**
 * The simulated brain's noise-free response of ROI `roi` to a batch of images — the function the world's
 * betas are sampled around, usable as an oracle teacher. Deterministic and image-computable: it reads only the
 * pixels.
 *
 * @param brain a subject's brain (`loadSimulatedBrain(worldDir, subject)` rebuilds it from a world folder).
 * @param roi one of the method's ROIs; voxels are label ∈ ROI and nsdgeneral == 1, in ascending flat grid
 *   index (the native order of `loadRoi` and of `simulatedRoiVoxels`).
 * @param pixels N×3×size×size float32 (CHW per image, RGB in [0, 1]); any size (resampled to the 32-px grid).
 * @param units "signal" (default): each voxel z-scored over the subject's world images (SD 1 across images);
 *   "beta": the expected repeat-averaged beta in % signal change above the voxel's baseline, signal ×
 *   signalSd × amplitude — the units of a prepared ROI file before its z-score.
 * @returns N×V float32, row-major (image, voxel).
 *
 * @example
 * ```ts
 * import { Random } from "../../random.ts";
 * import { renderScene, rgbToPixels, sampleScene, toGrid } from "./mod.ts";
 * // A small brain (10×12×10 grid) built from 4 rendered 32-px scenes (shape i, texture i).
 * const rng = new Random("example"), size = 32;
 * const scenes = [0, 1, 2, 3].map((i) => sampleScene(rng.fork("scene", i), i, i));
 * const images = scenes.map((scene) => rgbToPixels(renderScene(scene, size).rgb, size));
 * const atlas = buildAtlas([10, 12, 10], rng.fork("atlas"));
 * const { brain } = buildSimulatedBrain(atlas, images.map((p) => toGrid(p, size)), rng.fork("brain"));
 * const pixels = new Float32Array(4 * 3 * size * size);
 * images.forEach((p, i) => pixels.set(p, i * p.length));
 * const to = simulatedResponses(brain, "TO", pixels, size); // 4 × V, row-major
 * // "signal" z-scores each voxel over the images the brain was built from: its mean over them is 0
 * const V = to.length / 4;
 * const means = Array.from({ length: V }, (_, v) => (to[v] + to[V + v] + to[2 * V + v] + to[3 * V + v]) / 4);
 * console.log(V, Math.max(...means.map(Math.abs)) < 1e-6); // 48 true
 * ```
 */
export function simulatedResponses(
  brain: SimulatedBrain,
  roi: RoiName,
  pixels: Float32Array,
  size: number,
  units: ResponseUnits = "signal",
): Float32Array {
  return voxelResponses(brain, simulatedRoiVoxels(brain, roi), pixels, size, units);
}

/** {@link simulatedResponses} for any voxels of the brain, given by flat grid index (in the order given). */
export function voxelResponses(
  brain: SimulatedBrain,
  flatIndices: Int32Array,
  pixels: Float32Array,
  size: number,
  units: ResponseUnits = "signal",
): Float32Array {
  const plane = 3 * size * size;
  if (pixels.length % plane !== 0) {
    throw new RangeError(`pixels: ${pixels.length} values is not a whole number of 3×${size}×${size} images`);
  }
  const N = pixels.length / plane, respond = responder(brain, flatIndices, units);
  const out = new Float32Array(N * flatIndices.length);
  for (let n = 0; n < N; n++) out.set(respond(pixels, size, n * plane), n * flatIndices.length);
  return out;
}

/**
 * The response function of the given voxels with everything that does not depend on the image worked out
 * once: `(pixels, size, offset)` → the voxels' responses to the CHW image at `pixels[offset …]`.
 */
export function responder(
  brain: SimulatedBrain,
  flatIndices: Int32Array,
  units: ResponseUnits = "signal",
): (pixels: Float32Array, size: number, offset?: number) => Float32Array {
  const slots = Array.from(flatIndices, (i) => {
    const slot = binarySearch(brain.voxels, i);
    if (slot < 0) throw new RangeError(`voxel ${i} is outside the simulated brain`);
    return slot;
  });
  const stages = [...new Set(slots.map((v) => brain.tuning[v].stage))];
  const gain = slots.map((v) => {
    const sd = brain.responseScale[v];
    const scale = units === "beta" ? brain.signalSd[v] * brain.amplitude[v] : 1;
    return sd > 1e-9 ? scale / sd : 0;
  });
  const scratch = new Float64Array(maxFeatureLength(brain));
  return (pixels, size, offset = 0) => {
    const grid = toGrid(pixels, size, offset);
    const features = new Map(stages.map((stage) => [stage, stageFeatures(stage, grid, brain.knobs[stage])]));
    const out = new Float32Array(slots.length);
    slots.forEach((v, j) => {
      const tuning = brain.tuning[v];
      const raw = rawResponse(brain, tuning, features.get(tuning.stage)!, scratch);
      out[j] = (raw - brain.responseMean[v]) * gain[j];
    });
    return out;
  };
}

function binarySearch(sorted: Int32Array, value: number): number {
  let lo = 0, hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] === value) return mid;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function maxFeatureLength(brain: SimulatedBrain): number {
  return Math.max(CHANNELS.V4, ...brain.tuning.map((t) => t.weights.length));
}

/** A voxel's response before z-scoring, from its stage's features of one image. */
function rawResponse(brain: SimulatedBrain, t: VoxelTuning, f: Float32Array, z: Float64Array): number {
  if (t.kind === "orientation") return dot(t.weights, f, t.pos * CHANNELS.V1);
  if (t.kind === "mixture") return Math.sqrt(dot(t.weights, f, t.pos * CHANNELS.V2));
  const { period, mean, sd } = brain.featureStats[t.stage]!;
  const offset = t.pos < 0 ? 0 : t.pos * period;
  for (let k = 0; k < t.weights.length; k++) z[k] = (f[offset + k] - mean[k % period]) / sd[k % period];
  return softplus(2 * dot(t.weights, z) + t.bias);
}

/**
 * Mean and SD (floor 1e-6) of each feature position modulo `period`, pooled over all rows and over the
 * positions that `groupOf` puts in one group; returned expanded to one value per position.
 */
function statistics(rows: Float32Array[], period: number, groupOf: (k: number) => number): FeatureStats {
  const groups = Math.max(...Array.from({ length: period }, (_, k) => groupOf(k))) + 1;
  const sum = new Float64Array(groups), sq = new Float64Array(groups), count = new Float64Array(groups);
  for (const r of rows) {
    for (let i = 0; i < r.length; i++) {
      const k = groupOf(i % period);
      sum[k] += r[i], sq[k] += r[i] * r[i], count[k]++;
    }
  }
  const mean = Array.from(sum, (s, k) => s / count[k]);
  const sd = mean.map((m, k) => Math.sqrt(Math.max(0, sq[k] / count[k] - m * m)) + 1e-6);
  return {
    period,
    mean: Array.from({ length: period }, (_, k) => mean[groupOf(k)]),
    sd: Array.from({ length: period }, (_, k) => sd[groupOf(k)]),
  };
}

/** Every in-brain voxel's tuning and noise terms, each from the voxel's own stream of `rng`. */
function drawVoxels(atlas: Atlas, rng: Random) {
  const [X, Y] = atlas.dims;
  const voxels = Int32Array.from(Array.from(atlas.brain).flatMap((b, i) => (b ? [i] : [])));
  const V = voxels.length;
  const signalSd = new Float32Array(V), noiseSd = new Float32Array(V), amplitude = new Float32Array(V);
  const bounds = labelBounds(atlas);
  const tuning: VoxelTuning[] = [];
  for (let v = 0; v < V; v++) {
    const i = voxels[v], label = atlas.kastner[i];
    const group = groupOf(label);
    const vr = rng.fork("voxel", i);
    const { stage, shapeWeight = 1 } = STAGES[group];
    const coords = [i % X, Math.floor(i / X) % Y, Math.floor(i / (X * Y))] as const;
    if (stage === "V1" || stage === "V2" || stage === "V4") {
      const pos = retinotopicPosition(coords, bounds.get(label) ?? bounds.get(-1)!, RF_GRIDS[stage].n, X, vr);
      if (stage === "V1") {
        // An orientation-tuned complex cell: von Mises weights over the 4 orientation channels, read after
        // the divisive normalisation (Heeger 1992), so orientation content matters more than contrast.
        const preferred = vr.uniform(0, Math.PI);
        const weights = Float64Array.from(
          [0, 1, 2, 3],
          (o) => Math.exp(2 * Math.cos(2 * ((o * Math.PI) / 4 - preferred))),
        );
        tuning.push({ kind: "orientation", stage, pos, weights });
      } else if (stage === "V2") {
        const weights = Float64Array.from({ length: CHANNELS.V2 }, () => vr.gamma(0.5));
        tuning.push({ kind: "mixture", stage, pos, weights });
      } else {
        const weights = gaussianWeights(vr, CHANNELS.V4, 1);
        tuning.push({ kind: "projection", stage, pos, weights, bias: vr.normal() * 0.5 });
      }
    } else {
      const shape = SHAPE_GRID * SHAPE_GRID;
      const ws = gaussianWeights(vr, shape, shapeWeight);
      const we = gaussianWeights(vr, EXTRAS[stage], Math.sqrt(1 - shapeWeight * shapeWeight));
      const weights = new Float64Array(shape + EXTRAS[stage]);
      weights.set(ws), weights.set(we, shape);
      tuning.push({ kind: "projection", stage, pos: -1, weights, bias: vr.normal() * 0.5 });
    }
    // Noise ceiling drawn from a Beta with the group's mean and SD; NC = 100·x/(x + 1/3) with x = ncsnr²,
    // so x = NC/(3(100 − NC)), and signal + noise variance = 1.
    const { mean, sd } = NC_TARGETS[group];
    const nc = 100 * Math.min(0.97, Math.max(0.002, betaWithMoments(vr, mean / 100, sd / 100)));
    const x = nc / (3 * (100 - nc));
    signalSd[v] = Math.sqrt(x / (1 + x));
    noiseSd[v] = Math.sqrt(1 / (1 + x));
    amplitude[v] = vr.uniform(...NOISE_MODEL.amplitudePct);
  }
  return { atlas, voxels, tuning, signalSd, noiseSd, amplitude };
}

/**
 * Single-trial betas of one session, NSD int16 (% signal change × 300), laid out [trial][z][y][x] — the byte
 * order of both the HDF5 `/betas` dataset (row-major [T, Z, Y, X]) and a NIfTI X×Y×Z×T volume.
 * `trialImages` holds the subject image index (0-based) of each trial in the session.
 */
export function sessionBetas(
  { brain, signal }: BuiltBrain,
  gridSize: number,
  trialImages: ArrayLike<number>,
  rng: Random,
): Int16Array {
  const V = brain.voxels.length, T = trialImages.length;
  const out = new Int16Array(T * gridSize);
  const offsets = Float32Array.from({ length: V }, () => rng.normal() * NOISE_MODEL.sessionOffsetSd);
  const own = Math.sqrt(1 - NOISE_MODEL.sharedNoise), shared = Math.sqrt(NOISE_MODEL.sharedNoise);
  for (let t = 0; t < T; t++) {
    const row = trialImages[t] * V, global = rng.normal() * shared;
    for (let v = 0; v < V; v++) {
      const value = brain.signalSd[v] * signal[row + v] +
        brain.noiseSd[v] * (own * rng.normal() + global) + offsets[v];
      const scaled = Math.round(NOISE_MODEL.scale * brain.amplitude[v] * value);
      out[t * gridSize + brain.voxels[v]] = Math.max(-32768, Math.min(32767, scaled));
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
