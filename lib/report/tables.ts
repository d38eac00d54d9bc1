/**
 * The report's tables as plain data (header + rows), rendered to Markdown and CSV by the same two
 * functions: robust accuracy per model × ε for each attack, the gain over None, and the per-model summary.
 * @module
 */
import type { AttackRow, Results } from "./collect.ts";

/** A table: header cells and rows of cells (numbers are formatted when rendered). */
export interface Table {
  header: string[];
  rows: (string | number | null)[][];
}

/** Robust accuracy of one model under one attack, by ε. */
export type Curve = { eps: number; robust: number }[];

/** Attack names present in `results`, in first-seen order. */
export function attackNames(results: Results): string[] {
  return [...new Set([...results.attacks.values()].flat().map((r) => r.attack))];
}

/** model → robust-accuracy curve for `attack` (models without that attack are absent). */
export function curves(results: Results, attack: string): Map<string, Curve> {
  const out = new Map<string, Curve>();
  for (const m of results.models) {
    const rows = (results.attacks.get(m.name) ?? []).filter((r: AttackRow) => r.attack === attack);
    if (rows.length) {
      out.set(
        m.name,
        rows.map((r) => ({ eps: r.eps, robust: r.robust_accuracy })).sort((a, b) => a.eps - b.eps),
      );
    }
  }
  return out;
}

/** Robust accuracy, models × ε, for one attack. */
export function robustTable(results: Results, attack: string): Table {
  const byModel = curves(results, attack);
  const eps = [...new Set([...byModel.values()].flat().map((p) => p.eps))].sort((a, b) => a - b);
  return {
    header: ["model", ...eps.map((e) => `ε=${e}`)],
    rows: [...byModel].map(([name, curve]) => [
      name,
      ...eps.map((e) => curve.find((p) => p.eps === e)?.robust ?? null),
    ]),
  };
}

/** Largest robust-accuracy gain over the None model across ε, and the ε where it occurs. */
export interface Gain {
  model: string;
  gain: number;
  eps: number;
}

/** Max gain over None per model for one attack; null when there is no None model to compare with. */
export function gainsOverNone(results: Results, attack: string): Gain[] | null {
  const byModel = curves(results, attack);
  const none = byModel.get("None");
  if (!none) return null;
  const gains: Gain[] = [];
  for (const [model, curve] of byModel) {
    let best: Gain | null = null;
    for (const p of curve) {
      const base = none.find((q) => q.eps === p.eps);
      if (!base) continue;
      const gain = p.robust - base.robust;
      if (!best || gain > best.gain) best = { model, gain, eps: p.eps };
    }
    if (best) gains.push(best);
  }
  return gains;
}

/** Spearman rank correlation of the gains of V1 … TO with their position in the hierarchy (null if < 3). */
export function hierarchyTrend(gains: Gain[]): { rho: number; n: number } | null {
  const order = ["V1", "V2", "V4", "VO", "PHC", "LO", "TO"];
  const points = order.flatMap((roi, i) => {
    const g = gains.find((x) => x.model === roi);
    return g ? [[i, g.gain]] : [];
  });
  if (points.length < 3) return null;
  const ranks = (values: number[]) => {
    const sorted = values.map((v, i) => [v, i]).sort((a, b) => a[0] - b[0]);
    const r = new Array<number>(values.length);
    for (let i = 0; i < sorted.length;) {
      let j = i;
      while (j + 1 < sorted.length && sorted[j + 1][0] === sorted[i][0]) j++;
      for (let k = i; k <= j; k++) r[sorted[k][1]] = (i + j) / 2; // ties share their mean rank
      i = j + 1;
    }
    return r;
  };
  const a = ranks(points.map((p) => p[0])), b = ranks(points.map((p) => p[1]));
  const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  const ma = mean(a), mb = mean(b);
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - ma) * (b[i] - mb);
    da += (a[i] - ma) ** 2;
    db += (b[i] - mb) ** 2;
  }
  return { rho: da > 0 && db > 0 ? num / Math.sqrt(da * db) : 0, n: points.length };
}

/** Clean accuracy, neural-head r and predictor r per model (plus shape bias when measured). */
export function modelTable(results: Results): Table {
  const withShape = results.shapeBias.size > 0;
  return {
    header: [
      "model",
      "roi",
      "shuffle",
      "alpha",
      "weight_decay",
      "clean_accuracy",
      "neural_head_r",
      "predictor_r",
      ...(withShape ? ["shape_bias"] : []),
    ],
    rows: results.models.map((m) => [
      m.name,
      m.roi,
      m.shuffle ? "yes" : "no",
      m.alpha,
      m.weightDecay,
      m.cleanAccuracy,
      m.neuralR,
      m.predictorR,
      ...(withShape ? [results.shapeBias.get(m.name) ?? null] : []),
    ]),
  };
}

/** A Markdown table; numbers with 4 decimals, missing values as "—". */
export function toMarkdown(t: Table): string {
  const cell = (v: string | number | null) => v === null ? "—" : typeof v === "number" ? fmt(v) : v;
  return [
    `| ${t.header.join(" | ")} |`,
    `| ${t.header.map(() => "---").join(" | ")} |`,
    ...t.rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
}

/** CSV (RFC 4180 quoting); numbers unrounded, missing values empty. */
export function toCsv(t: Table): string {
  const cell = (v: string | number | null) => {
    const s = v === null ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [t.header, ...t.rows].map((r) => r.map(cell).join(",")).join("\n") + "\n";
}

/** Four decimals, trimmed of a negative zero. */
export function fmt(v: number): string {
  const s = v.toFixed(4);
  return s === "-0.0000" ? "0.0000" : s;
}
