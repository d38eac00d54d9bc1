/**
 * Writes a results folder's report: `report.md`, `tables/*.csv`, `figures/*.svg` + `*.png`, every file
 * atomically. Absent parts are reported as "not available" with the reason.
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { type ChartOptions, renderSvg, svgToPng } from "../plot/mod.ts";
import { collectResults, type Results } from "./collect.ts";
import { gainChart, mdsChart, robustChart, rsaChart } from "./figures.ts";
import {
  attackNames,
  curves,
  fmt,
  gainsOverNone,
  hierarchyTrend,
  modelTable,
  robustTable,
  type Table,
  toCsv,
  toMarkdown,
} from "./tables.ts";

/** Files written, relative to the folder. */
export interface ReportOutput {
  files: string[];
  results: Results;
}

/**
 * Builds the report of `dir` (a `deno task sweep` folder, or any folder with the same layout).
 *
 * @example
 * ```ts
 * const { files } = await writeReport("runs/sweep");
 * ```
 */
export async function writeReport(
  dir: string,
  onFile: (file: string) => void = () => {},
): Promise<ReportOutput> {
  const results = await collectResults(dir);
  const files: string[] = [];
  const write = async (file: string, data: string | Uint8Array) => {
    await writeFileAtomic(join(dir, file), data);
    files.push(file);
    onFile(file);
  };
  const table = async (name: string, t: Table) => {
    await write(`tables/${name}.csv`, toCsv(t));
    return `${toMarkdown(t)}\n\n(CSV: tables/${name}.csv)`;
  };
  const figure = async (name: string, chart: ChartOptions) => {
    const svg = renderSvg(chart);
    await write(`figures/${name}.svg`, svg);
    await write(`figures/${name}.png`, await svgToPng(svg, 1280));
    return `![${chart.title ?? name}](figures/${name}.png) ([SVG](figures/${name}.svg))`;
  };
  const na = (why: string) => `_not available: ${why}_`;

  const md: string[] = [`# Sweep report: ${dir}`, ""];
  md.push(
    `Models (${results.models.length}), in ROI-hierarchy order: ${
      results.models.map((m) => m.name).join(", ") || "none"
    }.`,
    "",
  );
  if (results.skipped.length) {
    md.push(
      "Stages not run by the sweep:",
      ...results.skipped.map((s) => `- ${s}`),
      "",
    );
  }

  md.push("## Models: clean accuracy and neural fit", "");
  md.push(results.models.length ? await table("models", modelTable(results)) : na("no model summaries"), "");

  md.push("## Adversarial robustness", "");
  const attacks = attackNames(results);
  if (attacks.length === 0) md.push(na("no attack results under attacks/"), "");
  for (const attack of attacks) {
    md.push(`### ${attack}`, "");
    const slug = attack.replace(/[^A-Za-z0-9_-]+/g, "_");
    md.push(await table(`robust_${slug}`, robustTable(results, attack)), "");
    md.push(await figure(`robust_${slug}`, robustChart(attack, curves(results, attack))), "");
    const gains = gainsOverNone(results, attack);
    if (!gains) {
      md.push(`Gain over None: ${na("no None model attacked with " + attack)}`, "");
      continue;
    }
    md.push("Max robust-accuracy gain over None (across ε):", "");
    md.push(
      await table(`gain_${slug}`, {
        header: ["model", "max_gain", "at_eps"],
        rows: gains.map((g) => [g.model, g.gain, g.eps]),
      }),
      "",
    );
    md.push(await figure(`gain_${slug}`, gainChart(attack, gains)), "");
    const trend = hierarchyTrend(gains);
    md.push(
      trend
        ? `Gain along the hierarchy V1 → TO (${trend.n} ROIs): Spearman ρ = ${fmt(trend.rho)} ` +
          `(${trend.rho > 0 ? "rises" : trend.rho < 0 ? "falls" : "flat"} toward TO).`
        : `Gain along the hierarchy: ${na("fewer than 3 of V1 … TO attacked")}`,
      "",
    );
  }

  md.push("## Representational analyses", "", "### RSA", "");
  if (results.rsa) {
    md.push(await figure("rsa", rsaChart(results.rsa)), "");
    md.push(
      results.rsa.mds && Object.keys(results.rsa.mds).length
        ? await figure("mds", mdsChart(results.rsa.mds))
        : `MDS: ${na("analyses/rsa.json has no MDS (deno task analyze rsa --mds 2)")}`,
      "",
    );
  } else md.push(na("no analyses/rsa.json"), "");
  md.push("### Shape bias", "");
  md.push(
    results.shapeBias.size
      ? [...results.shapeBias].map(([m, b]) => `- ${m}: ${b === null ? "undefined" : fmt(b)}`).join("\n")
      : na("no analyses/shape_bias/<model>.json"),
    "",
  );
  md.push("### Manifold geometry", "");
  if (results.manifold && Object.keys(results.manifold).length) {
    md.push(
      await table("manifold", {
        header: ["input", "capacity", "radius", "dimension"],
        rows: Object.entries(results.manifold).map((
          [input, g],
        ) => [input, g.capacity ?? null, g.radius ?? null, g.dimension ?? null]),
      }),
      "",
    );
  } else md.push(na("no analyses/manifold.json"), "");
  if (results.missing.length) {
    md.push(
      "## Unreadable or missing inputs",
      "",
      ...results.missing.map((m) => `- ${m}`),
      "",
    );
  }
  await write("report.md", md.join("\n"));
  return { files, results };
}
