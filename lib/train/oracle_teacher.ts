/**
 * Guidance targets straight from the simulated brain, with no neural predictor in between: the controls that
 * tell whether the guidance → robustness pipeline can show an effect at all.
 *
 * - `oracle`: the target is the simulator's own noise-free ROI response to the same augmented batch the
 *   student sees, projected exactly like the predictor's targets (the prepared file's z-score and PCA).
 * - `oracle-shuffled` (negative control): each image's target is the oracle response to another image of the
 *   batch (the batch rolled by one), so the target carries no information about the image.
 * - `oracle-perturbed` (the first design of the guaranteed positive): the student sees x + δ (independent
 *   random ±ε signs, clipped to [0, 1]) and the target is brain(x + δ). For an ROI that barely moves under δ
 *   the target is ≈ brain(x), so the student is taught to ignore δ; for a sensitive ROI (V1) the target
 *   follows δ. Random δ turned out to be a constraint the student already nearly meets (README, amendment 2).
 * - `oracle-adversarial` (guaranteed positive, amendment 2): the same, with δ the student's own worst case:
 *   one FGSM step from a random start in the ε-ball against its neural head's distance to brain(x)
 *   (`head_attack.ts`). For an invariant ROI the target brain(x + δ) is still ≈ brain(x), so the head is
 *   trained to resist the perturbation that moves it most; for V1 the target moves with δ. The cross-entropy
 *   sees x + δ too, which makes it adversarial augmentation whatever the target: V1 gained as well (README,
 *   amendment 3).
 * - `oracle-adversarial-head` (guaranteed positive, amendment 3): δ as in `oracle-adversarial`, but only the
 *   neural head sees x + δ (target brain(x + δ)); the cross-entropy sees the clean x. A step is two passes,
 *   `(1 − α)·CE(f(x))` then `α·MSE(head(x + δ), brain(x + δ))`, with one optimizer update.
 * - `oracle-adversarial-sham` (the construction's baseline: a negative in amendment 4, the other side of the
 *   paired contrast head − sham since amendment 5): `oracle-adversarial-head` with the
 *   target brain(x) + (head(x + δ) − head(x)), the student's own head read just before the step. The target
 *   moves under δ exactly as the head does, so nothing asks the head to be invariant; everything else of the
 *   construction stays. It records how far the head and the ROI's response move under δ ({@link
 *   OracleTeacher.movement}).
 * @module
 */
import h5wasm from "../deps/h5wasm.ts";
import { UserError } from "../errors.ts";
import { Random } from "../random.ts";
import { ZSCORE_EPSILON } from "../data/nsd/prep.ts";
import { loadSimulatedBrain } from "../data/synth/world.ts";
import { responder } from "../data/synth/brain.ts";

/** Values of `deno task train --teacher`. */
export const TEACHERS = [
  "predictor",
  "oracle",
  "oracle-shuffled",
  "oracle-perturbed",
  "oracle-adversarial",
  "oracle-adversarial-head",
  "oracle-adversarial-sham",
] as const;
/** A teacher that is the simulated brain itself. */
export type OracleMode = Exclude<(typeof TEACHERS)[number], "predictor">;

/** The default δ of the modes that perturb (L∞ radius on [0, 1] pixels). */
export const ORACLE_EPSILON = 8 / 255;

/** The modes with a δ (`--teacher-eps`), in the order the README's amendments introduced them. */
export const PERTURBING_MODES: readonly OracleMode[] = [
  "oracle-perturbed",
  "oracle-adversarial",
  "oracle-adversarial-head",
  "oracle-adversarial-sham",
];

/** The modes whose δ is the student's head attack (`head_attack.ts`). */
export const ADVERSARIAL_MODES: readonly OracleMode[] = [
  "oracle-adversarial",
  "oracle-adversarial-head",
  "oracle-adversarial-sham",
];

/** The modes where only the neural head sees x + δ: a step is two passes (CE on x, MSE on x + δ). */
export const HEAD_ONLY_MODES: readonly OracleMode[] = ["oracle-adversarial-head", "oracle-adversarial-sham"];

/** What the {@link ADVERSARIAL_MODES} ask of the student (BatchNorm in train mode, as in its step). */
export interface StudentProbe {
  /** Moves a start in the ε-ball against the student's head, given the clean images' targets. */
  attack(start: Float32Array, cleanTargets: Float32Array): Promise<Float32Array>;
  /** The student's neural head on a batch of images (N×K). */
  head(images: Float32Array): Promise<Float32Array>;
}

/** Mean L2 distances, per image, that the head and the ROI's target moved under δ since the last read. */
export interface Movement {
  head: number;
  target: number;
}

/** Turns a batch into what the student sees and the targets it is regressed onto. */
export interface OracleTeacher {
  mode: OracleMode;
  /** ROI of the prepared file. */
  roi: string;
  /** Target width (the prepared file's K). */
  k: number;
  /** δ radius of the {@link PERTURBING_MODES} (0 otherwise). */
  epsilon: number;
  /**
   * For a training batch (N×3×size×size, first `count` rows real): the images to train on (perturbed for
   * `oracle-perturbed` and `oracle-adversarial`, else the same array), the N×K targets (zero rows for
   * padding) and, for the {@link HEAD_ONLY_MODES}, the perturbed images only the neural head sees. `student`
   * is required by the {@link ADVERSARIAL_MODES} (`head_attack.ts`).
   */
  trainBatch(
    images: Float32Array,
    count: number,
    size: number,
    student?: StudentProbe,
  ): Promise<{ images: Float32Array; targets: Float32Array; headImages?: Float32Array }>;
  /** The oracle's targets for the clean images themselves (validation: how well the head tracks the brain). */
  targets(images: Float32Array, count: number, size: number): Float32Array;
  /**
   * `oracle-adversarial-sham` only: the movement under δ averaged over the batches since the last call (then
   * reset), or null when none ran; undefined for the other modes.
   */
  movement?(): Movement | null;
}

/** Where an oracle teacher comes from. */
export interface OracleOptions {
  mode: OracleMode;
  /** The simulated world (`deno task synth --out`). */
  sim: string;
  /** A prepared ROI file of that world (`deno task nsd-prep`): voxels, z-score and PCA of the targets. */
  prepared: string;
  /** δ radius of the {@link PERTURBING_MODES} (default {@link ORACLE_EPSILON}). */
  epsilon?: number;
  /** Seed of the δ draws. */
  seed: number;
}

/**
 * Builds an oracle teacher: the world's brain (rebuilt from its folder) read at the prepared file's voxels.
 * The expected repeat-averaged beta amplitude·σ_signal·signal(x) (the baseline cancels against the z-score's
 * mean, as the betas' session offsets average out) is divided by the prepared z-score SD, then projected with
 * the prepared PCA, so targets live in the same units as the predictor's.
 *
 * @example
 * ```ts
 * import type { LabeledBatch } from "./guided.ts";
 * // The targets of a batch of 32-px images, from a world (`deno task synth`) and its prepared TO file.
 * async function oracleTargets(sim: string, prepared: string, batch: LabeledBatch) {
 *   const teacher = await loadOracleTeacher({ mode: "oracle", sim, prepared, seed: 0 });
 *   return await teacher.trainBatch(batch.images, batch.count, 32); // { images, targets: N × teacher.k }
 * }
 * ```
 */
export async function loadOracleTeacher(o: OracleOptions): Promise<OracleTeacher> {
  const p = await readProjection(o.prepared);
  const brain = await loadSimulatedBrain(o.sim, p.subject);
  let respond: ReturnType<typeof responder>;
  try {
    respond = responder(brain, p.voxelIndex, "beta");
  } catch (e) {
    throw new UserError(`${o.prepared} does not match the world ${o.sim} (${(e as Error).message})`);
  }
  const V = p.voxelIndex.length, K = p.k;
  const epsilon = PERTURBING_MODES.includes(o.mode) ? o.epsilon ?? ORACLE_EPSILON : 0;
  const rng = new Random(`oracle-teacher/${o.seed}`);
  const moved = { head: 0, target: 0, images: 0 };

  const targets = (images: Float32Array, count: number, size: number, source = (n: number) => n) => {
    const plane = 3 * size * size, N = images.length / plane;
    const out = new Float32Array(N * K), z = new Float64Array(V);
    for (let n = 0; n < count; n++) {
      const beta = respond(images, size, source(n) * plane);
      for (let v = 0; v < V; v++) z[v] = beta[v] / (p.zscoreStd[v] + ZSCORE_EPSILON) - p.pcaMean[v];
      for (let j = 0; j < K; j++) {
        let s = 0;
        for (let v = 0; v < V; v++) s += z[v] * p.components[j * V + v];
        out[n * K + j] = s;
      }
    }
    return out;
  };
  return {
    mode: o.mode,
    roi: p.roi,
    k: K,
    epsilon,
    targets: (images, count, size) => targets(images, count, size),
    ...(o.mode === "oracle-adversarial-sham"
      ? {
        movement() {
          if (moved.images === 0) return null;
          const mean = { head: moved.head / moved.images, target: moved.target / moved.images };
          Object.assign(moved, { head: 0, target: 0, images: 0 });
          return mean;
        },
      }
      : {}),
    async trainBatch(images, count, size, student) {
      if (o.mode === "oracle") return { images, targets: targets(images, count, size) };
      if (o.mode === "oracle-shuffled") {
        return { images, targets: targets(images, count, size, (n) => (n + 1) % count) };
      }
      if (o.mode === "oracle-perturbed") {
        const perturbed = Float32Array.from(
          images,
          (x) => Math.min(1, Math.max(0, x + (rng.chance(0.5) ? epsilon : -epsilon))),
        );
        return { images: perturbed, targets: targets(perturbed, count, size) };
      }
      if (!student) throw new Error(`${o.mode}: trainBatch needs the student's head attack`);
      const start = Float32Array.from(
        images,
        (x) => Math.min(1, Math.max(0, x + rng.uniform(-epsilon, epsilon))),
      );
      const clean = targets(images, count, size);
      const adversarial = await student.attack(start, clean);
      const onAdversarial = targets(adversarial, count, size);
      if (o.mode === "oracle-adversarial") return { images: adversarial, targets: onAdversarial };
      if (o.mode === "oracle-adversarial-head") {
        return { images, targets: onAdversarial, headImages: adversarial };
      }
      const headClean = await student.head(images), headMoved = await student.head(adversarial);
      const sham = new Float32Array(clean.length);
      for (let n = 0; n < count; n++) {
        let head = 0, target = 0;
        for (let j = n * K; j < (n + 1) * K; j++) {
          const dHead = headMoved[j] - headClean[j];
          sham[j] = clean[j] + dHead;
          head += dHead ** 2;
          target += (onAdversarial[j] - clean[j]) ** 2;
        }
        moved.head += Math.sqrt(head);
        moved.target += Math.sqrt(target);
      }
      moved.images += count;
      return { images, targets: sham, headImages: adversarial };
    },
  };
}

/** The parts of a prepared ROI file that map voxel responses to its targets. */
interface Projection {
  roi: string;
  subject: number;
  k: number;
  voxelIndex: Int32Array;
  zscoreStd: Float64Array;
  /** K×V components and their mean (identity and zeros when the file holds z-scored voxels). */
  components: Float64Array;
  pcaMean: Float64Array;
}

async function readProjection(path: string): Promise<Projection> {
  await h5wasm.ready;
  if (!(await Deno.stat(path).catch(() => null))) {
    throw new UserError(`--prepared ${path}: no such file (make one with deno task nsd-prep)`);
  }
  const f = new h5wasm.File(path, "r");
  try {
    const values = (name: string) => {
      const item = f.get(name);
      return item instanceof h5wasm.Dataset ? item.value : null;
    };
    const voxelIndex = values("voxel_index"), zscoreStd = values("zscore_std");
    if (!(voxelIndex instanceof Int32Array) || !(zscoreStd instanceof Float64Array)) {
      throw new UserError(
        `${path} is not a prepared ROI file (no voxel_index/zscore_std); rerun deno task nsd-prep`,
      );
    }
    const V = voxelIndex.length;
    const stored = values("pca_components"), mean = values("pca_mean");
    const k = stored instanceof Float64Array ? stored.length / V : V;
    const components = stored instanceof Float64Array
      ? stored
      : Float64Array.from({ length: V * V }, (_, i) => (i % (V + 1) === 0 ? 1 : 0));
    const attr = (name: string) => f.attrs[name]?.value;
    return {
      roi: String(attr("roi") ?? "unknown"),
      subject: Number(attr("subject") ?? 1),
      k,
      voxelIndex,
      zscoreStd,
      components,
      pcaMean: mean instanceof Float64Array ? mean : new Float64Array(V),
    };
  } finally {
    f.close();
  }
}
