/**
 * Shape bias on Geirhos et al.'s (2019) cue-conflict stimuli, as bethgelab/model-vs-human scores it
 * (`docs/attacks-and-analyses.md#shape-bias`): among images whose shape and texture categories differ, the
 * fraction of shape decisions among decisions that match either the shape or the texture.
 *
 * File names follow the `shape-texture` convention of the stimulus set, e.g. `airplane1-bicycle2.png` or
 * `0001_cc_dnn_dog10-bird2.png`: the part after the last `_`, without extension, is `<shape><n>-<texture><n>`.
 * @module
 */

/** The shape and texture categories a cue-conflict image was made from. */
export interface CueConflict {
  shape: string;
  texture: string;
}

/**
 * Parses a cue-conflict file name (a path is fine): the texture is model-vs-human's rule — last `-` token of
 * the last `_` token, digits removed — and the shape is the first `-` token likewise.
 *
 * @example
 * ```ts
 * parseCueConflict("stimuli/cat/cat1-elephant2.png"); // { shape: "cat", texture: "elephant" }
 * ```
 */
export function parseCueConflict(file: string): CueConflict {
  const base = file.split(/[\\/]/).pop() ?? file;
  const stem = (base.split("_").pop() ?? base).split(".")[0];
  const parts = stem.split("-");
  const strip = (token: string) => token.replace(/\d/g, "");
  const shape = strip(parts[0]), texture = strip(parts[parts.length - 1]);
  if (parts.length < 2 || !shape || !texture) {
    throw new RangeError(`shape bias: '${file}' is not a cue-conflict name like 'cat1-elephant2.png'`);
  }
  return { shape, texture };
}

/** One model decision on a cue-conflict image. */
export interface CueConflictTrial {
  /** The image's file name (parsed by {@link parseCueConflict}). */
  file: string;
  /** The decided category: a name, or an index into `classNames`. */
  decision: string | number;
  /** The shape category when known from elsewhere (model-vs-human uses the image's folder); else parsed. */
  shape?: string;
}

/** Counts and shape bias of a set of trials. */
export interface ShapeBiasCounts {
  /** #shape / (#shape + #texture); `null` when both counts are 0 (undefined). */
  shapeBias: number | null;
  /** Decisions equal to the shape category. */
  shape: number;
  /** Decisions equal to the texture category. */
  texture: number;
  /** Decisions matching neither (counted in neither fraction). */
  neither: number;
  /** Images left out because shape = texture (no cue conflict). */
  excluded: number;
}

/** Result of {@link shapeBias}: overall and per shape category (sorted by name). */
export interface ShapeBiasResult extends ShapeBiasCounts {
  perClass: Record<string, ShapeBiasCounts>;
}

/**
 * Shape bias overall and per shape category. With `classNames`, numeric decisions are mapped through it and
 * every category (shape, texture, decision) must be one of its names — this catches a class-order mix-up.
 *
 * @example
 * ```ts
 * const result = shapeBias([
 *   { file: "cat1-elephant2.png", decision: "cat" },
 *   { file: "dog3-clock1.png", decision: "clock" },
 * ]);
 * result.shapeBias; // 0.5
 * ```
 */
export function shapeBias(
  trials: readonly CueConflictTrial[],
  classNames?: readonly string[],
): ShapeBiasResult {
  const known = classNames ? new Set(classNames) : null;
  const check = (name: string, what: string, file: string) => {
    if (known && !known.has(name)) {
      throw new RangeError(`shape bias: ${what} '${name}' of '${file}' is not a known class`);
    }
  };
  const empty = (): ShapeBiasCounts => ({ shapeBias: null, shape: 0, texture: 0, neither: 0, excluded: 0 });
  const overall = empty();
  const perClass: Record<string, ShapeBiasCounts> = {};
  for (const trial of trials) {
    const parsed = parseCueConflict(trial.file);
    const shape = trial.shape ?? parsed.shape, texture = parsed.texture;
    let decision = trial.decision;
    if (typeof decision === "number") {
      if (!classNames || !Number.isInteger(decision) || decision < 0 || decision >= classNames.length) {
        throw new RangeError(`shape bias: decision ${decision} for '${trial.file}' has no class name`);
      }
      decision = classNames[decision];
    }
    check(shape, "shape", trial.file);
    check(texture, "texture", trial.file);
    check(decision, "decision", trial.file);
    const key = shape === texture
      ? "excluded"
      : decision === shape
      ? "shape"
      : decision === texture
      ? "texture"
      : "neither";
    for (const counts of [overall, perClass[shape] ??= empty()]) counts[key]++;
  }
  for (const counts of [overall, ...Object.values(perClass)]) {
    const decided = counts.shape + counts.texture;
    counts.shapeBias = decided > 0 ? counts.shape / decided : null;
  }
  const sorted = Object.fromEntries(Object.keys(perClass).sort().map((name) => [name, perClass[name]]));
  return { ...overall, perClass: sorted };
}

/**
 * The category decision of model-vs-human for a model with many outputs (e.g. 1,000 ImageNet logits):
 * softmax over the outputs, then each category's mean probability over its output indices, then argmax.
 * Returns the category index (into `categories`) for each of the `rows` rows of `logits`.
 *
 * @example
 * ```ts
 * const cats = [{ name: "knife", indices: [0] }, { name: "cat", indices: [1, 2] }];
 * const logits = new Float32Array([3, 0, 0, 0, 2, 2]); // 2 images × 3 ImageNet-style classes
 * const decisions = categoryDecisions(logits, 2, cats); // [0, 1]: knife, then cat
 * ```
 */
export function categoryDecisions(
  logits: ArrayLike<number>,
  rows: number,
  categories: readonly { name: string; indices: readonly number[] }[],
): Int32Array {
  const width = logits.length / rows;
  if (!Number.isInteger(width)) {
    throw new RangeError(`shape bias: ${logits.length} logits are not ${rows} rows`);
  }
  for (const c of categories) {
    if (c.indices.length === 0 || c.indices.some((i) => !Number.isInteger(i) || i < 0 || i >= width)) {
      throw new RangeError(`shape bias: category '${c.name}' has indices outside 0..${width - 1}`);
    }
  }
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity, total = 0;
    for (let k = 0; k < width; k++) max = Math.max(max, logits[r * width + k]);
    for (let k = 0; k < width; k++) total += Math.exp(logits[r * width + k] - max);
    let best = 0, bestValue = -Infinity;
    categories.forEach((c, i) => {
      const mean = c.indices.reduce((s, k) => s + Math.exp(logits[r * width + k] - max), 0) /
        c.indices.length / total;
      if (mean > bestValue) [best, bestValue] = [i, mean];
    });
    out[r] = best;
  }
  return out;
}
