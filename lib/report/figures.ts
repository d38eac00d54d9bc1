/**
 * The report's charts as Observable Plot specs (rendered by lib/plot): robust accuracy vs ε per model, gain
 * over None per model, smoothness vs ε, loss-landscape slices, the transfer / RSA / CKA matrices, MDS of the
 * RDMs, shape bias per model, and manifold geometry vs robustness gain. Series are labelled with text
 * marks, since HTML swatch legends cannot be exported (lib/plot/render.ts).
 * @module
 */
import { type ChartOptions, Plot } from "../plot/mod.ts";
import type { BrainRsaResult, MatrixResult, RsaResult, SmoothnessRow } from "./collect.ts";
import type { Curve, Gain, ManifoldPoint } from "./tables.ts";

/** The ε axis label, with the units when known (`normalized`: the paper's, ε · mean std in pixels). */
export function epsLabel(units: string | null = null): string {
  return units ? `ε (${units} units)` : "ε";
}

/** Robust accuracy vs ε, one line per model (legend order = `curves` order, i.e. the hierarchy). */
export function robustChart(
  attack: string,
  curves: Map<string, Curve>,
  epsUnits: string | null = null,
): ChartOptions {
  const data = [...curves].flatMap(([model, curve]) => curve.map((p) => ({ model, ...p })));
  return labelledLines(data, {
    title: `Robust accuracy vs ε — ${attack}`,
    x: "eps",
    y: "robust",
    xLabel: epsLabel(epsUnits),
    yLabel: "robust accuracy",
    yDomain: [0, 1],
    domain: [...curves.keys()],
  });
}

/** Max gain over None per model, bars in hierarchy order. */
export function gainChart(attack: string, gains: Gain[]): ChartOptions {
  return {
    title: `Max robust-accuracy gain over None — ${attack}`,
    width: 720,
    height: 360,
    marginBottom: 70,
    x: { label: null, domain: gains.map((g) => g.model), tickRotate: -35 },
    y: { label: "gain (robust accuracy − None's, best ε)", grid: true },
    marks: [
      Plot.barY(gains, { x: "model", y: "gain", fill: "steelblue" }),
      Plot.ruleY([0]),
      Plot.text(gains, { x: "model", y: "gain", text: (g: Gain) => g.gain.toFixed(3), dy: -6, fontSize: 9 }),
    ],
  };
}

/**
 * A labelled matrix as a heatmap with a quantized (SVG) colour legend and each cell's value as text;
 * `axes` names the row and column axes.
 */
export function matrixChart(
  title: string,
  m: MatrixResult,
  label: string,
  axes: { x: string | null; y: string | null } = { x: null, y: null },
): ChartOptions {
  const data = m.rows.flatMap((row, i) =>
    m.columns.map((column, j) => ({ row, column, value: m.values[i][j] }))
  );
  const labelWidth = Math.max(...m.rows.map((r) => r.length), 4) * 7 + 20;
  return {
    title,
    width: Math.max(420, labelWidth + 48 * m.columns.length + 40),
    height: Math.max(360, 120 + 32 * m.rows.length),
    marginLeft: labelWidth,
    marginBottom: 90,
    x: { label: axes.x, domain: m.columns, tickRotate: -35 },
    y: { label: axes.y, domain: m.rows },
    color: { type: "quantize", n: 9, scheme: "viridis", legend: true, label },
    marks: [
      Plot.cell(data, { x: "column", y: "row", fill: "value" }),
      Plot.text(data, {
        x: "column",
        y: "row",
        text: (d: { value: number }) => Number.isFinite(d.value) ? d.value.toFixed(2) : "",
        // dark text with a white halo stays readable on both ends of the colour scale
        fill: "black",
        stroke: "white",
        fontSize: 9,
      }),
    ],
  };
}

/** The model × model RDM-comparison matrix. */
export function rsaChart(rsa: RsaResult): ChartOptions {
  return matrixChart(`RSA: model × model (${rsa.compare})`, rsa.modelByModel, rsa.compare);
}

/**
 * Model × ROI RSA: each model's RDM against each ROI's, rows renamed to the model (the features file is
 * `<model>:avgpool`) and ROIs named by their file.
 */
export function brainRsaChart(rsa: BrainRsaResult): ChartOptions {
  return matrixChart(
    `RSA: model × ROI (${rsa.compare} of RDMs, validation stimuli)`,
    brainRsaMatrix(rsa),
    rsa.compare,
    { x: "ROI", y: "model" },
  );
}

/** The brain-RSA matrix with rows named by model (`<model>:avgpool` → `<model>`). */
export function brainRsaMatrix(rsa: BrainRsaResult): MatrixResult {
  return { ...rsa.modelByRoi, rows: rsa.modelByRoi.rows.map((r) => r.replace(/:avgpool$/, "")) };
}

/** The model × model linear-CKA matrix. */
export function ckaChart(cka: MatrixResult): ChartOptions {
  return matrixChart("CKA (linear): model × model", cka, "linear CKA");
}

/** Source × target robust accuracy of PGD adversarials crafted on the source (diagonal: white-box). */
export function transferChart(eps: number, m: MatrixResult): ChartOptions {
  return matrixChart(`Transfer: robust accuracy of the target at ε = ${eps} (PGD)`, m, "robust accuracy", {
    x: "target model",
    y: "source model",
  });
}

/** Smoothness vs ε, one labelled line per model (`curves` in hierarchy order). */
export function smoothnessChart(
  curves: Map<string, SmoothnessRow[]>,
  epsUnits: string | null = null,
): ChartOptions {
  const data = [...curves].flatMap(([model, curve]) => curve.map((p) => ({ model, ...p })));
  return labelledLines(data, {
    title: "Output-surface smoothness vs ε (mean ‖∇ₓCE‖² × 400 at PGD points; lower is smoother)",
    x: "eps",
    y: "value",
    xLabel: epsLabel(epsUnits),
    yLabel: "smoothness",
    domain: [...curves.keys()],
  });
}

/** Mean loss along the landscape's first direction through the input, one labelled line per model. */
export function landscapeChart(
  slices: Map<string, { offset: number; loss: number }[]>,
  directions: string,
): ChartOptions {
  const data = [...slices].flatMap(([model, slice]) => slice.map((p) => ({ model, ...p })));
  return labelledLines(data, {
    title: `Loss landscape: mean CE along the first direction (${directions}), through the input`,
    x: "offset",
    y: "loss",
    xLabel: "offset (pixel units)",
    yLabel: "cross-entropy",
    domain: [...slices.keys()],
  });
}

/** Lines coloured by model (turbo over the hierarchy) and labelled at their last point. */
function labelledLines(
  data: Record<string, unknown>[],
  o: {
    title: string;
    x: string;
    y: string;
    xLabel: string;
    yLabel: string;
    yDomain?: [number, number];
    domain: string[];
  },
): ChartOptions {
  return {
    title: o.title,
    width: 720,
    height: 420,
    marginRight: 90,
    x: { label: o.xLabel, grid: true },
    y: { label: o.yLabel, grid: true, ...(o.yDomain ? { domain: o.yDomain } : {}) },
    color: { domain: o.domain, scheme: "turbo" },
    marks: [
      Plot.line(data, { x: o.x, y: o.y, stroke: "model", z: "model" }),
      Plot.dot(data, { x: o.x, y: o.y, fill: "model", r: 2 }),
      Plot.text(
        data,
        Plot.selectLast({
          x: o.x,
          y: o.y,
          z: "model",
          text: "model",
          fill: "model",
          dx: 6,
          textAnchor: "start",
        }),
      ),
    ],
  };
}

/** Shape bias per model (fraction of shape decisions among shape-or-texture ones), bars in hierarchy order. */
export function shapeBiasChart(bias: { model: string; shapeBias: number }[]): ChartOptions {
  return {
    title: "Shape bias on cue-conflict images",
    width: 720,
    height: 360,
    marginBottom: 70,
    x: { label: null, domain: bias.map((b) => b.model), tickRotate: -35 },
    y: { label: "shape bias", domain: [0, 1], grid: true },
    marks: [
      Plot.barY(bias, { x: "model", y: "shapeBias", fill: "steelblue" }),
      Plot.ruleY([0.5], { strokeDasharray: "4,3" }),
      Plot.text(bias, {
        x: "model",
        y: "shapeBias",
        text: (b: { shapeBias: number }) => b.shapeBias.toFixed(2),
        dy: -6,
        fontSize: 9,
      }),
    ],
  };
}

/** A manifold measure (capacity or radius) of each model vs its robustness gain over None, labelled dots. */
export function manifoldChart(
  points: ManifoldPoint[],
  metric: "capacity" | "radius",
  attack: string,
): ChartOptions {
  const data = points.filter((p) => p[metric] !== null && p.gain !== null);
  return {
    title: `Manifold ${metric} (avgpool features) vs max robustness gain over None (${attack})`,
    width: 640,
    height: 420,
    marginRight: 60,
    x: { label: `manifold ${metric}`, grid: true, inset: 20 },
    y: { label: "max gain over None", grid: true, inset: 20 },
    marks: [
      Plot.dot(data, { x: metric, y: "gain", fill: "steelblue", r: 4 }),
      Plot.text(data, { x: metric, y: "gain", text: "model", dx: 7, textAnchor: "start", fontSize: 10 }),
    ],
  };
}

/** The first two MDS dimensions of every RDM that has coordinates, one panel per input (faceted). */
export function mdsChart(mds: NonNullable<RsaResult["mds"]>): ChartOptions {
  const data = Object.entries(mds).flatMap(([input, { coordinates }]) =>
    coordinates.map((c, stimulus) => ({ input, stimulus, x: c[0], y: c[1] ?? 0 }))
  );
  return {
    title: "MDS of each RDM's stimuli (dimensions 1–2)",
    width: 720,
    height: 140 * Math.ceil(Object.keys(mds).length / 4) + 60,
    fx: { label: null },
    marks: [
      Plot.dot(data, { x: "x", y: "y", fx: "input", r: 2 }),
    ],
  };
}
