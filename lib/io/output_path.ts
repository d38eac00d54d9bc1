/**
 * Early checks of output paths: a task calls {@link checkOutputPath} before any work, so an output that
 * cannot be written (a file where a folder goes, a folder where a file goes, a read-only or virtual file
 * system) fails in a second with one line, not after an hour of training or attacking.
 * @module
 */
import { dirname, resolve } from "node:path";
import { UsageError } from "../errors.ts";

/**
 * Throws a {@link UsageError} naming `flag` unless `path` can be written as a `file` (replaced atomically, so
 * its folder must be writable) or a `folder` (created if missing). Nothing is left behind: the folders that
 * do not exist yet are not created.
 *
 * @example
 * ```ts
 * await checkOutputPath("runs/a/pgd.json", "--out", "file");
 * ```
 */
export async function checkOutputPath(path: string, flag: string, kind: "file" | "folder"): Promise<void> {
  const where = `${flag} ${path}`;
  const info = await Deno.stat(path).catch(() => null);
  if (info?.isDirectory && kind === "file") {
    throw new UsageError(
      `${where}: is a folder; give a file name (e.g. ${path.replace(/\/+$/, "")}/out.json)`,
    );
  }
  if (info && !info.isDirectory && kind === "folder") {
    throw new UsageError(`${where}: is a file; give a folder (a new or an existing one)`);
  }
  // the nearest existing folder is where the first file or folder will be created
  let folder = resolve(kind === "folder" && info ? path : dirname(resolve(path)));
  for (;;) {
    // NotADirectory: a file further up, found as the walk goes on
    const above = await Deno.stat(folder).catch((e) =>
      e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory ? null : e
    );
    if (above instanceof Error) throw new UsageError(`${where}: cannot use ${folder} (${above.message})`);
    if (above && !above.isDirectory) {
      throw new UsageError(`${where}: ${folder} is a file, not a folder; choose another path`);
    }
    if (above) break;
    folder = dirname(folder);
  }
  let probe: string;
  try {
    probe = await Deno.makeTempFile({ dir: folder, prefix: ".write-check-" });
  } catch (e) {
    throw new UsageError(
      `${where}: cannot write into ${folder} (${(e as Error).message}); choose another path`,
    );
  }
  await Deno.remove(probe).catch(() => {});
}
