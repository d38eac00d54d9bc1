/**
 * Atomic file output: write to a temporary file beside the target, then rename, so a reader never sees a
 * partial file that looks complete.
 * @module
 */
import { dirname } from "node:path";

/** Writes `data` to `path` atomically (temp file in the same folder, then rename). */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await Deno.mkdir(dirname(path) || ".", { recursive: true });
  const temp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
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
  const suffix = path.match(/\.[A-Za-z0-9]+$/)?.[0] ?? "";
  const temp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}${suffix}`;
  try {
    const result = await write(temp);
    await Deno.rename(temp, path);
    return result;
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
}
