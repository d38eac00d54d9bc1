/**
 * The notebooks in notebooks/, executed headless with the Deno kernel by tools/run_notebook.py against a tiny
 * sweep (tiny world, grid None + TO, one epoch, every analysis; one guided ROI takes the same code paths as
 * notebooks/grid.json's two, since the hierarchy trend needs three): no cell may raise, and every cell tagged
 * "figure" must have produced an image (image/svg+xml or image/png). Also the executor's late-output
 * handling on a scripted kernel message sequence (tools/test_run_notebook.py), which stock nbclient fails.
 * Where Jupyter (Debian's python3-nbclient + the `deno` kernelspec) is missing, both tests are ignored with a
 * visible "skipped: no Jupyter" line; .ci/run installs it, so CI runs them.
 */
import { join } from "node:path";
import { deepStrictEqual, equal, ok } from "../lib/testing/assert.ts";
import { runSweep, tinySweepArgs } from "./fixtures/sweep.ts";
import { tinyWorld } from "./fixtures/world.ts";

/** Debian's Python: nbclient is pinned to its 0.7.2 there (pyenv/venv pythons earlier in PATH lack it). */
const PYTHON = "/usr/bin/python3";

async function run(command: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(command, {
    args,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  })
    .output().catch(() => null);
  const text = new TextDecoder();
  return out && { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Why Jupyter cannot run here, or null when it can. */
async function missingJupyter(): Promise<string | null> {
  const nbclient = await run(PYTHON, ["-c", "import nbclient, jupyter_client"]);
  if (!nbclient || nbclient.code !== 0) {
    return `${PYTHON} cannot import nbclient (apt-get install python3-nbclient)`;
  }
  const kernels = await run(PYTHON, ["-m", "jupyter", "kernelspec", "list"]);
  if (!kernels?.stdout.split("\n").some((line) => line.trim().startsWith("deno "))) {
    return "no deno kernelspec (deno jupyter --install --force)";
  }
  return null;
}

const noJupyter = await missingJupyter();
if (noJupyter) console.log(`skipped: no Jupyter (${noJupyter})`);

interface Output {
  output_type: string;
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
interface Cell {
  cell_type: string;
  metadata: { tags?: string[] };
  outputs?: Output[];
  source: string[] | string;
}

Deno.test({
  name: "notebook executor: output published after the cell's idle status is kept (stock nbclient drops it)",
  ignore: noJupyter !== null,
  async fn() {
    const result = await run(PYTHON, ["tools/test_run_notebook.py"]);
    equal(result?.code, 0, `tools/test_run_notebook.py failed:\n${result?.stdout}\n${result?.stderr}`);
  },
});

Deno.test({
  name: "notebooks: every notebook runs on a tiny sweep without errors, every figure cell shows an image",
  ignore: noJupyter !== null,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ng-notebooks-" });
    try {
      const models = [{ name: "None", roi: "none" }, { name: "TO", roi: "TO" }];
      const sweep = await runSweep([
        ...await tinySweepArgs(dir, models, ["--attacks", "pgd", "--analysis-n", "2"]),
        "--quiet",
      ]);
      equal(sweep.code, 0, `sweep failed: ${sweep.stderr}`);

      const notebooks = [...Deno.readDirSync("notebooks")].filter((e) => e.name.endsWith(".ipynb"))
        .map((e) => join("notebooks", e.name)).sort();
      ok(notebooks.length >= 7, `expected the 7 notebooks, found ${notebooks.length}`);
      const executed = join(dir, "executed");
      const result = await run(PYTHON, ["tools/run_notebook.py", "--out", executed, ...notebooks], {
        NEUROGUIDE_RESULTS: join(dir, "out"),
        NEUROGUIDE_SIM: await tinyWorld(),
      });
      console.log(result?.stdout.trim());

      const problems: string[] = [];
      let figures = 0;
      for (const path of notebooks) {
        const name = path.split("/").at(-1)!;
        const notebook = JSON.parse(await Deno.readTextFile(join(executed, name))) as { cells: Cell[] };
        notebook.cells.forEach((cell, index) => {
          if (cell.cell_type !== "code") return;
          for (const o of cell.outputs ?? []) {
            if (o.output_type === "error") problems.push(`${name} cell ${index}: ${o.ename}: ${o.evalue}`);
          }
          if (!cell.metadata.tags?.includes("figure")) return;
          figures++;
          const image = (cell.outputs ?? []).some((o) => o.data?.["image/svg+xml"] || o.data?.["image/png"]);
          if (!image) problems.push(`${name} cell ${index}: figure cell without an image output`);
        });
      }
      deepStrictEqual(problems, [], `notebook problems:\n${problems.join("\n")}\n${result?.stderr}`);
      equal(result?.code, 0, `run_notebook.py exit code; stderr:\n${result?.stderr}`);
      ok(figures >= 12, `expected at least 12 figure cells over the notebooks, found ${figures}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
