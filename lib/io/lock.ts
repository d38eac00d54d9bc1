/**
 * Exclusive folder locks: a run folder (or a sweep's results folder) has one writer at a time, whoever
 * started it. The lock is a file holding the owner's pid, host and start time, created atomically (hard link
 * of a complete temp file, which fails when the lock exists). A lock whose owner is dead (killed with
 * SIGKILL, say) is stale and taken over; one held by a live process is refused with its pid.
 * @module
 */
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { removeStaleTemps, tempPath } from "./atomic.ts";
import { pidAlive } from "./pid.ts";

/** Lock file name inside the locked folder. */
export const LOCK_FILE = ".lock";

interface Owner {
  pid: number;
  host: string;
  /** Process start time (Linux clock ticks since boot), telling a reused pid from the owner. */
  started: string | null;
}

/** A held lock; {@link FolderLock.release} removes it (also done on a normal process exit). */
export class FolderLock {
  readonly #onUnload = () => this.#removeIfOurs();
  #released = false;

  private constructor(readonly path: string) {
    globalThis.addEventListener("unload", this.#onUnload);
  }

  /**
   * Locks `folder` (created if missing) for this process; throws a {@link UserError} naming the live owner.
   *
   * @example
   * ```ts
   * const folder = await Deno.makeTempDir();
   * const lock = await FolderLock.acquire(folder);
   * try {
   *   await Deno.writeTextFile(`${folder}/result.json`, "{}"); // only this process writes here now
   * } finally {
   *   lock.release();
   * }
   * ```
   */
  static async acquire(folder: string): Promise<FolderLock> {
    await Deno.mkdir(folder, { recursive: true });
    const path = join(folder, LOCK_FILE);
    await removeStaleTemps(path);
    const me: Owner = { pid: Deno.pid, host: Deno.hostname(), started: processStart(Deno.pid) };
    const temp = tempPath(path);
    await Deno.writeTextFile(temp, JSON.stringify(me) + "\n");
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await Deno.link(temp, path);
          return new FolderLock(path);
        } catch (e) {
          if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
        }
        const owner = await readOwner(path);
        if (owner && owner.pid === Deno.pid && owner.host === me.host) {
          throw new UserError(`${folder}: this process already writes here (a run folder is used twice?)`);
        }
        if (owner && isAlive(owner)) {
          throw new UserError(
            `${folder}: in use by process ${owner.pid}${
              owner.host === me.host ? "" : ` on ${owner.host}`
            }; wait for it to finish or stop it (if no such process runs, delete ${path})`,
          );
        }
        // stale: its owner died without removing it
        await Deno.remove(path).catch(() => {});
      }
      throw new UserError(`${folder}: could not take the lock ${path}; another process keeps taking it`);
    } finally {
      await Deno.remove(temp).catch(() => {});
    }
  }

  /** Removes the lock file (if it is still ours). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    globalThis.removeEventListener("unload", this.#onUnload);
    this.#removeIfOurs();
  }

  #removeIfOurs(): void {
    try {
      const owner = JSON.parse(Deno.readTextFileSync(this.path)) as Owner;
      if (owner.pid === Deno.pid) Deno.removeSync(this.path);
    } catch {
      // already gone
    }
  }
}

async function readOwner(path: string): Promise<Owner | null> {
  try {
    const owner = JSON.parse(await Deno.readTextFile(path));
    return typeof owner?.pid === "number" ? owner : null;
  } catch {
    return null; // unreadable or removed meanwhile: treated as stale
  }
}

/**
 * Whether the lock's owner still runs. A lock from another host cannot be checked from here, so it counts as
 * held (the message says how to remove it).
 */
function isAlive(owner: Owner): boolean {
  if (owner.host !== Deno.hostname()) return true;
  return pidAlive(owner.pid) && (owner.started === null || processStart(owner.pid) === owner.started);
}

/** The process's start time from /proc (Linux); null where /proc is absent. */
function processStart(pid: number): string | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // fields after the parenthesised command name; starttime is field 22 overall
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}
