/**
 * Representational-geometry analyses for notebooks and `deno task analyze`: RSA (rsatoolbox definitions),
 * CKA (linear and unbiased), MFTMA manifold capacity/radius/dimension with linear separability, and
 * Geirhos shape bias. Feature matrices are row-major stimuli × features ({@link Matrix}). Model-side
 * analyses (`model.ts`) read features from a {@link Plan}, measure output-surface smoothness and loss
 * landscapes through the attack machinery, and turn a model's decisions into shape-bias trials.
 *
 * @example
 * ```ts
 * import { cka, compareRdms, fromRows, rdm } from "./mod.ts";
 * const x = fromRows([[1, 2, 3], [2, 0, 1], [0, 1, 4], [3, 3, 0]]);
 * const y = fromRows([[0.5, 1], [1, -1], [2, 0], [0, 3]]);
 * const rho = compareRdms(await rdm(x, "correlation"), await rdm(y, "correlation"), "spearman");
 * const linear = await cka(x, y);
 * console.log(rho, linear);
 * ```
 * @module
 */
export { centreColumns, fromRows, type Matrix, matrix, selectRows } from "./matrix.ts";
export { GPU_MIN_WORK, gram, gramCpu, type GramOptions } from "./gram.ts";
export {
  averageRanks,
  classicalMds,
  COMPARE_METHODS,
  type CompareMethod,
  compareRdms,
  compareRdmSets,
  type CrossnobisOptions,
  crossnobisRdm,
  type MdsResult,
  rdm,
  RDM_METHODS,
  type RdmMethod,
  rdmSize,
  squareForm,
} from "./rsa.ts";
export { centredGram, cka, ckaFromGrams, type CkaOptions } from "./cka.ts";
export {
  manifoldAnalysis,
  type ManifoldGeometry,
  type ManifoldOptions,
  type ManifoldSummary,
} from "./manifold.ts";
export { linearSeparability, type SeparabilityOptions, type SeparabilityResult } from "./separability.ts";
export {
  categoryDecisions,
  type CueConflict,
  type CueConflictTrial,
  parseCueConflict,
  shapeBias,
  type ShapeBiasCounts,
  type ShapeBiasResult,
} from "./shape_bias.ts";
export { type NamedMatrix, readFeatures, readLabels } from "./features_io.ts";
export {
  cueConflictTrials,
  type FeatureTable,
  landscape,
  LANDSCAPE_DIRECTIONS,
  type LandscapeDirections,
  type LandscapeGrid,
  modelFeatures,
  smoothness,
  type SmoothnessPoint,
} from "./model.ts";
