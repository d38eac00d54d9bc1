/**
 * The training data pipeline: labelled image sources, torchvision's transforms, and a seeded, resumable,
 * prefetching batch loader with an optional worker pool.
 *
 * - Sources ({@link ImageSource}): {@link openImageFolder} (PNG/JPEG, `--classes` lists via
 *   {@link readClassList}), {@link openCifar100} (binary version), {@link openImageSource} for the `--data`
 *   specs `sim[:DIR]`, `imagefolder:DIR`, `cifar100:DIR`; {@link PredictorDataset} pairs NSD stimuli with a
 *   prepared ROI's PCA scores.
 * - Transforms ({@link Transform}): `train` = RandomResizedCrop + flip, `val` = Resize(size·256/224) +
 *   CenterCrop, `none`; Pillow's antialiased bilinear resampling.
 * - {@link BatchLoader}: batches `{ images (NCHW float32 in [0, 1]), labels, indices, count }`, identical
 *   whatever the worker count, and resumable at any batch.
 *
 * @example
 * ```ts
 * import { BatchLoader, openImageSource } from "./lib/data/images/mod.ts";
 * const train = await openImageSource("sim", "train");
 * using loader = new BatchLoader(train, { transform: { kind: "train", size: 64 }, batch: 64, seed: 0 });
 * for (let epoch = 0; epoch < 2; epoch++) {
 *   for await (const batch of loader.epoch(epoch)) console.log(batch.count, batch.labels[0]);
 * }
 * ```
 * @module
 */
export { decodeImage, type PlanarImage } from "./decode.ts";
export {
  type ArrayDescriptor,
  type FilesDescriptor,
  type ImageSource,
  openDescribed,
  type SourceDescriptor,
} from "./source.ts";
export { ImageFiles } from "./image_files.ts";
export { ImageArray, sharedBytes } from "./image_array.ts";
export { type ImageFolderOptions, openImageFolder, readClassList } from "./image_folder.ts";
export { CIFAR100_RECORD_BYTES, openCifar100 } from "./cifar100.ts";
export { DEFAULT_SIM_ROOT, openImageSource, SOURCE_SPECS, type SpecOptions, type Split } from "./spec.ts";
export {
  type Box,
  centerCropBox,
  crop,
  randomResizedCropBox,
  resize,
  resizeShorterSize,
  roundHalfEven,
  type Transform,
  transformInto,
  writeChw,
} from "./transforms.ts";
export { type BatchJob, buildBatch, type ImageBatch } from "./batch.ts";
export { BatchLoader, defaultWorkers, type LoaderOptions } from "./loader.ts";
export { PredictorDataset, type PredictorDatasetOptions, type TargetBatch } from "./predictor_dataset.ts";
export { type EvalSet, loadEvalSet } from "./eval_set.ts";
