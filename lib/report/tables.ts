/**
 * The report's tables as plain data (header + rows), rendered to Markdown and CSV by the same two
 * functions: robust accuracy per model × ε for each attack, the gain over None, the per-model summary, and
 * the analyses (smoothness, landscapes, transfer, matrices, manifold geometry vs robustness).
 * @module
 */
import {
  type AttackRow,
  type LandscapeResult,
  type MatrixResult,
  orderModels,
  type Results,
} from "./collect.ts";
import { configOf } from "./matched.ts";

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

/**
 * Max gain over None per model for one attack; null when there is no None model to compare with. A model of
 * seed k (`TO_s1`) is compared with the None of the same seed (`None_s1`) when the grid has one, so that a
 * seed's luck is not read as a gain; otherwise with `None`.
 */
export function gainsOverNone(results: Results, attack: string): Gain[] | null {
  const byModel = curves(results, attack);
  if (!byModel.has("None")) return null;
  const gains: Gain[] = [];
  for (const [model, curve] of byModel) {
    const none = byModel.get(`None${model.slice(configOf(model).length)}`) ?? byModel.get("None")!;
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

/**
 * Clean accuracy, neural-head r and predictor r per model (plus its epochs when models trained different
 * numbers of them, and shape bias when measured).
 */
export function modelTable(results: Results): Table {
  const withShape = results.shapeBias.size > 0;
  // epochs matter for clean accuracy only when some model trained its own number of them
  const withEpochs = new Set(results.models.map((m) => m.epochs).filter((e) => e !== null)).size > 1;
  return {
    header: [
      "model",
      "roi",
      "shuffle",
      "alpha",
      "weight_decay",
      ...(withEpochs ? ["epochs"] : []),
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
      ...(withEpochs ? [m.epochs] : []),
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

/** Wide table of a labelled matrix: one row per matrix row, one column per matrix column. */
export function matrixTable(m: MatrixResult, corner = "row"): Table {
  return { header: [corner, ...m.columns], rows: m.rows.map((row, i) => [row, ...m.values[i]]) };
}

/** Output-surface smoothness (mean ‖∇ₓCE‖² × 400 at PGD points), models × ε, in hierarchy order. */
export function smoothnessTable(results: Results): Table {
  const eps = [...new Set([...results.smoothness.values()].flat().map((p) => p.eps))].sort((a, b) => a - b);
  return {
    header: ["model", ...eps.map((e) => `ε=${e}`)],
    rows: [...results.smoothness].map(([model, curve]) => [
      model,
      ...eps.map((e) => curve.find((p) => p.eps === e)?.value ?? null),
    ]),
  };
}

/** The grid index nearest the origin (the unperturbed input). */
function centreIndex(coordinates: number[]): number {
  let best = 0;
  coordinates.forEach((c, i) => Math.abs(c) < Math.abs(coordinates[best]) && (best = i));
  return best;
}

/** Mean CE loss along the first direction through the input (second coordinate 0), over the inputs. */
export function landscapeSlice(result: LandscapeResult): { offset: number; loss: number }[] {
  const [first] = result.inputs;
  if (!first) return [];
  const centre = centreIndex(first.coordinates);
  return first.coordinates.map((offset, i) => ({
    offset,
    loss: result.inputs.reduce((sum, g) => sum + g.loss[i][centre], 0) / result.inputs.length,
  }));
}

/**
 * Per model, means over the inputs: loss at the input, the largest loss on the grid, their difference (how
 * far the loss rises within the span: lower is flatter) and the mean loss over the plane.
 */
export function landscapeTable(results: Results): Table {
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  return {
    header: ["model", "directions", "span", "grid", "inputs", "centre_loss", "max_loss", "rise", "mean_loss"],
    rows: [...results.landscape].map(([model, r]) => {
      const centre = r.inputs.map((g) => g.loss[centreIndex(g.coordinates)][centreIndex(g.coordinates)]);
      const max = r.inputs.map((g) => Math.max(...g.loss.flat()));
      const planeMean = r.inputs.map((g) => mean(g.loss.flat()));
      return [
        model,
        r.directions,
        r.span,
        // counts as text, so Markdown does not print them with decimals
        `${r.grid}`,
        `${r.inputs.length}`,
        ...(r.inputs.length
          ? [mean(centre), mean(max), mean(max.map((m, i) => m - centre[i])), mean(planeMean)]
          : [null, null, null, null]),
      ];
    }),
  };
}

/** Every transfer score: source, target (the source itself: white-box), ε, robust accuracy. */
export function transferTable(results: Results): Table {
  return {
    header: ["source", "target", "eps", "robust_accuracy"],
    rows: [...results.transfer].flatMap(([source, t]) =>
      t.rows.flatMap((row) => [
        [source, source, row.eps, row.source],
        ...t.targets.map((target) => [source, target, row.eps, row.targets[target] ?? null]),
      ])
    ),
  };
}

/**
 * The source × target robust-accuracy matrix at the largest ε every source was run at (the diagonal is
 * the white-box PGD accuracy); null without transfer results.
 */
export function transferMatrix(results: Results): { eps: number; matrix: MatrixResult } | null {
  if (results.transfer.size === 0) return null;
  const perSource = [...results.transfer.values()].map((t) => new Set(t.rows.map((r) => r.eps)));
  const common = [...perSource[0]].filter((e) => perSource.every((set) => set.has(e)));
  if (common.length === 0) return null;
  const eps = Math.max(...common);
  const sources = [...results.transfer.keys()];
  const columns = orderModels([...new Set([...results.transfer].flatMap(([s, t]) => [s, ...t.targets]))]);
  const values = sources.map((source) => {
    const t = results.transfer.get(source)!;
    const row = t.rows.find((r) => r.eps === eps)!;
    return columns.map((target) => target === source ? row.source : row.targets[target] ?? NaN);
  });
  return { eps, matrix: { rows: sources, columns, values } };
}

/** The attack the analyses are compared with: pgd when it was run, else the first one. */
export function referenceAttack(results: Results): string | null {
  const names = attackNames(results);
  return names.includes("pgd") ? "pgd" : names[0] ?? null;
}

/** One model's manifold geometry (its avgpool features) and its robustness gain over None. */
export interface ManifoldPoint {
  model: string;
  input: string;
  capacity: number | null;
  radius: number | null;
  dimension: number | null;
  readoutAccuracy: number | null;
  gain: number | null;
}

/** Manifold geometry per input, with the model's max gain over None under `attack` (null: none). */
export function manifoldPoints(results: Results, attack: string | null): ManifoldPoint[] {
  const gains = attack ? gainsOverNone(results, attack) ?? [] : [];
  const value = (v: unknown) => typeof v === "number" && Number.isFinite(v) ? v : null;
  return Object.entries(results.manifold ?? {}).map(([input, g]) => {
    const model = input.replace(/:[^:]*$/, "");
    return {
      model,
      input,
      capacity: value(g.capacity),
      radius: value(g.radius),
      dimension: value(g.dimension),
      readoutAccuracy: value(g.separability?.accuracy),
      gain: gains.find((x) => x.model === model)?.gain ?? null,
    };
  });
}
