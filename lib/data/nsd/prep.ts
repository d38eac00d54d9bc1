/**
 * Neural-data preparation (`docs/method.md#data-preparation`): ROI betas of the chosen sessions → per-image
 * repeat averages → shared-1000 validation split → per-voxel z-score with training statistics → PCA fitted on
 * training, plus the per-voxel noise ceiling of `docs/method.md#noise-ceiling`. Numerics are float64
 * throughout; betas are held as float32 (they are int16/300, so nothing is lost).
 * @module
 */
import h5wasm from "../../deps/h5wasm.ts";
import { withAtomicPath } from "../../io/atomic.ts";
import {
  type BetaSession,
  type BetaSessionInfo,
  betaSessionInfo,
  listBetaSessions,
  readSessionBetas,
  selectSessions,
} from "./betas.ts";
import { NsdFormatError } from "./errors.ts";
import { type ExpDesign, readExpDesign } from "./expdesign.ts";
import { Random } from "../../random.ts";
import { fitPca, type PcaFit, pcaTransform } from "../../linalg/pca.ts";
import { NSD_FUNC_GRIDS } from "./nifti.ts";
import { DEFAULT_BETAS_VERSION, nsdPaths } from "./paths.ts";
import { loadRoi, referenceVoxelOrder, roiDefinition, type RoiSpec } from "./roi.ts";

/** Added to the SD in the z-score, as the reference code does: (x − μ)/(σ + 1e-6). */
export const ZSCORE_EPSILON = 1e-6;

/** Options of {@link prepareRoi}. */
export interface PrepareOptions {
  /** NSD root: the folder holding `nsddata/`, `nsddata_betas/`, `nsddata_stimuli/`. */
  nsd: string;
  subject: number;
  /** ROI name (see `ROI_DEFINITIONS`) or a user mask. */
  roi: RoiSpec;
  /** Session numbers to use (default: every session present). */
  sessions?: number[];
  /**
   * Components to keep: `{variance: 0.95}` (default), `{k: K}`, `"signal"` (the components that rise above
   * the noise, {@link signalEigenvalueFloor}), or `null` for z-scored voxels without PCA.
   */
  pca?: { variance: number } | { k: number } | "signal" | null;
  /** When set, write the shuffled-pairing control (`docs/method.md#shuffle-control`) with this seed. */
  shuffleSeed?: number;
  /** Beta file format; "auto" prefers HDF5. */
  format?: "auto" | "hdf5" | "nifti";
  /** Design source; "auto" prefers `nsd_expdesign.mat`. */
  design?: "auto" | "mat" | "csv";
  /**
   * Voxel order of per-voxel outputs (`docs/nsd-formats.md#voxel-order`); scores do not depend on it.
   * Default "native".
   */
  voxelOrder?: "native" | "reference";
  betasVersion?: string;
  /** Called after each session is read. */
  onSession?: (done: number, total: number, session: number) => void;
  /** Called when a slow stage after reading starts (for progress messages). */
  onStage?: (stage: string) => void;
}

/** The prepared targets of one subject and ROI. Ids are 0-based 73k ids. */
export interface PreparedRoi {
  subject: number;
  roi: string;
  sessions: number[];
  betasFormat: string;
  designFile: string;
  voxelOrder: "native" | "reference";
  /** [X, Y, Z] of the functional grid. */
  grid: number[];
  /** Flat indices `x + X*(y + Y*z)` of the ROI voxels, in `voxelOrder`. */
  voxelIndex: Int32Array;
  trainIds: Int32Array;
  valIds: Int32Array;
  /** Trials averaged into each image. */
  trainRepeats: Uint8Array;
  valRepeats: Uint8Array;
  /** Scores (nTrain×K, nVal×K), or z-scored voxels when PCA is off. */
  train: Float32Array;
  val: Float32Array;
  /** Columns of `train`/`val`. */
  k: number;
  zscoreMean: Float64Array;
  zscoreStd: Float64Array;
  pca: PcaFit | null;
  /** How K was chosen, in words (stored as the `pca_rule` attribute). */
  pcaRule: string;
  /** Per-voxel noise ceiling in % (NaN for voxels with zero SD in some session, or without 3-repeat images). */
  noiseCeiling: Float32Array;
  shuffleSeed?: number;
}

/**
 * Runs the whole preparation for one subject and ROI.
 *
 * @example
 * ```ts
 * import { prepareRoi, writePreparedRoi } from "./mod.ts";
 * // subj01's V1 targets from an NSD download, written like `deno task nsd-prep`.
 * async function prepareV1(nsdRoot: string) {
 *   const prepared = await prepareRoi({ nsd: nsdRoot, subject: 1, roi: "V1", pca: { variance: 0.95 } });
 *   console.log(prepared.k, prepared.train.length / prepared.k); // K, number of training images
 *   await writePreparedRoi("runs/subj01_V1.h5", prepared);
 * }
 * ```
 */
export async function prepareRoi(options: PrepareOptions): Promise<PreparedRoi> {
  const paths = nsdPaths(options.nsd, options.subject, options.betasVersion ?? DEFAULT_BETAS_VERSION);
  // Fail on a misspelt ROI before any large file is touched.
  if (typeof options.roi === "string") roiDefinition(options.roi, paths.roiDir);
  const sessions = selectSessions(
    await listBetaSessions(paths, options.format ?? "auto"),
    options.sessions,
    paths.betasDir,
  );
  const design = await readExpDesign(paths, options.design ?? "auto");
  const first = await betaSessionInfo(sessions[0], paths.root);
  const roi = await loadRoi(paths, options.roi, first);
  const voxelOrder = options.voxelOrder ?? "native";
  const voxels = voxelOrder === "reference" ? referenceVoxelOrder(roi.voxels, roi.grid) : roi.voxels;
  const V = voxels.length;

  // The trials × voxels matrix only lives inside this expression, so it is freed before the PCA allocates.
  const { noiseCeiling, split } = reduceTrials(
    await readRoiTrials(sessions, voxels, first, design, paths.root, options.onSession),
    V,
  );
  if (split.trainIds.length < 2) {
    throw new NsdFormatError(
      paths.betasDir,
      `only ${split.trainIds.length} training images in the chosen sessions; use more sessions`,
    );
  }
  options.onStage?.("z-scoring and PCA");
  const { mean: zscoreMean, std: zscoreStd } = zscoreWithTrainStats(split.train, split.val, V);

  const nTrain = split.trainIds.length, nVal = split.valIds.length;
  const rule = options.pca === undefined ? { variance: 0.95 } : options.pca;
  const size = rule === "signal" ? { minEigenvalue: signalEigenvalueFloor(noiseCeiling, nTrain) } : rule;
  const pca = size ? fitPca(split.train, nTrain, V, size) : null;
  options.onStage?.("projecting");
  const train = pca ? pcaTransform(split.train, nTrain, pca) : Float32Array.from(split.train);
  const val = pca ? pcaTransform(split.val, nVal, pca) : Float32Array.from(split.val);

  let { trainIds, valIds } = split;
  if (options.shuffleSeed !== undefined) {
    ({ trainIds, valIds } = shufflePairing(trainIds, valIds, options.shuffleSeed));
  }
  return {
    subject: options.subject,
    roi: roi.name,
    sessions: sessions.map((s) => s.session),
    betasFormat: [...new Set(sessions.map((s) => s.format))].join("+"),
    designFile: design.file,
    voxelOrder,
    grid: roi.grid,
    voxelIndex: voxels,
    trainIds,
    valIds,
    trainRepeats: split.trainRepeats,
    valRepeats: split.valRepeats,
    train,
    val,
    k: pca ? pca.k : V,
    zscoreMean,
    zscoreStd,
    pca,
    pcaRule: !size
      ? "none"
      : "k" in size
      ? `k = ${size.k}`
      : "variance" in size
      ? `explained variance > ${size.variance}`
      : `signal: eigenvalue > noise edge ${size.minEigenvalue.toFixed(4)}`,
    noiseCeiling,
    shuffleSeed: options.shuffleSeed,
  };
}

/**
 * The largest variance a PCA component of pure noise could reach, from the voxels' noise ceilings: after the
 * z-score each voxel has unit variance, of which NC/100 is signal (the noise ceiling is defined for the
 * 3-repeat average the targets are), so the noise variance is σ² = mean over voxels of 1 − NC/100 (voxels
 * without a ceiling count as pure noise). For n samples of V independent noise voxels, the sample
 * covariance's eigenvalues lie below the Marchenko–Pastur edge σ²(1 + √(V/n))² (Marchenko & Pastur 1967);
 * components above it carry signal. Noise shared across voxels (NSD's global signal) is not independent, so
 * it can add a component or two above the edge.
 */
export function signalEigenvalueFloor(noiseCeiling: Float32Array, n: number): number {
  const V = noiseCeiling.length;
  let noise = 0;
  for (const nc of noiseCeiling) noise += Number.isFinite(nc) ? 1 - Math.min(100, Math.max(0, nc)) / 100 : 1;
  noise /= V;
  return noise * (1 + Math.sqrt(V / n)) ** 2;
}

/** The chosen sessions' ROI betas, concatenated in session order, with each trial's image. */
interface RoiTrials {
  betas: Float32Array;
  imageOfTrial: Int32Array;
  sharedOfTrial: Uint8Array;
  sessionStarts: number[];
}

async function readRoiTrials(
  sessions: BetaSession[],
  voxels: Int32Array,
  first: BetaSessionInfo,
  design: ExpDesign,
  root: string,
  onSession: PrepareOptions["onSession"],
): Promise<RoiTrials> {
  const V = voxels.length, perSession = first.trials;
  const betas = new Float32Array(sessions.length * perSession * V);
  const imageOfTrial = new Int32Array(sessions.length * perSession);
  const sharedOfTrial = new Uint8Array(sessions.length * perSession);
  for (const [index, session] of sessions.entries()) {
    const { trials, data } = await readSessionBetas(
      session,
      voxels,
      first,
      root,
      NSD_FUNC_GRIDS[design.subject],
    );
    if (trials !== perSession) {
      throw new NsdFormatError(
        session.file,
        `has ${trials} trials but ${
          sessions[0].file
        } has ${perSession}; every session must hold the same number (re-download it)`,
      );
    }
    // Sessions map onto the design by number, so a subset such as 3-5 still finds its own trials.
    const offset = (session.session - 1) * perSession;
    if (offset + perSession > design.trialImages.length) {
      throw new NsdFormatError(
        design.file,
        `lists ${design.trialImages.length} trials, but session ${session.session} needs trials ${
          offset + 1
        }..${offset + perSession}; use the design file that matches these betas`,
      );
    }
    betas.set(data, index * perSession * V);
    imageOfTrial.set(design.trialImages.subarray(offset, offset + perSession), index * perSession);
    sharedOfTrial.set(design.trialShared.subarray(offset, offset + perSession), index * perSession);
    onSession?.(index + 1, sessions.length, session.session);
  }
  return { betas, imageOfTrial, sharedOfTrial, sessionStarts: sessions.map((_, i) => i * perSession) };
}

/** Noise ceiling from the single trials, then repeat averages split into training and validation. */
function reduceTrials(trials: RoiTrials, V: number) {
  const { betas, imageOfTrial, sharedOfTrial, sessionStarts } = trials;
  const nTrials = imageOfTrial.length;
  const noiseCeiling = noiseCeilingPerVoxel(betas, nTrials, V, sessionStarts, imageOfTrial);
  const averaged = averageRepeats(betas, nTrials, V, imageOfTrial);
  // An image's split follows its first trial (all its trials agree: the flag is a property of the image).
  const firstTrial = new Map<number, number>();
  imageOfTrial.forEach((id, t) => firstTrial.has(id) || firstTrial.set(id, t));
  const isVal = averaged.ids.map((id) => sharedOfTrial[firstTrial.get(id)!]);
  return { noiseCeiling, split: splitRows(averaged, V, isVal) };
}

/** Per-image means of a trials×voxels matrix; rows follow each image's first appearance. */
export interface RepeatAverage {
  ids: Int32Array;
  counts: Uint8Array;
  /** ids.length × V, float64. */
  mean: Float64Array;
}

/** Averages the 1–3 (or any number of) repeats of each image (`docs/method.md#data-preparation`, step 4). */
export function averageRepeats(
  x: Float32Array,
  nTrials: number,
  V: number,
  imageOfTrial: Int32Array,
): RepeatAverage {
  const row = new Map<number, number>();
  for (let t = 0; t < nTrials; t++) if (!row.has(imageOfTrial[t])) row.set(imageOfTrial[t], row.size);
  const mean = new Float64Array(row.size * V);
  const counts = new Uint8Array(row.size);
  for (let t = 0; t < nTrials; t++) {
    const r = row.get(imageOfTrial[t])!;
    counts[r]++;
    const dst = r * V, src = t * V;
    for (let v = 0; v < V; v++) mean[dst + v] += x[src + v];
  }
  for (let r = 0; r < row.size; r++) for (let v = 0; v < V; v++) mean[r * V + v] /= counts[r];
  return { ids: Int32Array.from(row.keys()), counts, mean };
}

/** Splits averaged rows into training and validation (`isVal[r]` = 1), keeping row order within each. */
/** The two splits of {@link splitRows}: ids, repeat counts and row-major data (rows × V). */
export interface SplitRows {
  trainIds: Int32Array;
  valIds: Int32Array;
  trainRepeats: Uint8Array;
  valRepeats: Uint8Array;
  train: Float64Array;
  val: Float64Array;
}

export function splitRows(avg: RepeatAverage, V: number, isVal: ArrayLike<number>): SplitRows {
  const pick = (want: number) => {
    const rows = Array.from(avg.ids.keys()).filter((r) => (isVal[r] ? 1 : 0) === want);
    const data = new Float64Array(rows.length * V);
    rows.forEach((r, i) => data.set(avg.mean.subarray(r * V, r * V + V), i * V));
    return {
      ids: Int32Array.from(rows, (r) => avg.ids[r]),
      repeats: Uint8Array.from(rows, (r) => avg.counts[r]),
      data,
    };
  };
  const train = pick(0), val = pick(1);
  return {
    trainIds: train.ids,
    valIds: val.ids,
    trainRepeats: train.repeats,
    valRepeats: val.repeats,
    train: train.data,
    val: val.data,
  };
}

/**
 * z-scores every voxel of `train` and `val` in place with the training mean and population SD:
 * (x − μ)/(σ + 1e-6), NaN → 0 (`docs/method.md#data-preparation`, step 6). Returns μ and σ.
 */
export function zscoreWithTrainStats(
  train: Float64Array,
  val: Float64Array,
  V: number,
): { mean: Float64Array; std: Float64Array } {
  const n = train.length / V;
  const mean = new Float64Array(V), std = new Float64Array(V);
  for (let r = 0; r < n; r++) for (let v = 0; v < V; v++) mean[v] += train[r * V + v];
  for (let v = 0; v < V; v++) mean[v] /= n;
  for (let r = 0; r < n; r++) {
    for (let v = 0; v < V; v++) {
      const d = train[r * V + v] - mean[v];
      std[v] += d * d;
    }
  }
  for (let v = 0; v < V; v++) std[v] = Math.sqrt(std[v] / n);
  for (const data of [train, val]) {
    for (let i = 0; i < data.length; i++) {
      const v = i % V;
      const z = (data[i] - mean[v]) / (std[v] + ZSCORE_EPSILON);
      data[i] = Number.isNaN(z) ? 0 : z;
    }
  }
  return { mean, std };
}

/**
 * NSD noise ceiling per voxel (`docs/method.md#noise-ceiling`): z-score each voxel within each session
 * (population SD), take images with exactly 3 repeats, σ²_noise = mean across-repeat variance (ddof 1),
 * σ²_signal = max(1 − σ²_noise, 0), NC = 100·ncsnr²/(ncsnr² + 1/3) with ncsnr = σ_signal/σ_noise — computed
 * as 100·σ²_signal/(σ²_signal + σ²_noise/3), the same value without the ∞/∞ of a noiseless voxel. Voxels with
 * zero SD in any session (masked-out zeros) get NaN, as do all voxels when no image has 3 repeats.
 *
 * @param sessionStarts first trial row of each session (ascending; the last session runs to `nTrials`).
 */
export function noiseCeilingPerVoxel(
  x: Float32Array,
  nTrials: number,
  V: number,
  sessionStarts: number[],
  imageOfTrial: Int32Array,
): Float32Array {
  const S = sessionStarts.length;
  const mu = new Float64Array(S * V), sd = new Float64Array(S * V);
  const sessionOf = new Int32Array(nTrials);
  for (let s = 0; s < S; s++) {
    const start = sessionStarts[s], end = s + 1 < S ? sessionStarts[s + 1] : nTrials;
    sessionOf.fill(s, start, end);
    const m = mu.subarray(s * V, s * V + V), q = sd.subarray(s * V, s * V + V);
    for (let t = start; t < end; t++) for (let v = 0; v < V; v++) m[v] += x[t * V + v];
    for (let v = 0; v < V; v++) m[v] /= end - start;
    for (let t = start; t < end; t++) {
      for (let v = 0; v < V; v++) {
        const d = x[t * V + v] - m[v];
        q[v] += d * d;
      }
    }
    for (let v = 0; v < V; v++) q[v] = Math.sqrt(q[v] / (end - start));
  }
  const trialsOf = new Map<number, number[]>();
  for (let t = 0; t < nTrials; t++) {
    const list = trialsOf.get(imageOfTrial[t]);
    if (list) list.push(t);
    else trialsOf.set(imageOfTrial[t], [t]);
  }
  const triplets = [...trialsOf.values()].filter((ts) => ts.length === 3);
  const noise = new Float64Array(V);
  const z = [0, 0, 0];
  for (const ts of triplets) {
    for (let v = 0; v < V; v++) {
      for (let i = 0; i < 3; i++) {
        const t = ts[i], s = sessionOf[t] * V + v;
        z[i] = (x[t * V + v] - mu[s]) / sd[s];
      }
      const m = (z[0] + z[1] + z[2]) / 3;
      noise[v] += ((z[0] - m) ** 2 + (z[1] - m) ** 2 + (z[2] - m) ** 2) / 2;
    }
  }
  const out = new Float32Array(V);
  for (let v = 0; v < V; v++) {
    let dead = triplets.length === 0;
    for (let s = 0; s < S && !dead; s++) dead = sd[s * V + v] === 0;
    const noiseVar = noise[v] / triplets.length;
    const signalVar = Math.max(1 - noiseVar, 0);
    out[v] = dead ? NaN : 100 * signalVar / (signalVar + noiseVar / 3);
  }
  return out;
}

/** Mean and population SD of the finite entries (the summary the method reports for the noise ceiling). */
export function finiteMeanSd(values: ArrayLike<number>): { mean: number; sd: number; count: number } {
  let n = 0, sum = 0, sq = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) (n++, sum += values[i]);
  const mean = sum / n;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) sq += (values[i] - mean) ** 2;
  return { mean, sd: Math.sqrt(sq / n), count: n };
}

/**
 * The shuffled-pairing control (`docs/method.md#shuffle-control`): training then validation ids are
 * concatenated, permuted with a seeded Fisher–Yates shuffle (`Random`, lib/random.ts), and cut back into the
 * two splits, while the targets stay in order; images therefore cross the split. numpy's permutation cannot
 * be reproduced, so the seed is recorded instead.
 */
export function shufflePairing(
  trainIds: Int32Array,
  valIds: Int32Array,
  seed: number,
): { trainIds: Int32Array; valIds: Int32Array } {
  const all = new Int32Array(trainIds.length + valIds.length);
  all.set(trainIds);
  all.set(valIds, trainIds.length);
  const order = new Random(`shuffle-pairing/${seed}`).permutation(all.length);
  const permuted = Int32Array.from(order, (i) => all[i]);
  return { trainIds: permuted.slice(0, trainIds.length), valIds: permuted.slice(trainIds.length) };
}

/**
 * Writes a prepared ROI as HDF5, atomically (temp file, then rename; nothing is left behind on failure).
 * Datasets: `train_ids`, `val_ids` (int32, 0-based 73k ids), `train_repeats`, `val_repeats`, `train`, `val`
 * (float32 scores), `pca_components` (K×V), `pca_mean`, `explained_variance`, `explained_variance_ratio`,
 * `zscore_mean`, `zscore_std` (float64), `voxel_index` (int32, see the `voxel_order` attribute),
 * `noise_ceiling` (float32, %). Attributes describe the run.
 */
export async function writePreparedRoi(path: string, p: PreparedRoi): Promise<void> {
  await h5wasm.ready;
  await withAtomicPath(path, (temp) => {
    const f = new h5wasm.File(temp, "w");
    try {
      const put = (
        name: string,
        data: Int32Array | Uint8Array | Float32Array | Float64Array,
        shape: number[],
      ) => {
        const dtype = data instanceof Int32Array
          ? "<i"
          : data instanceof Uint8Array
          ? "<B"
          : data instanceof Float32Array
          ? "<f"
          : "<d";
        f.create_dataset({ name, data, shape, dtype });
      };
      const V = p.voxelIndex.length;
      put("train_ids", p.trainIds, [p.trainIds.length]);
      put("val_ids", p.valIds, [p.valIds.length]);
      put("train_repeats", p.trainRepeats, [p.trainRepeats.length]);
      put("val_repeats", p.valRepeats, [p.valRepeats.length]);
      put("train", p.train, [p.trainIds.length, p.k]);
      put("val", p.val, [p.valIds.length, p.k]);
      if (p.pca) {
        put("pca_components", p.pca.components, [p.k, V]);
        put("pca_mean", p.pca.mean, [V]);
        put("explained_variance", p.pca.explainedVariance, [p.k]);
        put("explained_variance_ratio", p.pca.explainedVarianceRatio, [p.k]);
      }
      put("zscore_mean", p.zscoreMean, [V]);
      put("zscore_std", p.zscoreStd, [V]);
      put("voxel_index", p.voxelIndex, [V]);
      put("noise_ceiling", p.noiseCeiling, [V]);
      const nc = finiteMeanSd(p.noiseCeiling);
      const attrs: Record<string, string | number | Int32Array> = {
        subject: p.subject,
        roi: p.roi,
        sessions: Int32Array.from(p.sessions),
        K: p.k,
        explained_variance: p.pca ? p.pca.explainedVarianceRatio.reduce((a, b) => a + b, 0) : 1,
        pca: p.pca ? "sklearn PCA(svd_solver='full') on z-scored training images" : "none (z-scored voxels)",
        pca_rule: p.pcaRule,
        sign_rule: "largest-|loading| entry of each component is positive (sklearn>=1.5 svd_flip)",
        n_voxels: V,
        grid_shape: Int32Array.from(p.grid),
        voxel_order: p.voxelOrder === "native"
          ? "native: ascending x + X*(y + Y*z) (x fastest)"
          : "reference: ascending z + Z*(y + Y*x) (nibabel C order); voxel_index values stay x + X*(y + Y*z)",
        id_base: 0,
        zscore: "(x - train mean) / (train population sd + 1e-6), NaN -> 0",
        noise_ceiling_mean: nc.mean,
        noise_ceiling_sd: nc.sd,
        betas_format: p.betasFormat,
        design_file: p.designFile,
      };
      if (p.shuffleSeed !== undefined) attrs.shuffle_seed = p.shuffleSeed;
      for (const [name, value] of Object.entries(attrs)) f.create_attribute(name, value);
    } finally {
      f.close();
    }
  });
}
