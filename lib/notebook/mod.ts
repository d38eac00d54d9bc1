/**
 * Helpers for the notebooks in `notebooks/` (Deno kernel): where the results folder is, and charts shown
 * inline as SVG. They live in a module because cells cannot use `import.meta` and are not type-checked.
 * @module
 */
import { join } from "node:path";
import { type ChartOptions, renderSvg } from "../plot/mod.ts";
import { type Table, toMarkdown } from "../report/mod.ts";

/** The notebooks' default results folder, relative to `notebooks/` (the kernel's working directory). */
export const DEFAULT_RESULTS = "../runs/notebook-sweep";

/** The small sweep on the simulated world that writes {@link DEFAULT_RESULTS} (run from the repository root). */
export const NOTEBOOK_SWEEP_COMMAND =
  "deno task sweep --grid notebooks/grid.json --epochs 1 --predictor-epochs 1 --attacks pgd " +
  "--eps 0.002:0.018:0.008 --attack-n 16 --analysis-n 4 --out runs/notebook-sweep";

/**
 * The results folder a notebook reads: `$NEUROGUIDE_RESULTS`, else {@link DEFAULT_RESULTS}. Throws one line
 * naming the folder and the command that produces it when it holds no sweep (`plan.json`).
 *
 * @example
 * ```ts
 * import { collectResults } from "../report/mod.ts";
 * // In a notebook: the results folder of `$NEUROGUIDE_RESULTS` or the default sweep.
 * async function load() {
 *   return await collectResults(await resultsFolder());
 * }
 * ```
 */
export async function resultsFolder(): Promise<string> {
  const dir = Deno.env.get("NEUROGUIDE_RESULTS") || DEFAULT_RESULTS;
  try {
    await Deno.stat(join(dir, "plan.json"));
  } catch {
    throw new Error(
      `${dir}: no sweep results (plan.json missing); set NEUROGUIDE_RESULTS to a sweep folder or run, ` +
        `from the repository root: ${NOTEBOOK_SWEEP_COMMAND}`,
    );
  }
  return dir;
}

/**
 * Renders `chart` (Observable Plot options, e.g. from lib/report's chart builders) to SVG and, inside a
 * Jupyter kernel, displays it as the cell's `image/svg+xml` output (returns nothing, so the cell does not also
 * print the SVG source).
 *
 * @example
 * ```ts
 * import { curves, type Results, robustChart } from "../report/mod.ts";
 * // In a notebook cell: robust accuracy vs ε under PGD, drawn inline.
 * async function show(results: Results) {
 *   await showChart(robustChart("pgd", curves(results, "pgd")));
 * }
 * ```
 */
export async function showChart(chart: ChartOptions): Promise<void> {
  await Deno.jupyter?.display({ "image/svg+xml": renderSvg(chart) }, { raw: true });
}

/** Displays `table` as a Markdown table inside a Jupyter kernel. */
export async function showTable(table: Table): Promise<void> {
  await Deno.jupyter?.display({ "text/markdown": toMarkdown(table) }, { raw: true });
}
