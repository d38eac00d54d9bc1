/**
 * The benchmark table: rows of equal work done by several contenders, each timed on the same adapter in the
 * same run. Other modules add rows with {@link addRow}; `bench/bench.ts` runs them all.
 * @module
 */

/** A prepared contender: runs the row's work `iterations` times back to back and waits once at the end. */
export type Timed = (iterations: number) => Promise<void>;

/** One row: a piece of work and the contenders that do it. */
export interface BenchRow {
  /** What is computed, e.g. "matmul 1024³". */
  task: string;
  /** Floating-point operations of one iteration (2 per multiply-add). */
  flops: number;
  /** Contender name → setup returning the timed body (setup time is not measured). */
  contenders: Record<string, () => Promise<Timed>>;
  /** Items one iteration processes (e.g. 32 images): results then also give items per second. */
  items?: { count: number; unit: string };
  /** Analysis run once after the contenders (e.g. a kernel profile), printed below the table and saved. */
  report?: () => Promise<{ text: string; data: unknown }>;
}

/** A row's {@link BenchRow.report} output (or why it failed). */
export interface BenchReport {
  task: string;
  text?: string;
  data?: unknown;
  error?: string;
}

/** One contender's measurement in a row (`error` when it could not run). */
export interface BenchResult {
  task: string;
  contender: string;
  gflops?: number;
  medianMs?: number;
  iterations?: number;
  reps?: number;
  /** Items per second, for rows that declare {@link BenchRow.items}. */
  perSecond?: number;
  unit?: string;
  error?: string;
}

const registry: BenchRow[] = [];

/** Adds a row to the table that `bench/bench.ts` prints. */
export function addRow(row: BenchRow): void {
  registry.push(row);
}

/** The rows added so far, in order. */
export function rows(): readonly BenchRow[] {
  return registry;
}

/** How a contender is timed: `reps` calls of `iterations` iterations each. */
interface Calibration {
  iterations: number;
  reps: number;
}

/**
 * Calibrates one contender: a warm-up call (compiles pipelines), then enough iterations per timed call to take
 * about `targetMs`, so the one readback per call (≈12 ms on llvmpipe) stays small. Contenders slower than
 * `budgetMs / reps` per iteration get fewer timed calls (at least one), so one slow peer cannot stretch the
 * run to many minutes.
 */
async function calibrate(
  body: Timed,
  { reps = 3, targetMs = 600, budgetMs = 20_000 } = {},
): Promise<Calibration> {
  let t0 = performance.now();
  await body(1);
  let once = performance.now() - t0;
  if (once < 4 * targetMs) {
    // the first call also compiled: time a second one for the estimate
    t0 = performance.now();
    await body(1);
    once = performance.now() - t0;
  }
  const iterations = Math.max(1, Math.round(targetMs / Math.max(1, once)));
  return { iterations, reps: Math.max(1, Math.min(reps, Math.floor(budgetMs / (once * iterations)))) };
}

/**
 * Runs every row: sets up and calibrates each contender, then times them in turns (one call of each per
 * round), so that load from other processes on a shared machine falls on all contenders of a row alike;
 * each contender's median ms per iteration is reported. Then the row's report runs. Errors become entries
 * and are printed in full.
 */
export async function runRows(
  list: readonly BenchRow[],
  options: { reps?: number } = {},
): Promise<{ results: BenchResult[]; reports: BenchReport[] }> {
  const results: BenchResult[] = [];
  const reports: BenchReport[] = [];
  const failed = (what: string, e: unknown) => {
    console.error(`  ${what}: FAILED: ${(e as Error).message}`);
    return (e as Error).message.split("\n")[0];
  };
  for (const row of list) {
    const entries: {
      contender: string;
      body?: Timed;
      plan?: Calibration;
      times: number[];
      error?: string;
    }[] = [];
    for (const [contender, setup] of Object.entries(row.contenders)) {
      const entry: (typeof entries)[number] = { contender, times: [] };
      entries.push(entry);
      try {
        entry.body = await setup();
        entry.plan = await calibrate(entry.body, options);
      } catch (e) {
        entry.error = failed(`${row.task} / ${contender}`, e);
      }
    }
    const rounds = Math.max(0, ...entries.map((e) => e.plan?.reps ?? 0));
    for (let round = 0; round < rounds; round++) {
      for (const entry of entries) {
        if (entry.error || !entry.body || !entry.plan || round >= entry.plan.reps) continue;
        try {
          const t0 = performance.now();
          await entry.body(entry.plan.iterations);
          entry.times.push((performance.now() - t0) / entry.plan.iterations);
        } catch (e) {
          entry.error = failed(`${row.task} / ${entry.contender}`, e);
        }
      }
    }
    for (const { contender, plan, times, error } of entries) {
      if (error || !plan) {
        results.push({ task: row.task, contender, error: error ?? "not run" });
        continue;
      }
      const medianMs = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
      const items = row.items && { perSecond: (row.items.count * 1000) / medianMs, unit: row.items.unit };
      results.push({
        task: row.task,
        contender,
        gflops: row.flops / (medianMs * 1e6),
        medianMs,
        iterations: plan.iterations,
        reps: times.length,
        ...items,
      });
    }
    console.error(`  ${row.task}: done`);
    if (row.report) {
      try {
        reports.push({ task: row.task, ...await row.report() });
      } catch (e) {
        reports.push({ task: row.task, error: failed(`${row.task} / report`, e) });
      }
    }
  }
  return { results, reports };
}

/** One line per row with items per second: each contender's rate and the first contender's ratio to it. */
export function formatThroughput(results: readonly BenchResult[]): string {
  const tasks = [...new Set(results.filter((r) => r.perSecond !== undefined).map((r) => r.task))];
  return tasks.map((task) => {
    const inRow = results.filter((r) => r.task === task);
    const base = inRow[0].perSecond;
    const cells = inRow.map((r) => {
      if (r.perSecond === undefined) return `${r.contender} error`;
      const ratio = base && r !== inRow[0] ? ` (${(base / r.perSecond).toFixed(2)}×)` : "";
      return `${r.contender} ${r.perSecond.toFixed(1)} ${r.unit}/s${ratio}`;
    });
    return `${task}: ${cells.join(" | ")}`;
  }).join("\n");
}

/** A plain-text table: one line per row, GFLOP/s per contender and each one's ratio to the first contender. */
export function formatTable(results: readonly BenchResult[]): string {
  const contenders = [...new Set(results.map((r) => r.contender))];
  const tasks = [...new Set(results.map((r) => r.task))];
  const cell = (r: BenchResult | undefined, base: BenchResult | undefined) => {
    if (!r) return "-";
    if (r.error || r.gflops === undefined) return "error";
    const ratio = base?.gflops && r !== base ? ` (${(base.gflops / r.gflops).toFixed(2)}×)` : "";
    return `${r.gflops.toFixed(2)}${ratio}`;
  };
  const header = ["task", ...contenders.map((c) => `${c} GFLOP/s`)];
  const lines = tasks.map((task) => {
    const inRow = results.filter((r) => r.task === task);
    const base = inRow[0];
    return [task, ...contenders.map((c) => cell(inRow.find((r) => r.contender === c), base))];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i])).join(" | ");
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...lines.map(fmt)].join("\n");
}
