/**
 * `deno task bench`: one table of GFLOP/s for our kernels and the JS peers, measured in the same run on the
 * same adapter, written to `bench/results-<adapter>.json`. Rows come from {@link addRow} (see `bench/suite.ts`):
 * add a module's rows here.
 *
 * Environment: `BENCH_REPS` (timed calls per contender, default 3), `BENCH_ONLY` (substring of the task names
 * to run; their rows replace the same tasks' rows in the results file and the others stay).
 * @module
 */
import { getGpu } from "../lib/gpu/device.ts";
import { runMain } from "../lib/cli/main.ts";
import { parseFlags } from "../lib/cli/args.ts";
import { addAttackRows } from "./attack.ts";
import { addOpRows } from "./ops.ts";
import { addTrainRows } from "./train.ts";
import { type BenchReport, type BenchResult, formatTable, formatThroughput, rows, runRows } from "./suite.ts";

/** Machine ceiling for context (docs/platform.md#kernel-speed), not measured here: 2 Zen 4 cores. */
const CEILING = "machine ceiling: ≈230 GFLOP/s fp32 FMA peak, OpenBLAS sgemm 1024³ ≈170–185 (2 Zen 4 cores)";

const HELP = `deno task bench

Times our kernels and a full training step against jax-js and tfjs-webgpu, in the same run on one adapter,
prints one table and writes bench/results-<adapter>.json (tracked in git: a run replaces the adapter's file).
Takes several minutes on a CPU adapter.

Environment:
  BENCH_REPS=N      timed calls per contender (default 3)
  BENCH_ONLY=TEXT   only the tasks whose name contains TEXT; their rows replace the same tasks' rows in the
                    results file and the others stay

Options:
  -h, --help        this text (runs nothing, writes nothing)`;

async function main(): Promise<void> {
  const { values } = parseFlags(Deno.args, { help: { type: "boolean", short: "h" } });
  if (values.help) return console.log(HELP);
  const gpu = await getGpu();
  const backend = Deno.env.get("DENO_WEBGPU_BACKEND") ?? (await guessBackend());
  addOpRows(gpu);
  addAttackRows(gpu);
  addTrainRows(gpu);
  const only = Deno.env.get("BENCH_ONLY");
  const selected = rows().filter((r) => !only || r.task.includes(only));
  console.error(
    `bench: ${gpu.kind} adapter "${gpu.description}" (${backend}), ${selected.length} rows; several minutes ` +
      `on a CPU adapter, then writes bench/results-<adapter>.json (--help: what it does)`,
  );
  const { results, reports } = await runRows(selected, { reps: Number(Deno.env.get("BENCH_REPS") ?? 3) });
  console.log(formatTable(results));
  const throughput = formatThroughput(results);
  if (throughput) console.log(throughput);
  console.log(`(n×) = neuroguide ÷ that contender. ${CEILING}`);
  for (const r of reports) console.log(`\n${r.task}:\n${r.text ?? `report failed: ${r.error}`}`);
  const slug = gpu.description.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40);
  const file = new URL(`./results-${slug || gpu.kind}.json`, import.meta.url);
  const fresh: BenchRecord = {
    date: new Date().toISOString(),
    adapter: { kind: gpu.kind, description: gpu.description, backend },
    ceiling: CEILING,
    results,
    reports: reports.map(({ task, data, error }) => ({ task, data, error })),
  };
  const record = only ? mergeInto(await readRecord(file), fresh) : fresh;
  await Deno.writeTextFile(file, JSON.stringify(record, null, 2) + "\n");
  console.error(`bench: wrote ${file.pathname}`);
}

/** What `bench/results-<adapter>.json` holds. */
interface BenchRecord {
  date: string;
  adapter: { kind: string; description: string; backend: string };
  ceiling: string;
  results: BenchResult[];
  reports?: Omit<BenchReport, "text">[];
}

async function readRecord(file: URL): Promise<BenchRecord | null> {
  try {
    return JSON.parse(await Deno.readTextFile(file));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * A `BENCH_ONLY` run replaces only its own rows in the adapter's file: earlier rows of other tasks stay (they
 * were measured on the same adapter, possibly on another date; `date` is the newest write).
 */
function mergeInto(old: BenchRecord | null, fresh: BenchRecord): BenchRecord {
  if (!old) return fresh;
  const tasks = new Set(fresh.results.map((r) => r.task));
  const keep = <T extends { task: string }>(list: readonly T[] = []) =>
    list.filter((r) => !tasks.has(r.task));
  return {
    ...fresh,
    results: [...keep(old.results), ...fresh.results],
    reports: [...keep(old.reports), ...(fresh.reports ?? [])],
  };
}

/**
 * Vulkan (lavapipe) offers shader-f16 on this Mesa; GL (llvmpipe) does not (docs/platform.md#kernel-speed).
 */
async function guessBackend(): Promise<string> {
  const adapter = await navigator.gpu.requestAdapter();
  return adapter?.features.has("shader-f16")
    ? "vulkan (inferred: shader-f16)"
    : "gl (inferred: no shader-f16)";
}

if (import.meta.main) await runMain("bench", main);
