/**
 * `deno task bench`: one table of GFLOP/s for our kernels and the JS peers, measured in the same run on the
 * same adapter, written to `bench/results-<adapter>.json`. Rows come from {@link addRow} (see `bench/suite.ts`):
 * add a module's rows here.
 *
 * Environment: `BENCH_REPS` (timed calls per contender, default 3), `BENCH_ONLY` (substring of the task names
 * to run).
 * @module
 */
import { getGpu } from "../lib/gpu/device.ts";
import { runMain } from "../lib/cli/main.ts";
import { addAttackRows } from "./attack.ts";
import { addOpRows } from "./ops.ts";
import { formatTable, rows, runRows } from "./suite.ts";

/** Machine ceiling for context (platform.md §11), not measured here: 2 Zen 4 cores. */
const CEILING = "machine ceiling: ≈230 GFLOP/s fp32 FMA peak, OpenBLAS sgemm 1024³ ≈170–185 (2 Zen 4 cores)";

async function main(): Promise<void> {
  const gpu = await getGpu();
  const backend = Deno.env.get("DENO_WEBGPU_BACKEND") ?? (await guessBackend());
  addOpRows(gpu);
  addAttackRows(gpu);
  const only = Deno.env.get("BENCH_ONLY");
  const selected = rows().filter((r) => !only || r.task.includes(only));
  console.error(`bench: ${gpu.kind} adapter "${gpu.description}" (${backend}), ${selected.length} rows`);
  const results = await runRows(selected, { reps: Number(Deno.env.get("BENCH_REPS") ?? 3) });
  console.log(formatTable(results));
  console.log(`(n×) = neuroguide ÷ that contender. ${CEILING}`);
  const slug = gpu.description.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40);
  const file = new URL(`./results-${slug || gpu.kind}.json`, import.meta.url);
  const record = {
    date: new Date().toISOString(),
    adapter: { kind: gpu.kind, description: gpu.description, backend },
    ceiling: CEILING,
    results,
  };
  await Deno.writeTextFile(file, JSON.stringify(record, null, 2) + "\n");
  console.error(`bench: wrote ${file.pathname}`);
}

/** Vulkan (lavapipe) offers shader-f16 on this Mesa; GL (llvmpipe) does not (platform.md §11). */
async function guessBackend(): Promise<string> {
  const adapter = await navigator.gpu.requestAdapter();
  return adapter?.features.has("shader-f16")
    ? "vulkan (inferred: shader-f16)"
    : "gl (inferred: no shader-f16)";
}

if (import.meta.main) await runMain("bench", main);
