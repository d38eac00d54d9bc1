/**
 * The report's headline statistics from the per-image attack outcomes (`clean_points`, `robust_points` of
 * `deno task attack`): per configuration (a model name without its `_s<seed>` suffix, seeds pooled) the clean
 * and robust accuracy, robust/clean, the paper code's normalize_acc, and the robustness gain at matched clean
 * accuracy over the None checkpoint ladder with a bootstrap CI (per seed, the `ladder: true` None model that
 * trained the most epochs: its weights after every epoch, then its final ones); then the ROI hierarchy as
 * Spearman ρ of position V1 → TO against those gains, with its permutation p and bootstrap CI. A model's
 * robust score per image is the fraction of the ε grid it survives (mean robust accuracy over ε: no choice of
 * ε after the fact).
 * @module
 */
import { join } from "node:path";
import type { ModelSpec } from "../sweep/grid.ts";
import { orderModels } from "./collect.ts";
import { ladderAttackPath, modelEpochs, type SweepSettings } from "../sweep/plan.ts";
import type { GateVerdict } from "../sweep/gate.ts";
import {
  type BootstrapInterval,
  bootstrapInterval,
  type BootstrapOptions,
  hierarchyCorrelation,
  type HierarchyTrend,
  matchedGainWithInterval,
  type MatchedInput,
  matchedReplicate,
  normalizeAcc,
  type Outcomes,
  resampleIndices,
} from "./stats.ts";

/** The ventral hierarchy, early to late. */
export const HIERARCHY = ["V1", "V2", "V4", "VO", "PHC", "LO", "TO"] as const;

/** One configuration's row of the statistics table. */
export interface ConfigStats {
  config: string;
  seeds: number;
  images: number;
  clean: number;
  robust: number;
  robustOverClean: number | null;
  normalizeAcc: number | null;
  /** The None ladder's robust accuracy at this clean accuracy (null: outside the ladder). */
  baseline: number | null;
  gain: number | null;
  ci: BootstrapInterval | null;
  /** Gradient-masking probes: failed check names ([] all passed; null: not run). */
  failedChecks: string[] | null;
}

/** One matched gain minus another (`to` − `from`: ROIs, or configurations), with its paired bootstrap CI. */
export interface Contrast {
  from: string;
  to: string;
  difference: number;
  ci: BootstrapInterval;
}

/** The head-only construction's gain minus its sham's (README, amendments 4 and 5), on one ROI. */
export interface ShamContrast extends Contrast {
  roi: string;
}

/** A head-only construction and its sham in one grid: configurations alike but for the teacher's target. */
export interface HeadShamPair {
  roi: string;
  head: string;
  sham: string;
}

/**
 * The grid's head/sham pairs, in hierarchy order: per `oracle-adversarial-head` configuration, the
 * `oracle-adversarial-sham` configuration whose first model has the same settings (ROI, δ, α, epochs, …).
 *
 * @example
 * ```ts
 * import { headShamPairs } from "./matched.ts";
 * const teacher = (kind: "oracle-adversarial-head" | "oracle-adversarial-sham") => ({ kind, eps: 8 / 255 });
 * const pairs = headShamPairs([
 *   { name: "TO_head", roi: "TO", shuffle: false, teacher: teacher("oracle-adversarial-head") },
 *   { name: "TO_sham", roi: "TO", shuffle: false, teacher: teacher("oracle-adversarial-sham") },
 * ]);
 * console.log(pairs); // [{ roi: "TO", head: "TO_head", sham: "TO_sham" }]
 * ```
 */
export function headShamPairs(specs: readonly ModelSpec[]): HeadShamPair[] {
  const first = new Map<string, ModelSpec>();
  for (const m of specs) if (!first.has(configOf(m.name))) first.set(configOf(m.name), m);
  // what the model trains with, apart from the teacher's target and the seed
  const settings = (m: ModelSpec) =>
    JSON.stringify([m.roi, m.shuffle, m.alpha, m.wd, m.epochs, m.augment, m.teacher?.eps]);
  const of = (kind: string) => [...first].filter(([, m]) => m.teacher?.kind === kind);
  const pairs = of("oracle-adversarial-head").flatMap(([head, m]) => {
    const sham = of("oracle-adversarial-sham").find(([, s]) => settings(s) === settings(m));
    return sham ? [{ roi: m.roi, head, sham: sham[0] }] : [];
  });
  const rank = (roi: string) => (HIERARCHY as readonly string[]).indexOf(roi);
  return pairs.sort((a, b) => rank(a.roi) - rank(b.roi));
}

/** Everything the statistics section shows. */
export interface MatchedResults {
  attack: string;
  configs: ConfigStats[];
  /** Ladder points (clean, robust), seeds pooled, in epoch order. */
  ladder: { epoch: number; clean: number; robust: number }[];
  /** The ladder's model of each seed (empty without a ladder). */
  ladderModels: string[];
  /** Per α of the guided ROI models: the hierarchy trend (null with fewer than 3 ROIs). */
  trends: { alpha: string; trend: HierarchyTrend | null; contrast: Contrast | null }[];
  /**
   * Per head/sham pair with both gains ({@link headShamPairs}), in hierarchy order: the gain the invariance
   * demand adds to the construction (README, amendment 5: TO's is the guaranteed positive).
   */
  shamContrasts: ShamContrast[];
  gate: GateVerdict | null;
  /** Why parts are missing. */
  notes: string[];
}

/** The configuration a model name belongs to (its `_s<seed>` suffix dropped). */
export function configOf(name: string): string {
  return name.replace(/_s\d+$/, "");
}

/** An attack report's per-image outcomes (robust: fraction of the ε rows survived); null if absent. */
export async function readOutcomes(file: string, attack: string): Promise<Outcomes | null> {
  let report: { clean_points?: string; rows?: { attack: string; robust_points?: string }[] };
  try {
    report = JSON.parse(await Deno.readTextFile(file));
  } catch {
    return null;
  }
  const rows = (report.rows ?? []).filter((r) => r.attack === attack && typeof r.robust_points === "string");
  if (typeof report.clean_points !== "string" || rows.length === 0) return null;
  const n = report.clean_points.length;
  if (rows.some((r) => r.robust_points!.length !== n)) return null;
  const robust = new Float64Array(n);
  for (const row of rows) {
    for (let i = 0; i < n; i++) {
      robust[i] += row.robust_points![i] === "1" ? 1 / rows.length : 0;
    }
  }
  return { clean: Uint8Array.from(report.clean_points, (c) => c === "1" ? 1 : 0), robust };
}

/** Failed masking checks of an attack report (null: the probes did not run). */
async function failedChecks(file: string): Promise<string[] | null> {
  try {
    const report = JSON.parse(await Deno.readTextFile(file));
    if (!report.probes) return null;
    return (report.checks ?? []).filter((c: { passed: boolean }) => !c.passed).map((c: { name: string }) =>
      c.name
    );
  } catch {
    return null;
  }
}

/**
 * Reads a results folder's per-image outcomes under `attack` and computes the statistics; null when no model
 * has per-image outcomes (reports from before they were recorded).
 */
export async function matchedResults(
  dir: string,
  attack: string,
  plan: { models?: ModelSpec[]; settings?: SweepSettings } | null,
  options: BootstrapOptions = {},
): Promise<MatchedResults | null> {
  const notes: string[] = [];
  const specs = plan?.models ?? [];
  const names = specs.length ? specs.map((m) => m.name) : await modelFolders(dir);
  const outcomes = new Map<string, Outcomes>();
  for (const name of names) {
    const o = await readOutcomes(join(dir, "attacks", name, `${attack}.json`), attack);
    if (o) outcomes.set(name, o);
  }
  if (outcomes.size === 0) return null;
  const n = [...outcomes.values()][0].clean.length;
  for (const [name, o] of outcomes) {
    if (o.clean.length !== n) {
      notes.push(`${name}: ${o.clean.length} attacked images, others ${n}: left out`);
      outcomes.delete(name);
    }
  }
  const configs = new Map<string, string[]>();
  for (const name of names) {
    if (!outcomes.has(name)) continue;
    const c = configOf(name);
    configs.set(c, [...configs.get(c) ?? [], name]);
  }
  const spec = (name: string) => specs.find((m) => m.name === name);
  const ladder = await noneLadder(dir, attack, plan, names, outcomes, notes);
  const ladderPoints = ladder
    ? ladder.epochs.map((epoch, k) => ({ epoch, ...pooled(ladder.runs.map((l) => l[k])) }))
    : [];
  const inputs = new Map<string, MatchedInput>();
  const rows: ConfigStats[] = [];
  for (const config of orderModels([...configs.keys()])) {
    const members = configs.get(config)!;
    const runs = members.map((m) => outcomes.get(m)!);
    const input: MatchedInput = { model: runs, ladder: ladder?.runs ?? [] };
    inputs.set(config, input);
    const matched = ladder
      ? matchedGainWithInterval(input, { ...options, seed: `${options.seed ?? 0}/${config}` })
      : null;
    const point = pooled(runs);
    if (ladder && matched?.baseline === null) {
      const cleans = ladderPoints.map((p) => p.clean);
      notes.push(
        `${config}: clean accuracy ${point.clean.toFixed(4)} lies outside the None ladder's ` +
          `[${Math.min(...cleans).toFixed(4)}, ${Math.max(...cleans).toFixed(4)}]: no matched gain`,
      );
    }
    const checks = await Promise.all(
      members.map((m) => failedChecks(join(dir, "attacks", m, `${attack}.json`))),
    );
    rows.push({
      config,
      seeds: members.length,
      images: n,
      clean: point.clean,
      robust: point.robust,
      robustOverClean: point.clean > 0 ? point.robust / point.clean : null,
      normalizeAcc: normalizeAcc(point.robust, point.clean),
      baseline: matched?.baseline ?? null,
      gain: matched?.gain ?? null,
      ci: matched?.ci ?? null,
      failedChecks: checks.every((c) => c === null) ? null : checks.flatMap((c) => c ?? []),
    });
  }
  // gain(to) − gain(from) on the same resampled images and ladder, per bootstrap replicate
  const difference = (from: string, to: string, seed: string): BootstrapInterval =>
    bootstrapInterval((random) => {
      const resampled = resampleIndices(n, random);
      const [a, b] = [from, to].map((config) => matchedReplicate(inputs.get(config)!, resampled, random));
      return a === null || b === null ? NaN : b - a;
    }, { ...options, seed: `${options.seed ?? 0}/${seed}` });
  const gainOf = (config: string) => rows.find((r) => r.config === config)?.gain ?? null;
  // the hierarchy, per α: plain predictor-guided configurations (no shuffle, augmentation or oracle teacher)
  const trends: MatchedResults["trends"] = [];
  const byAlpha = new Map<string, { roi: string; config: string }[]>();
  for (const [config, members] of configs) {
    const m = spec(members[0]);
    const roi = m?.roi ?? config.replace(/_a[\d.]+$/, "");
    if (!(HIERARCHY as readonly string[]).includes(roi) || m?.shuffle || m?.augment || m?.teacher) continue;
    const alpha = `${m?.alpha ?? plan?.settings?.alpha ?? "?"}`;
    byAlpha.set(alpha, [...byAlpha.get(alpha) ?? [], { roi, config }]);
  }
  for (const [alpha, entries] of byAlpha) {
    const ordered = HIERARCHY.flatMap((roi) => entries.filter((e) => e.roi === roi));
    const withGain = ordered.filter((e) => rows.find((r) => r.config === e.config)?.gain !== null);
    const gains = withGain.map((e) => rows.find((r) => r.config === e.config)!.gain!);
    const trend = ladder
      ? hierarchyCorrelation(
        withGain.map((e) => e.roi),
        gains,
        (random) => {
          const resampled = resampleIndices(n, random);
          return withGain.map((e) => matchedReplicate(inputs.get(e.config)!, resampled, random));
        },
        { ...options, seed: `${options.seed ?? 0}/hierarchy/${alpha}` },
      )
      : null;
    // the latest minus the earliest ROI's gain: the whole hierarchy's effect, readable with 2 ROIs too
    const [first, last] = [withGain[0], withGain.at(-1)];
    const contrast = ladder && withGain.length >= 2
      ? {
        from: first!.roi,
        to: last!.roi,
        difference: gains.at(-1)! - gains[0],
        ci: difference(first!.config, last!.config, `contrast/${alpha}`),
      }
      : null;
    trends.push({ alpha, trend, contrast });
  }
  const shamContrasts: ShamContrast[] = [];
  for (const { roi, head, sham } of headShamPairs(specs)) {
    const [shamGain, headGain] = [gainOf(sham), gainOf(head)];
    if (shamGain === null || headGain === null) continue;
    shamContrasts.push({
      roi,
      from: sham,
      to: head,
      difference: headGain - shamGain,
      ci: difference(sham, head, sham),
    });
  }
  let gate: GateVerdict | null = null;
  for (const file of ["gate.json", "gate_failed.json"]) {
    gate ??= await Deno.readTextFile(join(dir, file)).then((t) => JSON.parse(t), () => null);
  }
  return {
    attack,
    configs: rows,
    ladder: ladderPoints,
    ladderModels: ladder?.models ?? [],
    trends,
    shamContrasts,
    gate,
    notes,
  };
}

/** The None ladder the models are placed on: one model per seed, every seed with the same rungs. */
interface NoneLadder {
  /** The ladder model of each seed, in grid order. */
  models: string[];
  /** runs[seed][rung]: outcomes of that model's weights at each rung. */
  runs: Outcomes[][];
  /** Each rung's epoch (0: the initial weights; the last: the model itself). */
  epochs: number[];
}

/**
 * Per seed, the ladder candidate that trained the most epochs: a `ladder: true` None model (no augmentation,
 * no teacher) with a final attack. Its rungs are its per-epoch attacks that exist, then its final weights.
 * Without such a model in the plan (or without a plan), the `None` models, whose final rung is then usually
 * all there is. Null, with a note, when there is no candidate or the seeds' rungs differ.
 */
async function noneLadder(
  dir: string,
  attack: string,
  plan: { models?: ModelSpec[]; settings?: SweepSettings } | null,
  names: readonly string[],
  outcomes: ReadonlyMap<string, Outcomes>,
  notes: string[],
): Promise<NoneLadder | null> {
  const settings = plan?.settings;
  const ladders = plan?.models?.filter((m) => m.ladder && m.roi === "none" && !m.augment && !m.teacher) ?? [];
  const candidates: ModelSpec[] = ladders.length
    ? ladders
    : names.filter((name) => configOf(name) === "None").map((name) => ({
      name,
      roi: "none",
      shuffle: false,
      seed: Number(name.match(/_s(\d+)$/)?.[1] ?? 0),
    }));
  const trained = (m: ModelSpec) => settings ? modelEpochs(m, settings) : m.epochs ?? 0;
  const longest = new Map<number, ModelSpec>();
  for (const m of candidates) {
    if (!outcomes.has(m.name)) continue;
    const seed = m.seed ?? settings?.seed ?? 0;
    const held = longest.get(seed);
    if (!held || trained(m) > trained(held)) longest.set(seed, m);
  }
  if (longest.size === 0) {
    notes.push("no None ladder (a None model with per-epoch attacks): matched gains not available");
    return null;
  }
  const n = [...outcomes.values()][0].clean.length; // every outcome holds the same images
  const perSeed = await Promise.all([...longest.values()].map(async (m) => {
    const rungs: { epoch: number; outcomes: Outcomes }[] = [];
    for (let epoch = 0; epoch < trained(m); epoch++) {
      const o = await readOutcomes(ladderAttackPath(dir, m.name, epoch, attack), attack);
      if (o && o.clean.length === n) rungs.push({ epoch, outcomes: o });
    }
    rungs.push({ epoch: trained(m), outcomes: outcomes.get(m.name)! });
    return { model: m.name, rungs };
  }));
  const epochsOf = (l: (typeof perSeed)[number]) => l.rungs.map((r) => r.epoch).join(", ");
  if (perSeed.some((l) => epochsOf(l) !== epochsOf(perSeed[0]))) {
    notes.push(
      "no None ladder: its seeds' rungs differ (" +
        perSeed.map((l) => `${l.model}: epochs ${epochsOf(l)}`).join("; ") + "): matched gains not available",
    );
    return null;
  }
  if (perSeed[0].rungs.length === 1) {
    notes.push("the None ladder has only its final epoch: gains only at equal clean accuracy");
  }
  return {
    models: perSeed.map((l) => l.model),
    runs: perSeed.map((l) => l.rungs.map((r) => r.outcomes)),
    epochs: perSeed[0].rungs.map((r) => r.epoch),
  };
}

/** Accuracies pooled over runs (seeds) and images. */
function pooled(runs: Outcomes[]): { clean: number; robust: number } {
  let clean = 0, robust = 0, count = 0;
  for (const r of runs) {
    for (let i = 0; i < r.clean.length; i++) {
      clean += r.clean[i];
      robust += r.robust[i];
    }
    count += r.clean.length;
  }
  return { clean: clean / count, robust: robust / count };
}

async function modelFolders(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(join(dir, "models")))).filter((e) => e.isDirectory).map((e) =>
      e.name
    ).sort();
  } catch {
    return [];
  }
}
