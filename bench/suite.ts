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
}

/** One contender's measurement in a row (`error` when it could not run). */
export interface BenchResult {
  task: string;
  contender: string;
  gflops?: number;
  medianMs?: number;
  iterations?: number;
  reps?: number;
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

/**
 * Times one contender: a warm-up call (compiles pipelines), then `reps` timed calls of enough iterations to
 * take about `targetMs` each, so the one readback per call (≈12 ms on llvmpipe) stays small. Reports the median.
 * Contenders slower than `budgetMs / reps` per iteration get fewer timed calls (at least one), so one slow
 * peer cannot stretch the run to many minutes.
 */
export async function measure(
  body: Timed,
  flops: number,
  { reps = 3, targetMs = 600, budgetMs = 20_000 } = {},
): Promise<{ gflops: number; medianMs: number; iterations: number; reps: number }> {
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
  const timedReps = Math.max(1, Math.min(reps, Math.floor(budgetMs / (once * iterations))));
  const times: number[] = [];
  for (let r = 0; r < timedReps; r++) {
    t0 = performance.now();
    await body(iterations);
    times.push((performance.now() - t0) / iterations);
  }
  times.sort((a, b) => a - b);
  const medianMs = times[Math.floor(times.length / 2)];
  return { gflops: flops / (medianMs * 1e6), medianMs, iterations, reps: timedReps };
}

/** Runs every contender of every row, one after another, and collects the results (errors become entries). */
export async function runRows(
  list: readonly BenchRow[],
  options: { reps?: number } = {},
): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const row of list) {
    for (const [contender, setup] of Object.entries(row.contenders)) {
      try {
        const m = await measure(await setup(), row.flops, options);
        results.push({ task: row.task, contender, ...m });
      } catch (e) {
        results.push({ task: row.task, contender, error: (e as Error).message.split("\n")[0] });
      }
      console.error(`  ${row.task} / ${contender}: done`);
    }
  }
  return results;
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
