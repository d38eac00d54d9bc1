/**
 * Puts a run's headline numbers in context for the end-of-run summary: accuracy against chance and a matched
 * baseline, the predictor's r against what the ROI's noise ceiling allows, and a plain warning when the
 * predictor is too weak for guidance to carry brain information.
 * @module
 */

/**
 * Below this mean per-image r the predictor explains under 1 % of the ROI's response pattern: its outputs are
 * close to noise, so training towards them cannot make a model more brain-like.
 */
export const WEAK_PREDICTOR_R = 0.1;

/**
 * A predictor below this fraction of the r its noise ceiling allows explains under 1/16 of the explainable
 * variance, also too little for guidance to carry the ROI's information.
 */
export const WEAK_FRACTION_OF_CEILING = 0.25;

/** The numbers {@link contextLines} relates. */
export interface RunContext {
  /** Validation accuracy of the model. */
  accuracy: number;
  classes: number;
  /** A matched baseline's validation accuracy and where it came from (null: none found). */
  baseline?: { accuracy: number; source: string } | null;
  /** The command that would train the matched baseline (shown when there is none). */
  baselineCommand?: string;
  /** The predictor's mean per-image r on held-out images (absent for models without a predictor). */
  predictorR?: number | null;
  /** The ROI's mean voxel noise ceiling in % (null: unknown). */
  noiseCeiling?: number | null;
}

/** A number with three decimals, as the summaries print them. */
const f3 = (x: number) => x.toFixed(3);

/**
 * Lines for the summary, each a plain sentence.
 *
 * @example
 * ```ts
 * contextLines({ accuracy: 0.285, classes: 10, predictorR: 0.05, noiseCeiling: 30 });
 * ```
 */
export function contextLines(c: RunContext): string[] {
  const chance = 1 / c.classes;
  const lines = [
    `chance is ${f3(chance)} (${c.classes} classes): accuracy ${f3(c.accuracy)} is ${
      Number((c.accuracy * c.classes).toPrecision(3))
    }× chance`,
  ];
  if (c.baseline) {
    const gap = c.accuracy - c.baseline.accuracy;
    lines.push(
      `matched None baseline ${f3(c.baseline.accuracy)} (${c.baseline.source}): this model is ${
        gap >= 0 ? "+" : "−"
      }${f3(Math.abs(gap))} against it`,
    );
  } else if (c.baselineCommand) {
    lines.push(`no matched None baseline to compare with; train one: ${c.baselineCommand}`);
  }
  if (c.predictorR !== undefined && c.predictorR !== null) {
    const ceiling = c.noiseCeiling !== null && c.noiseCeiling !== undefined && Number.isFinite(c.noiseCeiling)
      ? c.noiseCeiling
      : null;
    lines.push(
      ceiling === null
        ? `predictor r ${f3(c.predictorR)} (mean per held-out image; no noise ceiling recorded)`
        : `predictor r ${f3(c.predictorR)} (mean per held-out image) against about ${
          f3(Math.sqrt(ceiling / 100))
        } that a perfect model could reach (√ of the ROI's mean voxel noise ceiling, ${
          ceiling.toFixed(1)
        } %)`,
    );
    const reachable = ceiling === null ? null : Math.sqrt(ceiling / 100);
    const why = c.predictorR < WEAK_PREDICTOR_R
      ? `r ${f3(c.predictorR)} < ${WEAK_PREDICTOR_R} explains under 1 % of the ROI's response pattern`
      : reachable !== null && c.predictorR < WEAK_FRACTION_OF_CEILING * reachable
      ? `r ${f3(c.predictorR)} is under a quarter of the ${
        f3(reachable)
      } the noise ceiling allows (under 1/16 ` +
        `of the explainable variance)`
      : null;
    if (why) {
      lines.push(
        `the predictor is too weak for guidance to mean anything: ${why}, so the model was pulled towards ` +
          `noise, not towards the brain; train the predictor longer or on more images before comparing guided ` +
          `models`,
      );
    }
  }
  return lines;
}
