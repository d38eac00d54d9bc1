/**
 * neuroguide: train image classifiers whose representation is pulled toward human ventral-stream fMRI (NSD),
 * on WebGPU, and measure what that neural guidance does.
 *
 * This module is what a notebook or another project needs: the GPU context, models, training steps and
 * runs, checkpoints, the NSD readers and preparation, the attacks, the analyses, and the report's tables and
 * charts. Each area has its own entry point with everything else it offers — `lib/gpu/mod.ts`,
 * `lib/ops/mod.ts`, `lib/nn/mod.ts`, `lib/optim/mod.ts`, `lib/train/mod.ts`, `lib/io/mod.ts`,
 * `lib/data/nsd/mod.ts`, `lib/data/synth/mod.ts`, `lib/data/images/mod.ts`, `lib/analysis/mod.ts`,
 * `lib/attacks/mod.ts`, `lib/plot/mod.ts`, `lib/report/mod.ts`. Other files are internal (see
 * `docs/CONVENTIONS.md`); the method is explained in `docs/method.md`.
 *
 * @example Train a tiny model for one step and read its logits
 * ```ts
 * import { getGpu, modelConfig, Plan, TrainStep } from "./mod.ts";
 * const gpu = await getGpu();
 * const batch = 4;
 * const plan = await Plan.create(gpu, modelConfig("mlp", { classes: 3, imageSize: 4, channels: 1 }), batch);
 * plan.initialize(0);
 * const step = await TrainStep.create(gpu, plan, { kind: "sgd", momentum: 0.9 }, { kind: "guide", alpha: 0 });
 * const images = new Float32Array(batch * 1 * 4 * 4).map((_, i) => (i % 7) / 7); // NCHW in [0, 1]
 * plan.setInput(images);
 * gpu.write(step.labels, new Uint32Array([0, 1, 2, 0]));
 * await step.run(0.1);
 * console.log(await step.flush()); // [{ step: 1, total: …, ce: …, correct: … }]
 * gpu.submit(plan.forward("eval"));
 * console.log(await plan.read(plan.model.logits)); // batch × 3 logits
 * ```
 * @module
 */

// Errors: every error a user can fix derives from UserError (one-line message)
export { UsageError, UserError } from "./lib/errors.ts";

// GPU
export { type AdapterKind, getGpu, Gpu, GpuError } from "./lib/gpu/mod.ts";
export { ShapeError } from "./lib/ops/mod.ts";

// Models, plans, training steps, checkpoints
export {
  type ArchitectureName,
  ARCHITECTURES,
  type Checkpoint,
  IMAGENET_MEAN,
  IMAGENET_STD,
  loadCheckpoint,
  type Mode,
  type ModelConfig,
  modelConfig,
  NonFiniteLossError,
  type Objective,
  type OptimizerOptions,
  Plan,
  saveCheckpoint,
  type StepLosses,
  TrainStep,
} from "./lib/nn/mod.ts";

// Training: the paper's trainers, whole runs, the demo, classification data
export {
  createGuidedTrainer,
  createPredictorTrainer,
  type GuidedRunOptions,
  type GuidedSetup,
  type GuidedSummary,
  type GuidedTrainer,
  openClassificationData,
  type PredictorRunOptions,
  type PredictorSetup,
  type PredictorTrainer,
  runDemo,
  trainGuidedRun,
  trainPredictorRun,
} from "./lib/train/mod.ts";

// Files
export { readSafetensors, type Safetensors, SafetensorsError, writeSafetensors } from "./lib/io/mod.ts";
export { Random } from "./lib/random.ts";

// Data: NSD readers and preparation, the simulated world, image sources
export {
  loadRoi,
  NsdFormatError,
  type NsdPaths,
  nsdPaths,
  type PrepareOptions,
  prepareRoi,
  readExpDesign,
  readPreparedTargets,
  readStimuli,
  ROI_DEFINITIONS,
} from "./lib/data/nsd/mod.ts";
export { ensureSimWorld, type SimWorldOptions } from "./lib/data/synth/mod.ts";
export {
  BatchLoader,
  type ImageBatch,
  type ImageSource,
  openImageSource,
  readClassList,
} from "./lib/data/images/mod.ts";

// Analyses
export {
  categoryDecisions,
  cka,
  classicalMds,
  type CompareMethod,
  compareRdms,
  compareRdmSets,
  fromRows,
  landscape,
  linearSeparability,
  manifoldAnalysis,
  type Matrix,
  modelFeatures,
  parseCueConflict,
  rdm,
  type RdmMethod,
  readFeatures,
  shapeBias,
  smoothness,
} from "./lib/analysis/mod.ts";

// Attacks
export {
  ATTACK_NAMES,
  type AttackModel,
  AttackOps,
  type AttackUnit,
  attackUnit,
  type Check,
  cleanCorrect,
  computeChecks,
  createAttackModel,
  type Norm,
  sweep,
  type SweepOptions,
  type SweepRow,
} from "./lib/attacks/mod.ts";

// Plots and sweep reports
export { type ChartOptions, Plot, PlotRenderError, renderSvg, svgToPng } from "./lib/plot/mod.ts";
export {
  attackNames,
  ckaChart,
  collectResults,
  curves,
  gainChart,
  gainsOverNone,
  hierarchyTrend,
  landscapeChart,
  landscapeSlice,
  landscapeTable,
  manifoldChart,
  manifoldPoints,
  matrixTable,
  mdsChart,
  orderModels,
  referenceAttack,
  type Results,
  robustChart,
  robustTable,
  rsaChart,
  shapeBiasChart,
  smoothnessChart,
  smoothnessTable,
  type Table,
  toCsv,
  toMarkdown,
  transferChart,
  transferMatrix,
  transferTable,
  writeReport,
} from "./lib/report/mod.ts";

// Notebooks
export {
  DEFAULT_RESULTS,
  NOTEBOOK_SWEEP_COMMAND,
  resultsFolder,
  showChart,
  showTable,
} from "./lib/notebook/mod.ts";
