/**
 * A sweep's results folder (robustness and the analyses under `analyses/`) as tables, charts and `report.md`: {@link collectResults} reads the folder,
 * the table builders and chart specs turn it into Markdown/CSV and Observable Plot charts (render them with
 * lib/plot), and {@link writeReport} writes the whole report.
 *
 * @example Robust-accuracy curves of a sweep, as an SVG
 * ```ts
 * import { collectResults, curves, robustChart } from "./mod.ts";
 * import { renderSvg } from "../plot/mod.ts";
 * // Robust-accuracy curves of a sweep's results folder under PGD, as an SVG.
 * async function pgdCurves(dir: string) {
 *   const results = await collectResults(dir);
 *   return renderSvg(robustChart("pgd", curves(results, "pgd")));
 * }
 * ```
 * @module
 */
export {
  type AttackRow,
  collectResults,
  type LandscapeResult,
  type ManifoldRow,
  type MatrixResult,
  type ModelResult,
  orderModels,
  type Results,
  type RsaResult,
  type SmoothnessRow,
  type TransferResult,
} from "./collect.ts";
export {
  attackNames,
  type Curve,
  curves,
  type Gain,
  gainsOverNone,
  hierarchyTrend,
  landscapeSlice,
  landscapeTable,
  type ManifoldPoint,
  manifoldPoints,
  matrixTable,
  modelTable,
  referenceAttack,
  robustTable,
  smoothnessTable,
  type Table,
  toCsv,
  toMarkdown,
  transferMatrix,
  transferTable,
} from "./tables.ts";
export {
  ckaChart,
  gainChart,
  landscapeChart,
  manifoldChart,
  matrixChart,
  mdsChart,
  robustChart,
  rsaChart,
  shapeBiasChart,
  smoothnessChart,
  transferChart,
} from "./figures.ts";
export { type ReportOutput, writeReport } from "./write.ts";
export {
  type AccuracyPoint,
  type BootstrapInterval,
  bootstrapInterval,
  hierarchyCorrelation,
  type HierarchyTrend,
  interpolateRobust,
  matchedGain,
  matchedGainWithInterval,
  type MatchedInput,
  normalizeAcc,
  type Outcomes,
  permutationP,
  resampleIndices,
  spearman,
} from "./stats.ts";
export {
  type ConfigStats,
  type HeadShamPair,
  headShamPairs,
  type MatchedResults,
  matchedResults,
  readOutcomes,
  type ShamContrast,
} from "./matched.ts";
export { type ControlCheck, type ControlRole, type ControlsVerdict, controlsVerdict } from "./controls.ts";
