/**
 * Training: the paper's two trainers as objects you drive batch by batch ({@link createPredictorTrainer}:
 * image → ROI PCA scores; {@link createGuidedTrainer}: a classifier whose neural head is regressed onto a
 * frozen predictor, or pulled into per-class manifolds), whole runs into a run folder with checkpoints and
 * exact resume ({@link trainPredictorRun}, {@link trainGuidedRun}), the embedded demo ({@link runDemo}),
 * classification data by name ({@link openClassificationData}: `sim`, `imagefolder:DIR`, `cifar100:DIR`),
 * manifold-guidance statistics and the metrics the runs log.
 *
 * The method behind these is `docs/method.md`. `loop.ts` (the epoch loop) and `run_dir.ts` (run-folder
 * files) are internal.
 *
 * @example Per-image Pearson correlations of predictions with targets
 * ```ts
 * import { rowCorrelations } from "./mod.ts";
 * const predicted = new Float32Array([1, 2, 3, 3, 2, 1]);
 * const measured = new Float32Array([2, 4, 6, 1, 2, 3]);
 * console.log(rowCorrelations(predicted, measured, 2, 3)); // [1, -1]
 * ```
 * @module
 */
export {
  BASELINES,
  CONTROL_SEED,
  createGuidedTrainer,
  type GuidedSetup,
  type GuidedTrainer,
  type LabeledBatch,
  RANDOM_PREDICTOR_DIM,
} from "./guided.ts";
export {
  COCO_MEAN,
  COCO_STD,
  createPredictorTrainer,
  type PredictorSetup,
  type PredictorTrainer,
} from "./predictor.ts";
export {
  type ClassificationData,
  type GuidedRunOptions,
  type GuidedSummary,
  MANIFOLD_STATS_FILE,
  trainGuidedRun,
} from "./guided_run.ts";
export { type PredictorRunOptions, type PredictorSummary, trainPredictorRun } from "./predictor_run.ts";
export { DEMO, type DemoResult, runDemo } from "./demo.ts";
export { type DataOptions, openClassificationData } from "./classification_data.ts";
export {
  loadManifoldTargets,
  manifoldTargets,
  predictorOutputs,
  saveManifoldTargets,
} from "./manifold_stats.ts";
export { columnCorrelations, crossEntropy, pearson, rowCorrelations, summarize } from "./metrics.ts";
