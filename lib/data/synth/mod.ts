/**
 * The simulated ventral-stream world: procedural shape/texture images, NSD-format stimuli, design, ROI volumes
 * and betas, plus classification and cue-conflict sets. See `README.md` in this folder for the generative model.
 *
 * @example
 * ```ts
 * import { ensureSimWorld, loadSimulatedBrain, simulatedResponses } from "./mod.ts";
 * // The world at `dir` (generated once, in minutes, then reused) and its oracle's TO response to `pixels`.
 * async function worldAndOracle(dir: string, pixels: Float32Array) {
 *   const world = await ensureSimWorld(dir);
 *   console.log(world.classes, world.subjects[0].noiseCeiling.TO, world.subjects[0].sensitivity.TO);
 *   const brain = await loadSimulatedBrain(dir, 1); // the noise-free response function, as an oracle
 *   return simulatedResponses(brain, "TO", pixels, 32); // pixels: N×3×32×32 in [0, 1] → N × TO voxels
 * }
 * ```
 * @module
 */
export {
  ensureSimWorld,
  generateSimWorld,
  loadSimulatedBrain,
  MANIFEST_NAME,
  resolveSimWorldOptions,
  SIM_PATHS,
  SIM_WORLD_DEFAULTS,
  SIM_WORLD_VERSION,
  type SimWorldConfig,
  type SimWorldManifest,
  type SimWorldOptions,
} from "./world.ts";
export { Random } from "../../random.ts";
export {
  buildAtlas,
  buildSimulatedBrain,
  NC_TARGETS,
  noiseCeiling,
  type ResponseUnits,
  type SimulatedBrain,
  simulatedResponses,
  simulatedRoiVoxels,
  voxelResponses,
} from "./brain.ts";
export { KASTNER_NAMES, PRF_NAMES, ROI_LABELS, type RoiName, STREAMS_NAMES } from "../nsd/roi.ts";
export {
  FEATURE_GRID,
  gaborEnergy,
  type Knobs,
  resampleToGrid,
  rgbToPixels,
  ROI_KNOBS,
  type StageRoi,
  toGrid,
} from "./features.ts";
export { measureSensitivity, type Sensitivity, SENSITIVITY_DEFAULTS } from "./sensitivity.ts";
export {
  type Inside,
  type RenderedImage,
  renderScene,
  type Rgb,
  sampleScene,
  type SceneSpec,
  SHAPES,
  textureName,
} from "./images.ts";
export { encodeNifti1, type NiftiImage, writeNiftiGz } from "./nifti_write.ts";
export { encodeMatV5, MAT_CLASSES, type MatVariable } from "./mat_write.ts";
