/**
 * The line between the library and the command line: no `lib/` file outside `lib/cli/` imports `lib/cli/` or
 * `tasks/` (so a notebook's `import … from "mod.ts"` never reaches CLI code), no task imports another task, and a
 * test imports a task only for its `main` (to drive that command line in process). Import statements are read
 * with comments and string contents skipped, so JSDoc examples do not count.
 */
import { dirname, join, normalize, relative } from "node:path";
import { deepStrictEqual, equal } from "../lib/testing/assert.ts";

/** An import or re-export: the specifier and the binding clause (`{ a, b as c }`, `* as x`, or "" for none). */
interface ImportStatement {
  specifier: string;
  bindings: string;
}

/** `source` with comments removed and the contents of template literals blanked; other strings are kept. */
function stripComments(source: string): string {
  let out = "";
  for (let i = 0; i < source.length;) {
    const c = source[i], next = source[i + 1];
    if (c === "/" && next === "/") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      i = end < 0 ? source.length : end + 2;
      out += " ";
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < source.length && source[j] !== c && !(c !== "`" && source[j] === "\n")) {
        j += source[j] === "\\" ? 2 : 1;
      }
      out += c === "`" ? "``" : source.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Every static import, re-export and dynamic import with a literal specifier in `source`. */
function importStatements(source: string): ImportStatement[] {
  const code = stripComments(source);
  const found: ImportStatement[] = [];
  const fromClause = /\b(?:import|export)\s+(type\s+)?([^;"'`]*?)\s*\bfrom\s*(["'])([^"']+)\3/g;
  for (const m of code.matchAll(fromClause)) found.push({ specifier: m[4], bindings: m[2].trim() });
  for (const m of code.matchAll(/\bimport\s*(["'])([^"']+)\1/g)) {
    found.push({ specifier: m[2], bindings: "" });
  }
  for (const m of code.matchAll(/\bimport\s*\(\s*(["'])([^"']+)\1\s*\)/g)) {
    found.push({ specifier: m[2], bindings: "*" });
  }
  return found;
}

/** The repository-relative path `specifier` names from `file`, or null for packages and URLs. */
function resolveFrom(file: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) return null;
  return normalize(join(dirname(file), specifier));
}

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...await sourceFiles(path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files.sort();
}

async function offenders(
  dir: string,
  bad: (file: string, target: string, statement: ImportStatement) => boolean,
): Promise<string[]> {
  const found: string[] = [];
  for (const file of await sourceFiles(dir)) {
    for (const statement of importStatements(await Deno.readTextFile(file))) {
      const target = resolveFrom(file, statement.specifier);
      if (target !== null && bad(file, target, statement)) found.push(`${file} imports ${target}`);
    }
  }
  return found;
}

const under = (path: string, folder: string) => !relative(folder, path).startsWith("..");

Deno.test("import parser: multi-line, type-only, re-exports and dynamic imports; comments and strings skipped", () => {
  const source = [
    "/** @example",
    ' * import { main } from "../tasks/attack.ts";',
    " */",
    'import {\n  a,\n  type B,\n} from "./a.ts";',
    'import type { C } from "../c.ts"; // import { d } from "./d.ts";',
    'export { e } from "./e.ts";',
    'import "./side.ts";',
    'const text = `import { f } from "./f.ts"`;',
    'const g = await import("./g.ts");',
  ].join("\n");
  deepStrictEqual(importStatements(source), [
    { specifier: "./a.ts", bindings: "{\n  a,\n  type B,\n}" },
    { specifier: "../c.ts", bindings: "{ C }" },
    { specifier: "./e.ts", bindings: "{ e }" },
    { specifier: "./side.ts", bindings: "" },
    { specifier: "./g.ts", bindings: "*" },
  ]);
  equal(resolveFrom("lib/train/loop.ts", "../cli/progress.ts"), "lib/cli/progress.ts");
  equal(resolveFrom("lib/train/loop.ts", "node:path"), null);
});

Deno.test("no lib file outside lib/cli imports lib/cli or tasks/", async () => {
  const found = await offenders(
    "lib",
    (file, target) => !under(file, "lib/cli") && (under(target, "lib/cli") || under(target, "tasks")),
  );
  deepStrictEqual(found, []);
});

Deno.test("no task imports another task; tests import a task only for its main", async () => {
  deepStrictEqual(await offenders("tasks", (_file, target) => under(target, "tasks")), []);
  const onlyMain = /^\{\s*main(\s+as\s+\w+)?\s*\}$/;
  deepStrictEqual(
    await offenders("tests", (_file, target, s) => under(target, "tasks") && !onlyMain.test(s.bindings)),
    [],
  );
});

Deno.test("the bottom layers lib/gpu and lib/linalg import only themselves and lib/errors.ts", async () => {
  for (const layer of ["lib/gpu", "lib/linalg"]) {
    deepStrictEqual(
      await offenders(layer, (_file, target) => !under(target, layer) && target !== "lib/errors.ts"),
      [],
    );
  }
});
