/**
 * Writes the simulated world: stimuli, experiment design, ROI volumes and single-trial betas in the real NSD
 * formats and folder tree, plus an ImageFolder classification set and a cue-conflict set from the same image
 * generator. Generation happens in a temporary sibling folder that is renamed into place at the end, so an
 * interrupted run never leaves a tree that looks complete.
 * @module
 */
import { onInterrupt } from "../../io/interrupt.ts";
import h5wasm from "../../deps/h5wasm.ts";
import { encode as encodePng } from "../../deps/fast_png.ts";
import { dirname, join } from "node:path";
import { UserError } from "../../errors.ts";
import { type ProgressBar, type ProgressReporter, SILENT } from "../../progress.ts";
import { removeStaleTemps, tempPath } from "../../io/atomic.ts";
import {
  type BrainStatistics,
  brainStatistics,
  buildAtlas,
  buildSimulatedBrain,
  NC_TARGETS,
  NOISE_MODEL,
  noiseCeiling,
  restoreSimulatedBrain,
  roiVoxels,
  sessionBetas,
  type SimulatedBrain,
  STAGES,
} from "./brain.ts";
import { KASTNER_NAMES, PRF_NAMES, ROI_LABELS, type RoiName, STREAMS_NAMES } from "../nsd/roi.ts";
import { DEFAULT_BETAS_VERSION, NSD_LAYOUT } from "../nsd/paths.ts";
import {
  EXTRAS,
  FEATURE_GRID,
  resampleToGrid,
  RF_GRIDS,
  rgbToPixels,
  ROI_KNOBS,
  SHAPE_GRID,
  toGrid,
} from "./features.ts";
import { measureSensitivity, type Sensitivity, SENSITIVITY_DEFAULTS } from "./sensitivity.ts";
import { renderScene, sampleScene, type SceneSpec, SHAPES, textureName } from "./images.ts";
import { encodeMatV5 } from "./mat_write.ts";
import { type NiftiImage, writeNiftiGz } from "./nifti_write.ts";
import { Random } from "../../random.ts";

/** Bumped whenever the same options would produce different files. */
export const SIM_WORLD_VERSION = 2;
/** Name of the manifest at the world's root; its presence marks a complete world. */
export const MANIFEST_NAME = "sim_world.json";

/** Options of {@link generateSimWorld}; every field has a small default. */
export interface SimWorldOptions {
  /** PRNG seed: equal options and seed give byte-identical files. Default 0. */
  seed?: number;
  /** Image side in pixels (NSD: 425). Default 64. */
  size?: number;
  /** Number of classes, at most {@link SHAPES}.length. Default 10. */
  classes?: number;
  /** Images per subject (NSD: 10,000); the first 10 % are shared by all subjects. Default 3000. */
  images?: number;
  /** Number of subjects. Default 1. */
  subjects?: number;
  /** Sessions per subject; 3 × images must divide evenly (NSD: 40 sessions of 750 trials). Default 12. */
  sessions?: number;
  /** Classification training images per class. Default 100. */
  trainPerClass?: number;
  /** Classification validation images per class. Default 20. */
  valPerClass?: number;
  /** Shape exemplars per class in the cue-conflict set (each drawn with every other class's texture). Default 4. */
  conflictPerClass?: number;
  /** Probability that an image's texture is its class's own texture (else another class's). Default 0.7. */
  textureMatch?: number;
  /** Functional grid X×Y×Z (NSD subj01: 81×104×83). Default 20×24×20. */
  grid?: [number, number, number];
  /** Subject images on which each ROI's sensitivity to L∞ perturbations is measured. Default 12. */
  sensitivityImages?: number;
  /** Which single-trial beta files to write (NSD ships both). Default both. */
  betasFormats?: ("hdf5" | "nifti")[];
  /** Replace an existing world. Default false. */
  force?: boolean;
  /** Where the progress bar goes (default: nowhere). */
  progress?: ProgressReporter;
}

/** Resolved options: what determines the files (so `force` and `progress` are left out). */
export type SimWorldConfig = Required<Omit<SimWorldOptions, "force" | "progress">>;

/** Default options of the embedded world. */
export const SIM_WORLD_DEFAULTS: SimWorldConfig = {
  seed: 0,
  size: 64,
  classes: 10,
  images: 3000,
  subjects: 1,
  sessions: 12,
  trainPerClass: 100,
  valPerClass: 20,
  conflictPerClass: 4,
  textureMatch: 0.7,
  grid: [20, 24, 20],
  sensitivityImages: 12,
  betasFormats: ["hdf5", "nifti"],
};

/** The `sim_world.json` manifest. */
export interface SimWorldManifest {
  /** Identifies the file. */
  format: "neuroguide-sim-world";
  /** {@link SIM_WORLD_VERSION} of the generator that wrote it. */
  version: number;
  /** The resolved options (seed included). */
  config: SimWorldConfig;
  /** Class names in class-index order (alphabetical, as ImageFolder orders folders). */
  classes: string[];
  /** The characteristic texture of each class, same order. */
  textures: string[];
  /** Sizes: stimuli in the brick, images per subject, shared images, trials, image-set sizes. */
  counts: {
    stimuli: number;
    imagesPerSubject: number;
    shared: number;
    trials: number;
    trialsPerSession: number;
    classificationTrain: number;
    classificationVal: number;
    cueConflict: number;
  };
  /** The functional grid shared by every volume. */
  grid: { dims: [number, number, number]; voxelMm: number; affine: number[][] };
  /** Per subject: in-brain voxels, method-ROI voxel counts (label ∈ ROI and nsdgeneral == 1), noise ceilings. */
  subjects: {
    subject: string;
    brainVoxels: number;
    roiVoxels: Record<RoiName, number>;
    /** Per ROI: target mean NC (%) of the generative model and the NC measured on the written betas. */
    noiseCeiling: Record<RoiName, { target: number; mean: number; sd: number }>;
    /** Per ROI: response change under L∞ perturbations, in across-image SDs (`sensitivity.ts`). */
    sensitivity: Record<RoiName, Sensitivity[]>;
  }[];
  /** Generative-model parameters: receptive fields, stages, noise-ceiling targets, noise model. */
  generative: Record<string, unknown>;
  /** Paths relative to the root. */
  paths: Record<string, string>;
}

const pad = (n: number | string, width: number) => String(n).padStart(width, "0");
/** `subj01`…; a string such as "NN" gives the placeholder form used in the manifest. */
const subjectDir = (s: number | string) => `subj${pad(s, 2)}`;

/** Paths of the world's files, relative to its root, in the NSD tree. */
export interface SimPaths {
  stimuli: string;
  expdesign: string;
  shared: string;
  stimInfoMerged: string;
  stimInfo: string;
  classification: string;
  brain(subject: number | string): string;
  cueConflict: string;
  roi(subject: number | string, name: string): string;
  brainmask(subject: number | string): string;
  ctab(who: string, name: string): string;
  betas(subject: number | string, session: number | string, ext: string): string;
}

/** Paths of the world's files, relative to its root, in the NSD tree. */
export const SIM_PATHS: SimPaths = {
  stimuli: NSD_LAYOUT.stimuli,
  expdesign: NSD_LAYOUT.expdesign,
  shared: NSD_LAYOUT.shared,
  stimInfoMerged: NSD_LAYOUT.stimInfoCsv,
  stimInfo: "sim_stim_info.csv",
  classification: "classification",
  brain: (s: number | string) => `sim_brain/${subjectDir(s)}.json`,
  cueConflict: "cue_conflict",
  roi: (s: number | string, name: string) => `${NSD_LAYOUT.roiDir(subjectDir(s))}/${name}.nii.gz`,
  brainmask: (s: number | string) => NSD_LAYOUT.brainmask(subjectDir(s)),
  ctab: NSD_LAYOUT.ctab,
  betas: (s: number | string, session: number | string, ext: string) =>
    `${NSD_LAYOUT.betasDir(subjectDir(s), DEFAULT_BETAS_VERSION)}/${
      NSD_LAYOUT.betaSession(String(session), ext)
    }`,
};

/** Validates and fills in options; throws {@link UserError} naming the bad option. */
export function resolveSimWorldOptions(options: SimWorldOptions = {}): SimWorldConfig {
  const c: SimWorldConfig = { ...SIM_WORLD_DEFAULTS };
  for (const key of Object.keys(SIM_WORLD_DEFAULTS) as (keyof SimWorldConfig)[]) {
    if (options[key] !== undefined) (c as unknown as Record<string, unknown>)[key] = options[key];
  }
  // Messages name the option and its CLI flag, since most users meet them through `deno task synth`.
  const label = (name: string) => `${name} (--${name.replace(/[A-Z]/g, (m) => "-" + m.toLowerCase())})`;
  const int = (name: keyof SimWorldConfig, min: number, max = 1e7) => {
    const v = c[name] as number;
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new UserError(`${label(name)} must be an integer in [${min}, ${max}], got ${v}`);
    }
  };
  int("seed", 0, 2 ** 32 - 1);
  int("size", 16, 1024);
  int("classes", 2, SHAPES.length);
  int("images", 10, 200000);
  int("subjects", 1, 8);
  int("sessions", 1, 99);
  int("trainPerClass", 1);
  int("valPerClass", 1);
  int("conflictPerClass", 1, 99);
  int("sensitivityImages", 1, c.images);
  if ((3 * c.images) % c.sessions !== 0) {
    throw new UserError(
      `3 × images = ${
        3 * c.images
      } trials must divide evenly into ${c.sessions} sessions (--images, --sessions)`,
    );
  }
  if (!(c.textureMatch >= 0 && c.textureMatch <= 1)) {
    throw new UserError(`${label("textureMatch")} must be in [0, 1], got ${c.textureMatch}`);
  }
  if (c.grid.length !== 3 || c.grid.some((d) => !Number.isInteger(d) || d < 8 || d > 256)) {
    throw new UserError(`${label("grid")} must be three integers in [8, 256], got ${c.grid.join("×")}`);
  }
  if (c.betasFormats.length === 0 || c.betasFormats.some((f) => f !== "hdf5" && f !== "nifti")) {
    throw new UserError(`betasFormats (--betas) must be a non-empty subset of hdf5, nifti`);
  }
  return c;
}

/**
 * Generates the simulated world into `dir` (atomically: a temporary sibling folder renamed at the end).
 * Refuses to replace an existing `dir` unless `force` is set. Returns the manifest it wrote.
 *
 * @example
 * ```ts
 * // A fresh simulated world of 400 images per subject under `dir` (replaced if present).
 * async function smallWorld(dir: string) {
 *   const manifest = await generateSimWorld(dir, { seed: 0, images: 400 });
 *   console.log(manifest.subjects[0].roiVoxels.V1);
 * }
 * ```
 */
export async function generateSimWorld(
  dir: string,
  options: SimWorldOptions = {},
): Promise<SimWorldManifest> {
  const config = resolveSimWorldOptions(options);
  if ((await exists(dir)) && !options.force) {
    throw new UserError(`${dir} already exists; pass --force to replace it`);
  }
  // a generation killed with SIGKILL (no handler runs) leaves its folder; remove those of dead processes
  await removeStaleTemps(dir);
  const temp = tempPath(dir);
  // Ctrl-C or a kill would otherwise leave the half-written temporary folder behind. The listeners go in
  // before the folder exists, so no signal can slip between its creation and their registration.
  const done = onInterrupt(() => Deno.removeSync(temp, { recursive: true }));
  try {
    await Deno.mkdir(temp, { recursive: true });
    const manifest = await writeWorld(temp, config, options.progress ?? SILENT);
    await Deno.writeTextFile(join(temp, MANIFEST_NAME), JSON.stringify(manifest, null, 2) + "\n");
    await replaceDir(temp, dir, options.force ?? false);
    return manifest;
  } catch (e) {
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    throw e;
  } finally {
    done();
  }
}

/** Lets pending events (a Ctrl-C) run during long synchronous loops; called every few dozen images. */
const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Returns the world at `dir`, generating it first when its manifest is missing. Options given explicitly
 * must agree with an existing world's; a mismatch is an error that says how to regenerate.
 *
 * @example
 * ```ts
 * // What `deno task train` does without NSD: generate data/sim once, then reuse it.
 * async function simWorld() {
 *   return await ensureSimWorld("data/sim");
 * }
 * ```
 */
export async function ensureSimWorld(dir: string, options: SimWorldOptions = {}): Promise<SimWorldManifest> {
  const existing = await readManifest(dir);
  if (!existing && (await exists(dir))) {
    throw new UserError(
      `${dir} exists but holds no ${MANIFEST_NAME}, so it is not a complete simulated world; ` +
        `delete it or run: deno task synth --out ${dir} --force`,
    );
  }
  if (!existing) {
    try {
      return await generateSimWorld(dir, { ...options, force: false });
    } catch (e) {
      // Another process may have finished the same world while this one was generating: use theirs.
      const raced = await readManifest(dir);
      if (raced) return checkAgrees(dir, raced, options);
      throw e;
    }
  }
  return checkAgrees(dir, existing, options);
}

async function readManifest(dir: string): Promise<SimWorldManifest | null> {
  try {
    return JSON.parse(await Deno.readTextFile(join(dir, MANIFEST_NAME)));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new UserError(
      `${join(dir, MANIFEST_NAME)} is unreadable (${(e as Error).message}); regenerate with --force`,
    );
  }
}

function checkAgrees(dir: string, manifest: SimWorldManifest, options: SimWorldOptions): SimWorldManifest {
  if (manifest.version !== SIM_WORLD_VERSION) {
    throw new UserError(
      `${dir} holds world version ${manifest.version}, expected ${SIM_WORLD_VERSION}; regenerate with --force`,
    );
  }
  for (const key of Object.keys(SIM_WORLD_DEFAULTS) as (keyof SimWorldConfig)[]) {
    const wanted = options[key];
    if (wanted !== undefined && JSON.stringify(wanted) !== JSON.stringify(manifest.config[key])) {
      throw new UserError(
        `${dir} was generated with ${key}=${JSON.stringify(manifest.config[key])}, not ${
          JSON.stringify(wanted)
        }; ` +
          `regenerate with --force or use another --out`,
      );
    }
  }
  return manifest;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Renames `temp` onto `dir`. With `force`, an existing `dir` is first moved aside, then deleted once the swap
 * is done; without it, a `dir` that appeared meanwhile (another process) is an error and is left alone.
 */
async function replaceDir(temp: string, dir: string, force: boolean): Promise<void> {
  await Deno.mkdir(dirname(dir) || ".", { recursive: true });
  if (await exists(dir)) {
    if (!force) throw new UserError(`${dir} already exists; pass --force to replace it`);
    const old = `${temp}.old`;
    await Deno.rename(dir, old);
    await Deno.rename(temp, dir);
    await Deno.remove(old, { recursive: true });
  } else {
    await Deno.rename(temp, dir);
  }
}

/** What every part of the writer shares. */
interface Context {
  root: string;
  c: SimWorldConfig;
  rng: Random;
  /** Class names (class-index order) and the catalogue shape of each class. */
  names: string[];
  shapeIds: number[];
  progress: ProgressBar;
  /** Writes `data` to `root/rel`, creating folders as needed. */
  write: (rel: string, data: Uint8Array | string) => void;
  png: (rgb: Uint8Array) => Uint8Array;
}

/** The NSD-side design of the world: which 73k ids exist, are shared, and belong to each subject. */
interface Design {
  stimuli: number;
  sharedix: number[];
  /** Per subject: its images as 1-based 73k ids, the shared ones first (NSD's `subjectim` rows). */
  subjectim: number[][];
  /** 1-based subject image index of each trial (NSD's `masterordering`). */
  masterordering: number[];
}

async function writeWorld(
  root: string,
  c: SimWorldConfig,
  progress: ProgressReporter,
): Promise<SimWorldManifest> {
  await h5wasm.ready;
  const rng = new Random(`neuroguide-sim/v${SIM_WORLD_VERSION}/seed:${c.seed}`);
  const names = SHAPES.slice(0, c.classes).map((s) => s.name).sort();
  const C = c.classes, N = c.images, shared = Math.max(1, Math.round(N / 10));
  const stimuli = shared + c.subjects * (N - shared);
  const conflictCount = C * c.conflictPerClass * (C - 1);
  const made = new Set<string>();
  const ctx: Context = {
    root,
    c,
    rng,
    names,
    shapeIds: names.map((n) => SHAPES.findIndex((s) => s.name === n)),
    progress: progress.stage(
      "synth",
      stimuli + C * (c.trainPerClass + c.valPerClass) + conflictCount + c.subjects * c.sessions,
      { unit: "items" },
    ),
    // Thousands of small PNGs: synchronous writes and one mkdir per folder are several times faster here.
    write: (rel, data) => {
      const path = join(root, rel), folder = dirname(path);
      if (!made.has(folder)) Deno.mkdirSync(folder, { recursive: true }), made.add(folder);
      if (typeof data === "string") Deno.writeTextFileSync(path, data);
      else Deno.writeFileSync(path, data);
    },
    png: (rgb) => encodePng({ width: c.size, height: c.size, data: rgb, channels: 3, depth: 8 }),
  };

  // NSD-style 1-based ids: a random subset shared by all subjects (sharedix, sorted), the rest split between
  // subjects; every image shown 3 times in random order (masterordering is common to all subjects, as in NSD).
  const ids = rng.fork("ids").shuffle(Array.from({ length: stimuli }, (_, i) => i + 1));
  const sharedix = ids.slice(0, shared).sort((a, b) => a - b);
  const design: Design = {
    stimuli,
    sharedix,
    subjectim: Array.from({ length: c.subjects }, (_, s) => [
      ...sharedix,
      ...ids.slice(shared + s * (N - shared), shared + (s + 1) * (N - shared)),
    ]),
    masterordering: rng.fork("masterordering").shuffle(Array.from({ length: 3 * N }, (_, t) => (t % N) + 1)),
  };
  const gridPixels = await writeStimuli(ctx, design);
  await writeDesign(ctx, design);
  const subjects = [];
  for (let s = 1; s <= c.subjects; s++) subjects.push(await writeSubject(ctx, design, s, gridPixels));
  await writeClassification(ctx);
  await writeCueConflict(ctx);
  ctx.progress.done();

  return {
    format: "neuroguide-sim-world",
    version: SIM_WORLD_VERSION,
    config: c,
    classes: names,
    textures: names.map((_, k) => textureName(k)),
    counts: {
      stimuli,
      imagesPerSubject: N,
      shared,
      trials: 3 * N,
      trialsPerSession: (3 * N) / c.sessions,
      classificationTrain: C * c.trainPerClass,
      classificationVal: C * c.valPerClass,
      cueConflict: conflictCount,
    },
    grid: { dims: c.grid, voxelMm: VOXEL_MM, affine: affineOf(c.grid) },
    subjects,
    generative: {
      featureGrid: FEATURE_GRID,
      shapeGrid: SHAPE_GRID,
      receptiveFields: RF_GRIDS,
      roiKnobs: ROI_KNOBS,
      objectExtras: EXTRAS,
      stages: STAGES,
      sensitivity: { ...SENSITIVITY_DEFAULTS, images: c.sensitivityImages, grid: FEATURE_GRID },
      noiseCeilingTargets: NC_TARGETS,
      noise: NOISE_MODEL,
      textureMatch: c.textureMatch,
    },
    paths: {
      stimuli: SIM_PATHS.stimuli,
      expdesign: SIM_PATHS.expdesign,
      stimInfoMerged: SIM_PATHS.stimInfoMerged,
      shared: SIM_PATHS.shared,
      stimInfo: SIM_PATHS.stimInfo,
      brain: SIM_PATHS.brain("NN"),
      classification: SIM_PATHS.classification,
      cueConflict: SIM_PATHS.cueConflict,
      roi: SIM_PATHS.roi("NN", "<name>"),
      betas: SIM_PATHS.betas("NN", "NN", "{hdf5,nii.gz}"),
    },
  };
}

/** Texture for an image of class k: its own with probability `match`, else one of the other classes'. */
function drawTexture(rng: Random, k: number, classes: number, match: number): number {
  if (rng.chance(match)) return k;
  const other = rng.int(classes - 1);
  return other >= k ? other + 1 : other;
}

/**
 * Renders the stimulus brick (`nsd_stimuli.hdf5`), the shared-image PNGs and `sim_stim_info.csv`; returns each
 * stimulus's pixels on the feature grid (index = 73k id − 1), all the brain model ever reads of it.
 */
async function writeStimuli(ctx: Context, design: Design): Promise<Float32Array[]> {
  const { c, rng, names, shapeIds, write } = ctx;
  const { stimuli, sharedix } = design;
  // Balanced classes over the brick: the class of each id is a shuffled round robin.
  const brickClass = rng.fork("brick-classes").shuffle(
    Array.from({ length: stimuli }, (_, i) => i % c.classes),
  );
  const brick = new Uint8Array(stimuli * c.size * c.size * 3);
  const gridPixels: Float32Array[] = [];
  // nsdId is 0-based, as in NSD's own csv (the .mat files use 1-based ids).
  const info = ["nsdId,shapeClass,textureClass,textureMatch,shared,cx,cy,radius,rotation"];
  for (let r = 0; r < stimuli; r++) {
    const id = r + 1, k = brickClass[r], imageRng = rng.fork("stimulus", id);
    const texture = drawTexture(imageRng, k, c.classes, c.textureMatch);
    const spec = sampleScene(imageRng, shapeIds[k], texture);
    const image = renderScene(spec, c.size);
    brick.set(image.rgb, r * image.rgb.length);
    gridPixels.push(resampleToGrid(rgbToPixels(image.rgb, c.size), c.size));
    const rank = sharedix.indexOf(id) + 1;
    const geometry = [spec.cx, spec.cy, spec.radius, spec.rotation].map((v) => v.toFixed(4));
    info.push([r, names[k], names[texture], k === texture ? 1 : 0, rank > 0 ? 1 : 0, ...geometry].join(","));
    if (rank > 0) write(`${SIM_PATHS.shared}/shared${pad(rank, 4)}_nsd${pad(id, 5)}.png`, ctx.png(image.rgb));
    ctx.progress.tick();
    if (r % 32 === 31) await yieldToEvents();
  }
  write(SIM_PATHS.stimInfo, info.join("\n") + "\n");
  const path = join(ctx.root, SIM_PATHS.stimuli);
  Deno.mkdirSync(dirname(path), { recursive: true });
  writeHdf5(path, "imgBrick", brick, [stimuli, c.size, c.size, 3], "<B", [1, c.size, c.size, 3]);
  return gridPixels;
}

/** `nsd_expdesign.mat` (MAT v5, double arrays as NSD ships them) and `nsd_stim_info_merged.csv`. */
async function writeDesign(
  ctx: Context,
  { stimuli, sharedix, subjectim, masterordering }: Design,
): Promise<void> {
  const K = subjectim.length, N = subjectim[0].length;
  ctx.write(
    SIM_PATHS.expdesign,
    await encodeMatV5([
      { name: "masterordering", class: "double", shape: [1, masterordering.length], data: masterordering },
      // MATLAB is column-major: element (s, i) of the subjects×N matrix sits at s + K·i.
      {
        name: "subjectim",
        class: "double",
        shape: [K, N],
        data: Array.from({ length: K * N }, (_, f) => subjectim[f % K][Math.floor(f / K)]),
      },
      { name: "sharedix", class: "double", shape: [1, sharedix.length], data: sharedix },
    ]),
  );
  ctx.write(SIM_PATHS.stimInfoMerged, stimInfoMerged(stimuli, new Set(sharedix), subjectim, masterordering));
}

/**
 * `nsd_stim_info_merged.csv` in NSD's column layout: an unnamed index, COCO fields (placeholders here),
 * 0-based `nsdId`, `shared1000`, `subjectS` (seen by subject S) and `subjectS_repR`, the 1-based trial on which
 * subject S saw the image for the (R+1)-th time (0 = never), for S = 1..8 as in NSD.
 */
function stimInfoMerged(
  stimuli: number,
  shared: Set<number>,
  subjectim: number[][],
  order: number[],
): string {
  const trialsOf = subjectim.map((ids) => {
    const map = new Map<number, number[]>();
    order.forEach((m, t) => map.set(ids[m - 1], [...(map.get(ids[m - 1]) ?? []), t + 1]));
    return map;
  });
  const subjects = [1, 2, 3, 4, 5, 6, 7, 8];
  const header = ["", "cocoId", "cocoSplit", "cropBox", "loss", "nsdId", "flagged", "BOLD5000", "shared1000"];
  header.push(...subjects.map((s) => `subject${s}`));
  header.push(...subjects.flatMap((s) => [0, 1, 2].map((r) => `subject${s}_rep${r}`)));
  const rows = [header.join(",")];
  for (let id = 1; id <= stimuli; id++) {
    const seen = subjects.map((s) => trialsOf[s - 1]?.get(id) ?? []);
    // cropBox is a quoted tuple with commas, as in NSD's file.
    const coco = [
      id - 1,
      0,
      "sim",
      '"(0, 0, 0, 0)"',
      0,
      id - 1,
      "False",
      "False",
      shared.has(id) ? "True" : "False",
    ];
    const subjectCols = [
      ...seen.map((t) => (t.length > 0 ? 1 : 0)),
      ...seen.flatMap((t) => [0, 1, 2].map((r) => t[r] ?? 0)),
    ];
    rows.push([...coco, ...subjectCols].join(","));
  }
  return rows.join("\n") + "\n";
}

/** Voxel size of NSD's func1pt8mm grid. */
const VOXEL_MM = 1.8;

/** A diagonal 1.8 mm voxel-to-world matrix centred on the grid (the same for every file of a world). */
function affineOf([X, Y, Z]: [number, number, number]): number[][] {
  return [
    [VOXEL_MM, 0, 0, (-VOXEL_MM * (X - 1)) / 2],
    [0, VOXEL_MM, 0, (-VOXEL_MM * (Y - 1)) / 2],
    [0, 0, VOXEL_MM, (-VOXEL_MM * (Z - 1)) / 2],
  ];
}

/** A NIfTI image on the world's grid; `trials` adds NSD's fourth (trial) dimension. */
function volume(
  c: SimWorldConfig,
  data: NiftiImage["data"],
  datatype: NiftiImage["datatype"],
  description: string,
  trials?: number,
): NiftiImage {
  const mm = [VOXEL_MM, VOXEL_MM, VOXEL_MM];
  return {
    dims: trials === undefined ? [...c.grid] : [...c.grid, trials],
    pixdim: trials === undefined ? mm : [...mm, 1],
    datatype,
    data,
    affine: affineOf(c.grid),
    description,
  };
}

/**
 * One subject: label tables, ROI volumes and brain mask, then the voxel model and every session's betas.
 * Returns the subject's manifest entry, with the noise ceiling measured on the written (int16) betas.
 */
async function writeSubject(ctx: Context, design: Design, s: number, gridPixels: Float32Array[]) {
  const { c, rng, root } = ctx;
  const ctabs = { Kastner2015: KASTNER_NAMES, "prf-visualrois": PRF_NAMES, streams: STREAMS_NAMES };
  for (const who of s === 1 ? ["fsaverage", subjectDir(s)] : [subjectDir(s)]) {
    for (const [name, labels] of Object.entries(ctabs)) {
      ctx.write(SIM_PATHS.ctab(who, name), labels.map((l, i) => `${i} ${l}`).join("\n") + "\n");
    }
  }
  const atlas = buildAtlas(c.grid, rng.fork("atlas", s));
  const files: [string, NiftiImage][] = [
    [SIM_PATHS.roi(s, "Kastner2015"), volume(c, atlas.kastner, "int16", "sim Kastner2015 labels")],
    // nsdgeneral as float32 and the rest as int16, so readers exercise both stored types
    // (docs/nsd-formats.md#roi-volumes).
    [SIM_PATHS.roi(s, "nsdgeneral"), volume(c, atlas.nsdgeneral, "float32", "sim nsdgeneral")],
    [SIM_PATHS.roi(s, "prf-visualrois"), volume(c, atlas.prf, "int16", "sim prf-visualrois")],
    [SIM_PATHS.roi(s, "streams"), volume(c, atlas.streams, "int16", "sim streams")],
    [SIM_PATHS.brainmask(s), volume(c, Int16Array.from(atlas.brain), "int16", "sim brainmask")],
  ];
  for (const [rel, image] of files) {
    Deno.mkdirSync(dirname(join(root, rel)), { recursive: true });
    await writeNiftiGz(join(root, rel), image);
  }

  const subjectPixels = design.subjectim[s - 1].map((id) => gridPixels[id - 1]);
  const model = buildSimulatedBrain(
    atlas,
    subjectPixels.map((p) => toGrid(p, FEATURE_GRID)),
    rng.fork("subject", s),
  );
  ctx.write(SIM_PATHS.brain(s), JSON.stringify(brainStatistics(model.brain)) + "\n");
  const probe = new Float32Array(c.sensitivityImages * subjectPixels[0].length);
  for (let n = 0; n < c.sensitivityImages; n++) probe.set(subjectPixels[n], n * subjectPixels[0].length);
  const sensitivity = {} as Record<RoiName, Sensitivity[]>;
  for (const roi of Object.keys(ROI_LABELS) as RoiName[]) {
    sensitivity[roi] = measureSensitivity(model.brain, roi, probe, rng.fork("sensitivity", s, roi))
      .map((m) => ({ eps: m.eps, random: round4(m.random), worst: round4(m.worst) }));
  }
  const rois = roiVoxels(atlas);
  const perSession = design.masterordering.length / c.sessions, gridSize = atlas.kastner.length;
  const roiTrials = new Map<RoiName, Float32Array[]>([...rois.keys()].map((roi) => [roi, []]));
  const sessionImages: Int32Array[] = [];
  for (let session = 1; session <= c.sessions; session++) {
    const order = design.masterordering.slice((session - 1) * perSession, session * perSession);
    const images = Int32Array.from(order, (m) => m - 1);
    const betas = sessionBetas(model, gridSize, images, rng.fork("betas", s, session));
    if (c.betasFormats.includes("hdf5")) {
      const path = join(root, SIM_PATHS.betas(s, session, "hdf5"));
      Deno.mkdirSync(dirname(path), { recursive: true });
      // NSD's layout: MATLAB X×Y×Z×T with chunks [1 1 1 T] = row-major [T, Z, Y, X], chunks [T, 1, 1, 1].
      const [X, Y, Z] = c.grid;
      writeHdf5(path, "betas", betas, [perSession, Z, Y, X], "<h", [perSession, 1, 1, 1]);
    }
    if (c.betasFormats.includes("nifti")) {
      const path = join(root, SIM_PATHS.betas(s, session, "nii.gz"));
      await writeNiftiGz(path, volume(c, betas, "int16", "sim betas (% signal change x 300)", perSession));
    }
    sessionImages.push(images);
    for (const [roi, voxels] of rois) {
      const out = new Float32Array(perSession * voxels.length);
      for (let t = 0; t < perSession; t++) {
        for (let j = 0; j < voxels.length; j++) {
          out[t * voxels.length + j] = betas[t * gridSize + voxels[j]] / NOISE_MODEL.scale;
        }
      }
      roiTrials.get(roi)!.push(out);
    }
    ctx.progress.tick();
  }
  const noise = {} as Record<RoiName, { target: number; mean: number; sd: number }>;
  const roiCounts = {} as Record<RoiName, number>;
  for (const [roi, voxels] of rois) {
    const nc = noiseCeiling(roiTrials.get(roi)!, sessionImages, voxels.length);
    const n = Math.max(1, nc.length), mean = nc.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(nc.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    noise[roi] = { target: NC_TARGETS[roi].mean, mean: round2(mean), sd: round2(sd) };
    roiCounts[roi] = voxels.length;
  }
  return {
    subject: subjectDir(s),
    brainVoxels: model.brain.voxels.length,
    roiVoxels: roiCounts,
    noiseCeiling: noise,
    sensitivity,
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * Rebuilds subject `subject`'s simulated brain from the world at `dir`: the atlas and every voxel's tuning
 * follow from the manifest's seed and grid; the response statistics are read from `sim_brain/subjNN.json`.
 * The result feeds `simulatedResponses` (an oracle of the world's noise-free ROI responses).
 *
 * @example
 * ```ts
 * import { simulatedResponses } from "./brain.ts";
 * // Subject 1's noise-free V1 response to `pixels` (N×3×32×32 in [0, 1]), from the world at `dir`.
 * async function v1Oracle(dir: string, pixels: Float32Array) {
 *   const brain = await loadSimulatedBrain(dir, 1);
 *   return simulatedResponses(brain, "V1", pixels, 32); // N × V1 voxels
 * }
 * ```
 */
export async function loadSimulatedBrain(dir: string, subject = 1): Promise<SimulatedBrain> {
  const manifest = await readManifest(dir);
  if (!manifest) {
    throw new UserError(`${dir} holds no ${MANIFEST_NAME}; generate it with deno task synth --out ${dir}`);
  }
  checkAgrees(dir, manifest, {});
  const { config } = manifest;
  if (!Number.isInteger(subject) || subject < 1 || subject > config.subjects) {
    throw new UserError(`${dir} has subjects 1..${config.subjects}, not ${subject}`);
  }
  const path = join(dir, SIM_PATHS.brain(subject));
  let stats: BrainStatistics;
  try {
    stats = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new UserError(`${path} is unreadable (${(e as Error).message}); regenerate the world with --force`);
  }
  const rng = new Random(`neuroguide-sim/v${SIM_WORLD_VERSION}/seed:${config.seed}`);
  return restoreSimulatedBrain(
    buildAtlas(config.grid, rng.fork("atlas", subject)),
    rng.fork("subject", subject),
    stats,
  );
}

/** The ImageNet-50 stand-in: `classification/{train,val}/<class>/<class>_NNNNN.png` plus `classes.txt`. */
async function writeClassification(ctx: Context): Promise<void> {
  const { c, rng, names, shapeIds } = ctx;
  for (const [split, perClass] of [["train", c.trainPerClass], ["val", c.valPerClass]] as const) {
    for (let k = 0; k < c.classes; k++) {
      for (let m = 0; m < perClass; m++) {
        const imageRng = rng.fork("classification", split, k, m);
        const spec = sampleScene(imageRng, shapeIds[k], drawTexture(imageRng, k, c.classes, c.textureMatch));
        const rel = `${SIM_PATHS.classification}/${split}/${names[k]}/${names[k]}_${pad(m, 5)}.png`;
        ctx.write(rel, ctx.png(renderScene(spec, c.size).rgb));
        ctx.progress.tick();
        if (m % 32 === 31) await yieldToEvents();
      }
    }
  }
  ctx.write(`${SIM_PATHS.classification}/classes.txt`, names.join("\n") + "\n");
}

/**
 * Geirhos-style cue conflict: shape exemplar i of class a drawn with texture exemplar j of every other class
 * b, as `cue_conflict/<a>/<a><i>-<b><j>.png` (the shape exemplar keeps its pose, colours and background).
 */
async function writeCueConflict(ctx: Context): Promise<void> {
  const { c, rng, names, shapeIds } = ctx;
  const E = c.conflictPerClass;
  for (let a = 0; a < c.classes; a++) {
    for (let i = 1; i <= E; i++) {
      const shapeSpec = sampleScene(rng.fork("conflict-shape", a, i), shapeIds[a], a);
      for (let b = 0; b < c.classes; b++) {
        if (b === a) continue;
        // Texture exemplar j of class b cycles with i and b so every texture exemplar is used.
        const j = ((i - 1 + b) % E) + 1;
        const { texture } = sampleScene(rng.fork("conflict-texture", b, j), shapeIds[b], b);
        const spec: SceneSpec = { ...shapeSpec, textureId: b, texture };
        ctx.write(
          `${SIM_PATHS.cueConflict}/${names[a]}/${names[a]}${i}-${names[b]}${j}.png`,
          ctx.png(renderScene(spec, c.size).rgb),
        );
        ctx.progress.tick();
      }
      await yieldToEvents();
    }
  }
  ctx.write(`${SIM_PATHS.cueConflict}/classes.txt`, names.join("\n") + "\n");
}

/**
 * Writes one dataset to a new HDF5 file. HDF5 stamps object headers with the wall-clock time (h5wasm exposes
 * no `track_times` switch), which would make same-seed files differ; the clock is pinned while writing so the
 * files are byte-identical. h5wasm writes synchronously, so no other code observes the pinned clock.
 */
function writeHdf5(
  path: string,
  name: string,
  data: Uint8Array | Int16Array,
  shape: number[],
  dtype: "<B" | "<h",
  chunks: number[],
): void {
  const realNow = Date.now;
  Date.now = () => 0;
  try {
    const file = new h5wasm.File(path, "w");
    try {
      file.create_dataset({ name, data, shape, dtype, chunks });
    } finally {
      file.close();
    }
  } finally {
    Date.now = realNow;
  }
}
