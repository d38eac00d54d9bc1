/**
 * Atomic file output: write to a temporary file beside the target, then rename, so a reader never sees a
 * partial file that looks complete. Temp names carry the writer's pid (`NAME.tmp-PID-XXXXXXXX`), so the
 * leftovers of a killed writer are recognised and removed by the next write of the same target.
 * @module
 */
import { basename, dirname, join } from "node:path";
import { pidAlive } from "./pid.ts";

/** A temp name beside `path` for this process (`suffix` keeps an extension some writers need). */
export function tempPath(path: string, suffix = ""): string {
  return `${path.replace(/\/+$/, "")}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}${suffix}`;
}

/**
 * Removes the temp files or folders of `path` (see {@link tempPath}) whose writer is no longer running;
 * returns how many were removed.
 */
export async function removeStaleTemps(path: string): Promise<number> {
  const target = path.replace(/\/+$/, "");
  const folder = dirname(target) || ".", name = basename(target);
  const pattern = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.tmp-(\\d+)-[0-9a-f]{8}`);
  let removed = 0;
  try {
    for await (const entry of Deno.readDir(folder)) {
      const pid = Number(entry.name.match(pattern)?.[1]);
      if (!pid || pid === Deno.pid || pidAlive(pid)) continue;
      await Deno.remove(join(folder, entry.name), { recursive: true }).catch(() => {});
      removed++;
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return removed;
}

/** Writes `data` to `path` atomically (temp file in the same folder, then rename). */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await Deno.mkdir(dirname(path) || ".", { recursive: true });
  await removeStaleTemps(path);
  const temp = tempPath(path);
  try {
    if (typeof data === "string") await Deno.writeTextFile(temp, data);
    else await Deno.writeFile(temp, data);
    await Deno.rename(temp, path);
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
}

/**
 * Runs `write(tempPath)` (for libraries that write by path, like h5wasm), then renames onto `path`; the temp
 * file is removed if `write` throws.
 */
export async function withAtomicPath<T>(
  path: string,
  write: (tempPath: string) => Promise<T> | T,
): Promise<T> {
  await Deno.mkdir(dirname(path) || ".", { recursive: true });
  await removeStaleTemps(path);
  const temp = tempPath(path, path.match(/\.[A-Za-z0-9]+$/)?.[0] ?? "");
  try {
    const result = await write(temp);
    await Deno.rename(temp, path);
    return result;
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
}
