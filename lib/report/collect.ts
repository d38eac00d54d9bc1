/**
 * Reads a sweep's results folder (layout in lib/sweep/plan.ts) into one structure. Everything is optional:
 * a missing or unreadable part is recorded in `missing` so the report can say "not available" instead of
 * failing.
 * @module
 */
import { basename, join } from "node:path";
import { ORACLE_TEACHERS, PAPER_ORDER } from "../sweep/grid.ts";
import { type EpochMetrics, RunDir } from "../train/run_dir.ts";

/** One model's training outcome. */
export interface ModelResult {
  name: string;
  roi: string | null;
  shuffle: boolean;
  alpha: number | null;
  weightDecay: number | null;
  /** Epochs it trained (a grid model may train its own). */
  epochs: number | null;
  cleanAccuracy: number | null;
  /** The neural head's r to the predictor on validation images (guided models). */
  neuralR: number | null;
  /** The ROI predictor's mean per-image r on the shared images. */
  predictorR: number | null;
  /**
   * How far the neural head and the ROI's target moved under δ (mean L2 per image, averaged over epochs):
   * logged by the `oracle-adversarial-sham` teacher only, else null.
   */
  movement: { head: number; target: number } | null;
}

/** One row of an attack report (fields of `deno task attack`'s JSON rows that the report uses). */
export interface AttackRow {
  attack: string;
  norm: string;
  eps: number;
  clean_accuracy: number;
  robust_accuracy: number;
}

/** A results folder, read. */
export interface Results {
  dir: string;
  /** Models in ROI-hierarchy order (see {@link orderModels}). */
  models: ModelResult[];
  /** model → attack rows (all attacks of that model). */
  attacks: Map<string, AttackRow[]>;
  /** Parsed `analyses/rsa.json`, `analyses/manifold.json`, `analyses/shape_bias/<model>.json`. */
  rsa: RsaResult | null;
  /** Feature input (`<model>:<tensor>`) → its geometry. */
  manifold: Record<string, ManifoldRow> | null;
  shapeBias: Map<string, number | null>;
  /** `analyses/cka.json`'s model × model linear-CKA matrix. */
  cka: MatrixResult | null;
  /** Per model (hierarchy order): `analyses/smoothness/<model>.json`, `landscape/…`, `transfer/…`. */
  smoothness: Map<string, SmoothnessRow[]>;
  landscape: Map<string, LandscapeResult>;
  transfer: Map<string, TransferResult>;
  /** Lines from the sweep's plan (stages not run). */
  skipped: string[];
  /** Parsed `analyses/brain_rsa.json`: every model's RDM against every ROI's (null when absent). */
  brainRsa: BrainRsaResult | null;
  /** Units of every ε in the sweep (`normalized` or `pixel`, from its plan; null when unknown). */
  epsUnits: string | null;
  /** Parts that could not be read, with why. */
  missing: string[];
}

/** A labelled matrix as `deno task analyze` writes it. */
export interface MatrixResult {
  rows: string[];
  columns: string[];
  values: number[][];
}

/** The fields of `deno task analyze rsa` output the report uses. */
export interface RsaResult {
  compare: string;
  modelByModel: MatrixResult;
  mds?: Record<string, { coordinates: number[][] }>;
}

/** The fields of the model × ROI `deno task analyze rsa --roi` output (sweep analysis brain-rsa). */
export interface BrainRsaResult {
  compare: string;
  modelByRoi: MatrixResult;
}

/** One input's manifold geometry (`deno task analyze manifold`, overall means over classes). */
export interface ManifoldRow {
  capacity?: number;
  radius?: number;
  dimension?: number;
  separability?: { accuracy?: number };
}

/** Output-surface smoothness at one ε in the sweep's units (a `deno task analyze smoothness` row). */
export interface SmoothnessRow {
  eps: number;
  value: number;
}

/** `deno task analyze landscape`: one loss grid per input over `coordinates` × `coordinates`. */
export interface LandscapeResult {
  directions: string;
  grid: number;
  span: number;
  inputs: { coordinates: number[]; loss: number[][]; margin: number[][] }[];
}

/** One source's transfer run: robust accuracy per ε on the source itself and on each target model. */
export interface TransferResult {
  /** Target model names (the run folders' names). */
  targets: string[];
  rows: { eps: number; source: number; targets: Record<string, number | null> }[];
}

/**
 * Orders model names as the paper's figures: None, random, V1_shuffle, TO_shuffle, V1 … TO, then the
 * weight-decay controls by value, then the oracle-taught controls (`<ROI>_<teacher>`) by teacher (oracle,
 * oracle-shuffled, oracle-perturbed, oracle-adversarial, oracle-adversarial-head, oracle-adversarial-sham: the
 * order of `TEACHERS`) and then ROI in hierarchy order, then anything else by name; α variants (`_a<α>`) and
 * seeds (`_s<k>`) follow their base model.
 */
export function orderModels(names: readonly string[]): string[] {
  const key = (name: string): [number, number, string] => {
    // an α variant (`_a<α>`, --alphas) sorts with its base model
    const [, base, seed] = name.match(/^(.*?)(?:_a[\d.]+)?(?:_s(\d+))?$/)!;
    const paper = (PAPER_ORDER as readonly string[]).indexOf(base);
    const wd = base.match(/^WD_([\d.]+)$/);
    const [, roi, teacher] = base.match(/^(.+?)_(oracle(?:-[a-z]+)*)$/) ?? [];
    const oracle = (ORACLE_TEACHERS as readonly string[]).indexOf(teacher);
    const roiRank = (PAPER_ORDER as readonly string[]).indexOf(roi);
    const rank = paper >= 0
      ? paper
      : wd
      ? 100 + Number(wd[1])
      : oracle >= 0 && roiRank >= 0
      ? 200 + oracle * PAPER_ORDER.length + roiRank
      : 1000;
    return [rank, Number(seed ?? 0), base];
  };
  return [...names].sort((a, b) => {
    const [ra, sa, na] = key(a), [rb, sb, nb] = key(b);
    return ra - rb || na.localeCompare(nb) || sa - sb || a.localeCompare(b);
  });
}

/**
 * Reads `dir`.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir(); // any folder: what is missing is listed, not an error
 * const results = await collectResults(dir);
 * console.log(results.models.map((m) => `${m.name} ${m.cleanAccuracy}`), results.missing);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function collectResults(dir: string): Promise<Results> {
  const missing: string[] = [];
  const plan = await readJson<{ skipped?: string[]; settings?: { epsUnits?: string } }>(
    join(dir, "plan.json"),
    missing,
    false,
  );
  const names = orderModels(await listDirs(join(dir, "models")));
  if (names.length === 0) missing.push(`${join(dir, "models")}: no model folders`);
  const models: ModelResult[] = [];
  const attacks = new Map<string, AttackRow[]>();
  const predictorR = new Map<string, number | null>();
  for (const name of names) {
    const s = await readJson<Record<string, unknown>>(join(dir, "models", name, "summary.json"), missing);
    const final = (s?.final ?? {}) as Record<string, unknown>;
    const roi = typeof s?.roi === "string" ? s.roi : null;
    // an oracle-taught model has no predictor: the ROI's predictor r is not its teacher's
    const teacher = (s?.teacher as { kind?: unknown } | undefined)?.kind;
    const predictorTaught = teacher === undefined || teacher === "predictor";
    if (roi && !predictorR.has(roi)) {
      const p = await readJson<{ final?: Record<string, unknown> }>(
        join(dir, "predictors", roi, "summary.json"),
        [],
      );
      predictorR.set(roi, num(p?.final?.val_r_mean));
    }
    models.push({
      name,
      roi,
      shuffle: s?.shuffle === true,
      alpha: num(s?.alpha),
      weightDecay: num(s?.weightDecay),
      epochs: num(s?.epochs),
      cleanAccuracy: num(final.val_acc),
      neuralR: num(final.val_neural_r),
      predictorR: roi && predictorTaught ? predictorR.get(roi) ?? null : null,
      movement: await movementOf(join(dir, "models", name), missing),
    });
    const rows: AttackRow[] = [];
    for (const file of (await listFiles(join(dir, "attacks", name))).filter((f) => f.endsWith(".json"))) {
      const report = await readJson<{ rows?: AttackRow[] }>(join(dir, "attacks", name, file), missing);
      if (report?.rows) rows.push(...report.rows);
    }
    if (rows.length) attacks.set(name, rows);
  }
  const shapeBias = new Map<string, number | null>();
  for (const file of await listFiles(join(dir, "analyses", "shape_bias"))) {
    if (!file.endsWith(".json")) continue;
    const r = await readJson<{ shapeBias?: number | null }>(
      join(dir, "analyses", "shape_bias", file),
      missing,
    );
    if (r) shapeBias.set(file.replace(/\.json$/, ""), r.shapeBias ?? null);
  }
  const cka = await readJson<{ modelByModel?: MatrixResult & { linear?: number[][] } }>(
    join(dir, "analyses", "cka.json"),
    missing,
    false,
  );
  const ckaLinear = cka?.modelByModel?.linear;
  const manifold = await readJson<{ inputs?: Results["manifold"] }>(
    join(dir, "analyses", "manifold.json"),
    missing,
    false,
  );
  return {
    dir,
    models,
    attacks,
    rsa: await readJson<RsaResult>(join(dir, "analyses", "rsa.json"), missing, false),
    brainRsa: await readJson<BrainRsaResult>(join(dir, "analyses", "brain_rsa.json"), missing, false)
      .then((r) => r?.modelByRoi ? r : null),
    manifold: manifold?.inputs ?? null,
    shapeBias,
    cka: cka?.modelByModel && ckaLinear ? { ...cka.modelByModel, values: ckaLinear } : null,
    smoothness: await perModel(
      dir,
      "smoothness",
      missing,
      (r: { smoothness?: SmoothnessRow[] }) =>
        r.smoothness?.map((p) => ({ eps: p.eps, value: p.value })) ?? null,
    ),
    landscape: await perModel(
      dir,
      "landscape",
      missing,
      (r: LandscapeResult) => Array.isArray(r.inputs) ? r : null,
    ),
    transfer: await perModel(dir, "transfer", missing, transferResult),
    skipped: plan?.skipped ?? [],
    epsUnits: plan?.settings?.epsUnits ?? null,
    missing,
  };
}

/**
 * Reads `analyses/<kind>/<model>.json` of every model there, in hierarchy order; `pick` returns null for a
 * file without the expected fields (recorded in `missing`).
 */
async function perModel<R, T>(
  dir: string,
  kind: string,
  missing: string[],
  pick: (raw: R) => T | null,
): Promise<Map<string, T>> {
  const folder = join(dir, "analyses", kind);
  const names = orderModels(
    (await listFiles(folder)).filter((f) => f.endsWith(".json")).map((f) => f.replace(/\.json$/, "")),
  );
  const out = new Map<string, T>();
  for (const name of names) {
    const path = join(folder, `${name}.json`);
    const raw = await readJson<R>(path, missing);
    if (raw === null) continue;
    const value = pick(raw);
    if (value === null) {
      missing.push(`${path}: not a deno task ${kind === "transfer" ? "attack" : "analyze"} output`);
    } else out.set(name, value);
  }
  return out;
}

/** The transfer part of a `deno task attack --transfer` report, targets named by their run folder. */
function transferResult(raw: {
  transfer?: { targets?: string[]; matrix?: Record<string, unknown>[] };
}): TransferResult | null {
  const t = raw.transfer;
  if (!t?.targets || !t.matrix) return null;
  // a target is a run folder or the model.safetensors inside one: the folder's name is the model's
  const modelName = (path: string) => basename(path.replace(/[\/]model\.safetensors$/, ""));
  return {
    targets: t.targets.map(modelName),
    rows: t.matrix.map((row) => ({
      eps: num(row.eps) ?? NaN,
      source: num(row.source) ?? NaN,
      targets: Object.fromEntries(t.targets!.map((path) => [modelName(path), num(row[path])])),
    })),
  };
}

/**
 * The epochs' mean `train_head_move` and `train_target_move` in a run folder's `metrics.jsonl`; null without
 * them. A damaged file is recorded in `missing`, like a corrupt JSON file.
 */
async function movementOf(run: string, missing: string[]): Promise<ModelResult["movement"]> {
  let epochs: EpochMetrics[];
  try {
    epochs = await new RunDir(run).readMetrics();
  } catch (e) {
    missing.push((e as Error).message);
    return null;
  }
  epochs = epochs.filter((e) => "train_head_move" in e);
  const mean = (key: string) => epochs.reduce((a, e) => a + (num(e[key]) ?? NaN), 0) / epochs.length;
  return epochs.length ? { head: mean("train_head_move"), target: mean("train_target_move") } : null;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** Reads JSON; an absent file is recorded in `missing` only when `required`, a corrupt one always. */
async function readJson<T>(path: string, missing: string[], required = true): Promise<T | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    if (required) missing.push(`${path}: missing`);
    return null;
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    missing.push(`${path}: not JSON (${(e as Error).message})`);
    return null;
  }
}

async function listDirs(dir: string): Promise<string[]> {
  return (await list(dir)).filter((e) => e.isDirectory).map((e) => e.name);
}

async function listFiles(dir: string): Promise<string[]> {
  return (await list(dir)).filter((e) => e.isFile).map((e) => e.name).sort();
}

async function list(dir: string): Promise<Deno.DirEntry[]> {
  try {
    return await Array.fromAsync(Deno.readDir(dir));
  } catch {
    return [];
  }
}
