/**
 * Reads a sweep's results folder (layout in lib/sweep/plan.ts) into one structure. Everything is optional:
 * a missing or unreadable part is recorded in `missing` so the report can say "not available" instead of
 * failing.
 * @module
 */
import { join } from "node:path";
import { PAPER_ORDER } from "../sweep/grid.ts";

/** One model's training outcome. */
export interface ModelResult {
  name: string;
  roi: string | null;
  shuffle: boolean;
  alpha: number | null;
  weightDecay: number | null;
  cleanAccuracy: number | null;
  /** The neural head's r to the predictor on validation images (guided models). */
  neuralR: number | null;
  /** The ROI predictor's mean per-image r on the shared images. */
  predictorR: number | null;
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
  manifold: Record<string, { capacity?: number; radius?: number; dimension?: number }> | null;
  shapeBias: Map<string, number | null>;
  /** Lines from the sweep's plan (stages not run). */
  skipped: string[];
  /** Parts that could not be read, with why. */
  missing: string[];
}

/** The fields of `deno task analyze rsa` output the report uses. */
export interface RsaResult {
  compare: string;
  modelByModel: { rows: string[]; columns: string[]; values: number[][] };
  mds?: Record<string, { coordinates: number[][] }>;
}

/**
 * Orders model names as the paper's figures: None, random, V1_shuffle, TO_shuffle, V1 … TO, then the
 * weight-decay controls by value, then anything else by name; seeds (`_s<k>`) follow their base model.
 */
export function orderModels(names: readonly string[]): string[] {
  const key = (name: string): [number, number, string] => {
    const [, base, seed] = name.match(/^(.*?)(?:_s(\d+))?$/)!;
    const paper = (PAPER_ORDER as readonly string[]).indexOf(base);
    const wd = base.match(/^WD_([\d.]+)$/);
    const rank = paper >= 0 ? paper : wd ? 100 + Number(wd[1]) : 1000;
    return [rank, Number(seed ?? 0), base];
  };
  return [...names].sort((a, b) => {
    const [ra, sa, na] = key(a), [rb, sb, nb] = key(b);
    return ra - rb || na.localeCompare(nb) || sa - sb;
  });
}

/**
 * Reads `dir`.
 *
 * @example
 * ```ts
 * const results = await collectResults("runs/sweep");
 * console.log(results.models.map((m) => `${m.name} ${m.cleanAccuracy}`));
 * ```
 */
export async function collectResults(dir: string): Promise<Results> {
  const missing: string[] = [];
  const plan = await readJson<{ skipped?: string[] }>(join(dir, "plan.json"), missing, false);
  const names = orderModels(await listDirs(join(dir, "models")));
  if (names.length === 0) missing.push(`${join(dir, "models")}: no model folders`);
  const models: ModelResult[] = [];
  const attacks = new Map<string, AttackRow[]>();
  const predictorR = new Map<string, number | null>();
  for (const name of names) {
    const s = await readJson<Record<string, unknown>>(join(dir, "models", name, "summary.json"), missing);
    const final = (s?.final ?? {}) as Record<string, unknown>;
    const roi = typeof s?.roi === "string" ? s.roi : null;
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
      cleanAccuracy: num(final.val_acc),
      neuralR: num(final.val_neural_r),
      predictorR: roi ? predictorR.get(roi) ?? null : null,
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
    manifold: manifold?.inputs ?? null,
    shapeBias,
    skipped: plan?.skipped ?? [],
    missing,
  };
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
