/**
 * The content fingerprint of a folder: SHA-256 over every file's relative path and bytes, in sorted path
 * order. Two folders have the same fingerprint exactly when they hold the same files with the same bytes, so a
 * results folder can record which generated input (a simulated world) its finished jobs read, and a run
 * resumed on another machine, with that input regenerated, can prove it is the same.
 * @module
 */
import { createHash } from "node:crypto";
import { join, relative, sep } from "node:path";

/**
 * `sha256:<hex>` of the folder `dir` (files only; empty folders and links are not part of it).
 *
 * @example
 * ```ts
 * import { folderFingerprint } from "./fingerprint.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "a");
 * console.log(await folderFingerprint(dir)); // sha256:… (the same for any folder holding only a.txt = "a")
 * ```
 */
export async function folderFingerprint(dir: string): Promise<string> {
  const files = (await listFiles(dir)).map((path) => relative(dir, path).split(sep).join("/")).sort();
  const hash = createHash("sha256");
  for (const name of files) {
    const file = await Deno.open(join(dir, name));
    const { size } = await file.stat();
    // path and size first, so that moving bytes from one file to the next changes the fingerprint
    hash.update(`${name}\0${size}\0`);
    for await (const chunk of file.readable) hash.update(chunk);
  }
  return `sha256:${hash.digest("hex")}`;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await listFiles(path));
    else if (entry.isFile) out.push(path);
  }
  return out;
}
