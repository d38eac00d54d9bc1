/**
 * The report's charts as Observable Plot specs (rendered by lib/plot): robust accuracy vs ε per model, gain
 * over None per model, the model × model RSA matrix and MDS of the RDMs. Series are labelled with text
 * marks, since HTML swatch legends cannot be exported (lib/plot/render.ts).
 * @module
 */
import { type ChartOptions, Plot } from "../plot/mod.ts";
import type { RsaResult } from "./collect.ts";
import type { Curve, Gain } from "./tables.ts";

/** Robust accuracy vs ε, one line per model (legend order = `curves` order, i.e. the hierarchy). */
export function robustChart(attack: string, curves: Map<string, Curve>): ChartOptions {
  const data = [...curves].flatMap(([model, curve]) => curve.map((p) => ({ model, ...p })));
  const domain = [...curves.keys()];
  return {
    title: `Robust accuracy vs ε — ${attack}`,
    width: 720,
    height: 420,
    marginRight: 90,
    x: { label: "ε", grid: true },
    y: { label: "robust accuracy", domain: [0, 1], grid: true },
    color: { domain, scheme: "turbo" },
    marks: [
      Plot.line(data, { x: "eps", y: "robust", stroke: "model", z: "model" }),
      Plot.dot(data, { x: "eps", y: "robust", fill: "model", r: 2 }),
      Plot.text(
        data,
        Plot.selectLast({
          x: "eps",
          y: "robust",
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

/** The model × model RDM-comparison matrix as a heatmap with a quantized (SVG) colour legend. */
export function rsaChart(rsa: RsaResult): ChartOptions {
  const { rows, columns, values } = rsa.modelByModel;
  const data = rows.flatMap((row, i) => columns.map((column, j) => ({ row, column, value: values[i][j] })));
  return {
    title: `RSA: model × model (${rsa.compare})`,
    width: 560,
    height: 520,
    marginLeft: 90,
    marginBottom: 80,
    x: { label: null, domain: columns, tickRotate: -35 },
    y: { label: null, domain: rows },
    color: { type: "quantize", n: 9, scheme: "viridis", legend: true, label: rsa.compare },
    marks: [Plot.cell(data, { x: "column", y: "row", fill: "value" })],
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
