/**
 * The repository explains itself: every comment or page that cites a `docs/…md` page (with or without an
 * `#anchor`) names a file that exists and a heading it has, and nothing cites the out-of-repository
 * specifications the code was written from (`method.md §3` and the like).
 * @module
 */
import { dirname, join, normalize, relative } from "node:path";
import { deepStrictEqual, equal } from "../lib/testing/assert.ts";

const ROOT = normalize(join(dirname(new URL(import.meta.url).pathname), ".."));
/** Folders and files whose comments and pages are checked. */
const SCANNED = [
  "lib",
  "tasks",
  "tests",
  "kernels",
  "tools",
  "bench",
  "notebooks",
  "docs",
  ".ci",
  "mod.ts",
  "README.md",
];
const TEXT_FILE = /\.(ts|wgsl|py|md|ipynb|sh)$|^\.ci\/[^.]+$/;
/** Names of the specifications that live outside the repository; a citation must go through `docs/`. */
const OUTSIDE = ["method", "nsd-formats", "attacks-and-analyses", "platform", "rsa", "flags", "result"];

/** GitHub's heading anchor: lower case, punctuation dropped (hyphens and underscores kept), spaces → `-`. */
export function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

/** A Markdown page's anchors: one per heading outside code fences, repeats numbered as GitHub does. */
export function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = !fenced && line.match(/^#{1,6}\s+(.*?)\s*#*\s*$/);
    if (!m) continue;
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/**
 * The problems of one file's citations. `file` is relative to the repository root; `pages` maps each
 * `docs/…md` path to its anchors (a missing key = the page does not exist).
 */
export function citationProblems(file: string, text: string, pages: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  const lines = text.split("\n");
  const check = (line: number, target: string, anchor: string | undefined, cited: string) => {
    const headings = pages.get(target);
    if (!headings) problems.push(`${file}:${line}: ${cited} cites ${target}, which does not exist`);
    else if (anchor !== undefined && !headings.has(anchor)) {
      problems.push(`${file}:${line}: ${cited} cites #${anchor}, which ${target} has no heading for`);
    }
  };
  const isPage = file.endsWith(".md");
  lines.forEach((content, i) => {
    const line = i + 1;
    // docs/page.md#anchor anywhere (code comments, help texts, relative links that pass through docs/)
    for (const m of content.matchAll(/(?:\.\.\/)*docs\/([\w-]+\.md)(?:#([\w-]+))?/g)) {
      check(line, `docs/${m[1]}`, m[2], m[0]);
    }
    // Markdown links relative to the page: [text](other.md#anchor) and [text](#anchor)
    if (isPage) {
      for (const m of content.matchAll(/\]\((?!https?:)([^)#\s]*\.md)?(?:#([\w-]+))?\)/g)) {
        if (m[1] === undefined && m[2] === undefined) continue;
        const target = m[1] === undefined ? file : relative(ROOT, join(ROOT, dirname(file), m[1]));
        if (target.startsWith("docs/") || m[1] === undefined) check(line, target, m[2], m[0]);
      }
    }
    // A section sign after a document name is a citation of a numbered outside section.
    for (const m of content.matchAll(/[\w-]+(?:\.md)?`?\s*§\s*\d/g)) {
      if (/^(method|nsd-formats|attacks-and-analyses|platform|rsa|flags|result|report)\b/.test(m[0])) {
        problems.push(`${file}:${line}: '${m[0]}' cites a section of a document outside the repository`);
      }
    }
    // A bare specification name outside docs/ (pages inside docs/ link to each other by relative links).
    if (!file.startsWith("docs/")) {
      for (
        const m of content.matchAll(new RegExp(`(?:^|[^\\w/.-])((?:${OUTSIDE.join("|")})\\.md)\\b`, "g"))
      ) {
        problems.push(`${file}:${line}: '${m[1]}' is not in the repository; cite docs/${m[1]} instead`);
      }
    }
  });
  return problems;
}

async function* textFiles(path: string): AsyncGenerator<string> {
  const info = await Deno.stat(join(ROOT, path)).catch(() => null);
  if (!info) return;
  if (info.isFile) {
    if (TEXT_FILE.test(path) || !path.includes("/")) yield path;
    return;
  }
  for await (const entry of Deno.readDir(join(ROOT, path))) {
    if (entry.name === "node_modules" || entry.name === "fixtures") continue;
    yield* textFiles(join(path, entry.name));
  }
}

async function docsPages(): Promise<Map<string, Set<string>>> {
  const pages = new Map<string, Set<string>>();
  for await (const entry of Deno.readDir(join(ROOT, "docs"))) {
    if (entry.isFile && entry.name.endsWith(".md")) {
      pages.set(`docs/${entry.name}`, anchors(await Deno.readTextFile(join(ROOT, "docs", entry.name))));
    }
  }
  return pages;
}

Deno.test("docs links: slugs and anchors follow GitHub's rules", () => {
  equal(slug("Betas, NIfTI"), "betas-nifti");
  equal(slug("Manifold geometry (MFTMA)"), "manifold-geometry-mftma");
  equal(slug("FGSM, FGM and PGD"), "fgsm-fgm-and-pgd");
  deepStrictEqual(
    [...anchors("# Title\n## Part\n```sh\n# not a heading\n```\n## Part\n### Late-output race\n")],
    ["title", "part", "part-1", "late-output-race"],
  );
});

Deno.test("docs links: a missing page, a missing anchor and outside citations are reported", () => {
  const pages = new Map([["docs/method.md", new Set(["rois", "noise-ceiling"])]]);
  const spec = "method" + ".md"; // spelled in two parts so this file does not cite it itself
  const text = [
    "// fine: docs/method.md#rois and docs/method.md",
    "// missing anchor: docs/method.md#pipelines",
    "// missing page: docs/flags.md#x",
    `// outside: ${spec} §2.1`,
    `/** outside, bare: see \`${spec}\` */`,
  ].join("\n");
  deepStrictEqual(citationProblems("lib/x.ts", text, pages).map((p) => p.split(":")[1]), [
    "2",
    "3",
    "4",
    "4",
    "5",
  ]);
  const page = "see [the ROIs](method.md#rois), [ceiling](method.md#ceiling) and [here](#nowhere)\n# Here";
  deepStrictEqual(
    citationProblems("docs/report.md", page, new Map([...pages, ["docs/report.md", new Set(["here"])]]))
      .length,
    2,
  );
});

Deno.test("docs links: every citation in the repository resolves to a docs page and heading", async () => {
  const pages = await docsPages();
  const self = relative(ROOT, new URL(import.meta.url).pathname);
  const problems: string[] = [];
  let scanned = 0;
  for (const path of SCANNED) {
    for await (const file of textFiles(path)) {
      if (file === self) continue;
      scanned++;
      problems.push(...citationProblems(file, await Deno.readTextFile(join(ROOT, file)), pages));
    }
  }
  if (scanned < 100) throw new Error(`only ${scanned} files scanned: the walk is broken`);
  deepStrictEqual(problems, []);
});
