/**
 * NSD data layer: readers for the files of a Natural Scenes Dataset download exactly as NSD ships them (betas
 * HDF5/NIfTI, ROI volumes, `nsd_expdesign.mat` / `nsd_stim_info_merged.csv`, `nsd_stimuli.hdf5`) and the
 * neural-data preparation of `docs/method.md#data-preparation` (`prepareRoi`). All image ids are 0-based 73k
 * ids (`imgBrick` row); voxel indices are flat `x + X*(y + Y*z)`. Every format problem is an
 * {@link NsdFormatError} with a one-line message naming the file and the fix.
 *
 * @example
 * ```ts
 * import { loadRoi, nsdPaths, prepareRoi, readExpDesign, readStimuli } from "./mod.ts";
 * // The pieces of an NSD download, read one by one.
 * async function tour(nsdRoot: string) {
 *   const paths = nsdPaths(nsdRoot, 1);
 *   const roi = await loadRoi(paths, "V1");
 *   const design = await readExpDesign(paths);
 *   const prepared = await prepareRoi({ nsd: nsdRoot, subject: 1, roi: "V1", sessions: [1, 2, 3] });
 *   const images = await readStimuli(paths.stimuli, prepared.valIds.slice(0, 8), { size: 227 });
 *   return { roi, design, prepared, images };
 * }
 * ```
 * @module
 */
export { NsdFormatError } from "./errors.ts";
export {
  betaSessionName,
  DEFAULT_BETAS_VERSION,
  type NsdPaths,
  nsdPaths,
  requireFile,
  subjectFolder,
} from "./paths.ts";
export {
  assertSameGrid,
  type GridInfo,
  NIFTI1_HEADER_BYTES,
  NIFTI1_MIN_VOX_OFFSET,
  NIFTI1_OFFSETS,
  NIFTI_DATATYPES,
  type NiftiInfo,
  NSD_FUNC_GRIDS,
  parseNiftiHeader,
  readNiftiVolume,
  streamNiftiVolumes,
} from "./nifti.ts";
export { type MatArray, parseMat5, readMat5 } from "./mat5.ts";
export {
  type ExpDesign,
  NSD_IMAGE_COUNT,
  readExpDesign,
  readExpDesignMat,
  readStimInfoCsv,
  splitCsvLine,
} from "./expdesign.ts";
export {
  loadRoi,
  referenceVoxelOrder,
  ROI_DEFINITIONS,
  type RoiDefinition,
  roiDefinition,
  type RoiMask,
  type RoiSpec,
} from "./roi.ts";
export {
  BETA_SCALE,
  type BetaSession,
  type BetaSessionInfo,
  betaSessionInfo,
  compactRange,
  listBetaSessions,
  readSessionBetas,
  selectSessions,
} from "./betas.ts";
export { NSD_STIMULUS_SIZE, readStimuli, resizeBilinearPil, type StimulusOptions } from "./stimuli.ts";
export { fitPca, fixSigns, type PcaFit, type PcaSize, pcaTransform } from "../../linalg/pca.ts";
export { type SymmetricEigen, symmetricEigen } from "../../linalg/eigen.ts";
export { crossProduct, productABt } from "../../linalg/product.ts";
export {
  averageRepeats,
  finiteMeanSd,
  noiseCeilingPerVoxel,
  type PreparedRoi,
  type PrepareOptions,
  prepareRoi,
  type RepeatAverage,
  shufflePairing,
  signalEigenvalueFloor,
  splitRows,
  writePreparedRoi,
  ZSCORE_EPSILON,
  zscoreWithTrainStats,
} from "./prep.ts";
export { type PreparedTargets, readPreparedTargets } from "./prepared.ts";
