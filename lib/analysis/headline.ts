/**
 * One-line summaries of analysis results, printed by `deno task analyze` after it writes the full result.
 * @module
 */

type Labelled = { rows: string[]; columns: string[] };

/**
 * The key number of an `analyze` result (`kind`: rsa, cka, manifold, smoothness, landscape or shape-bias) in one
 * line; the result files hold everything.
 */
export function analysisHeadline(kind: string, json: Record<string, unknown>): string {
  const f3 = (x: number | null | undefined) => typeof x === "number" ? x.toFixed(3) : "n/a";
  const best = (m: Labelled, values: number[][]) => {
    let top = { value: -Infinity, row: "", column: "" };
    m.rows.forEach((row, i) =>
      m.columns.forEach((column, j) => {
        if (values[i][j] > top.value) top = { value: values[i][j], row, column };
      })
    );
    return top;
  };
  const offDiagonalMean = (values: number[][]) => {
    const off = values.flatMap((row, i) => row.filter((_, j) => j !== i));
    return off.length ? off.reduce((a, b) => a + b, 0) / off.length : null;
  };
  if (kind === "rsa" || kind === "cka") {
    type Block = Labelled & { values?: number[][]; linear?: number[][] };
    const byRoi = json.modelByRoi as Block | undefined, byModel = json.modelByModel as Block;
    const measure = kind === "rsa" ? `RDM ${json.compare}` : "linear CKA";
    const valuesOf = (b: Block) => (b.values ?? b.linear)!;
    if (byRoi) {
      const top = best(byRoi, valuesOf(byRoi));
      return `model × ROI ${measure}: highest ${f3(top.value)} (${top.row} vs ${top.column})`;
    }
    const mean = offDiagonalMean(valuesOf(byModel));
    return mean === null
      ? `one input: no comparison (add --features or --roi)`
      : `model × model ${measure}: mean ${f3(mean)} over ${byModel.rows.length} inputs`;
  }
  if (kind === "manifold") {
    const inputs = Object.entries(json.inputs as Record<string, { capacity: number }>);
    return `capacity ${inputs.map(([name, r]) => `${name} ${f3(r.capacity)}`).join(", ")}`;
  }
  if (kind === "smoothness") {
    const rows = json.smoothness as { eps: number; value: number }[];
    return rows.map((r) => `ε ${r.eps}: ${f3(r.value)}`).join(", ") +
      ` (${json.epsUnits} units; lower is smoother)`;
  }
  if (kind === "landscape") {
    const inputs = json.inputs as { loss: number[][] }[];
    const mid = (g: { loss: number[][] }) => g.loss[g.loss.length >> 1][g.loss.length >> 1];
    const top = (g: { loss: number[][] }) => Math.max(...g.loss.flat());
    const mean = (f: (g: { loss: number[][] }) => number) =>
      inputs.reduce((a, g) => a + f(g), 0) / inputs.length;
    return `mean CE ${f3(mean(mid))} at the inputs, ${
      f3(mean(top))
    } at the worst grid point (${inputs.length} inputs)`;
  }
  const bias = json as { shapeBias: number | null; shape: number; texture: number };
  return `shape bias ${f3(bias.shapeBias)} (${bias.shape} shape vs ${bias.texture} texture decisions)`;
}
