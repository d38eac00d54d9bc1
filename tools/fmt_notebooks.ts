/**
 * Formats the notebooks' code cells as `deno fmt` formats TypeScript, or checks them with `--check`.
 *
 * Why not `deno fmt` itself: deno 2.9.6's `deno fmt --check` reports every typed `.ipynb` as unformatted (with an
 * empty diff) even right after `deno fmt` wrote it, so deno.json excludes `notebooks/` and `deno task check` runs
 * this instead. Each code cell goes through `deno fmt --ext ts -`; the cell keeps no final newline, as Jupyter
 * and deno's own notebook formatter write it. Notebooks are written back the way Jupyter writes them (one-space
 * JSON indent, final newline), through a temp file and a rename.
 */
type Cell = { cell_type: string; source: string | string[] };
type Notebook = { cells: Cell[] };

const check = Deno.args.includes("--check");
const folder = new URL("../notebooks/", import.meta.url);

async function formatTypeScript(code: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", "ts", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(code));
  await writer.close();
  const { code: status, stdout, stderr } = await child.output();
  if (status !== 0) throw new Error(new TextDecoder().decode(stderr).trim());
  return new TextDecoder().decode(stdout).replace(/\n+$/, "");
}

/** Jupyter's line split: every line keeps its "\n" except the last. */
function sourceLines(text: string): string[] {
  return text.split(/(?<=\n)/);
}

const names = [...Deno.readDirSync(folder)].map((e) => e.name).filter((n) => n.endsWith(".ipynb")).sort();
const unformatted: string[] = [];
for (const name of names) {
  const path = new URL(name, folder);
  const notebook: Notebook = JSON.parse(Deno.readTextFileSync(path));
  let changed = false;
  for (const [index, cell] of notebook.cells.entries()) {
    if (cell.cell_type !== "code") continue;
    const source = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
    let formatted: string;
    try {
      formatted = await formatTypeScript(source);
    } catch (error) {
      console.error(`notebooks/${name} cell ${index}: ${(error as Error).message}`);
      Deno.exit(1);
    }
    if (formatted === source) continue;
    changed = true;
    cell.source = sourceLines(formatted);
  }
  if (!changed) continue;
  unformatted.push(`notebooks/${name}`);
  if (!check) {
    const temp = `${path.pathname}.tmp`;
    Deno.writeTextFileSync(temp, JSON.stringify(notebook, null, 1) + "\n");
    Deno.renameSync(temp, path);
  }
}
if (check && unformatted.length > 0) {
  console.error(`not formatted: ${unformatted.join(", ")} (fix: deno run -A tools/fmt_notebooks.ts)`);
  Deno.exit(1);
}
if (unformatted.length > 0) console.log(`formatted ${unformatted.join(", ")}`);
