/**
 * The simulated ventral-stream world: procedural shape/texture images, NSD-format stimuli, design, ROI volumes
 * and betas, plus classification and cue-conflict sets. See `README.md` in this folder for the generative model.
 *
 * @example
 * ```ts
 * import { ensureSimWorld } from "./mod.ts";
 * // The simulated world under data/sim: generated on the first call (minutes), then reused.
 * async function world() {
 *   const manifest = await ensureSimWorld("data/sim");
 *   console.log(manifest.classes, manifest.subjects[0].noiseCeiling.TO);
 * }
 * ```
 * @module
 */
export {
  ensureSimWorld,
  generateSimWorld,
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
export { NC_TARGETS, noiseCeiling } from "./brain.ts";
export { KASTNER_NAMES, PRF_NAMES, ROI_LABELS, type RoiName, STREAMS_NAMES } from "../nsd/roi.ts";
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
