/**
 * A run folder: `options.json` (what was asked), `metrics.jsonl` (one line per epoch), `checkpoint.safetensors`
 * (model + optimizer state, written atomically every N epochs), the final weights and `summary.json`. A killed
 * run resumes from its checkpoint; metrics lines past the checkpoint are dropped so the log never repeats an
 * epoch. A run folder has one writer at a time (an exclusive lock, see `lib/io/lock.ts`).
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { FolderLock, LOCK_FILE } from "../io/lock.ts";
import { onInterrupt } from "../io/interrupt.ts";
import { UserError } from "../errors.ts";

/** One line of `metrics.jsonl`. */
export type EpochMetrics = { epoch: number } & Record<string, number | string | null>;

/** A run folder; {@link RunDir.prepare} locks it, {@link RunDir.close} unlocks it. */
export class RunDir {
  #lock: FolderLock | null = null;
  /** Whether this process started the run afresh (not a resume). */
  #fresh = false;
  /** Removes the Ctrl-C/kill cleanup installed by {@link RunDir.prepare}. */
  #interruptible: (() => void) | null = null;

  constructor(readonly path: string) {}

  file(name: string): string {
    return join(this.path, name);
  }

  get checkpoint(): string {
    return this.file("checkpoint.safetensors");
  }

  /**
   * Locks the folder (created if missing) for this process, then refuses to reuse one holding another run
   * unless `resume` or `overwrite`.
   */
  async prepare(
    options: unknown,
    { resume, overwrite }: { resume: boolean; overwrite: boolean },
  ): Promise<void> {
    this.#lock ??= await FolderLock.acquire(this.path);
    this.#interruptible ??= onInterrupt((signal) => {
      this.close({ failed: true });
      const kept = existsSync(this.path);
      const resume = "add --resume to the same command to continue from its last checkpoint";
      console.error(
        kept
          ? `${this.path}: stopped by ${signal}; ${resume}`
          : `${this.path}: stopped by ${signal} before its first checkpoint; nothing was kept`,
      );
    });
    const existing = await Deno.readTextFile(this.file("options.json")).catch(() => null);
    if (resume) {
      if (existing === null) {
        throw new UserError(
          `${this.path}: nothing to resume (no options.json); start the run without --resume`,
        );
      }
      let before: Record<string, unknown>;
      try {
        before = JSON.parse(existing);
      } catch {
        throw new UserError(
          `${this.file("options.json")}: not JSON (damaged); start over with --force instead of --resume`,
        );
      }
      const changed = Object.keys({ ...before, ...(options as object) })
        .filter((k) => k !== "resume" && JSON.stringify(before[k]) !== JSON.stringify((options as never)[k]));
      if (changed.length > 0) {
        throw new UserError(
          `${this.path}: --resume with different settings (${changed.join(", ")}); use the original flags`,
        );
      }
      return;
    }
    if (existing !== null && !overwrite) {
      throw new UserError(
        `${this.path} already holds a run; pass --resume to continue it or --force to start over`,
      );
    }
    // the lock stays: it is what keeps a second writer out while the old run is removed
    for await (const entry of Deno.readDir(this.path)) {
      if (entry.name !== LOCK_FILE) await Deno.remove(this.file(entry.name), { recursive: true });
    }
    this.#fresh = true;
    await writeFileAtomic(this.file("options.json"), JSON.stringify(options, null, 2) + "\n");
  }

  /**
   * Ends this process's use of the folder: unlocks it, and when a fresh run failed before its first
   * checkpoint, removes what it wrote, so no half-started run (an options.json alone) is left to resume.
   * Synchronous, because a Ctrl-C or kill runs it too (as a failed run) right before the process exits.
   */
  close({ failed }: { failed: boolean }): void {
    this.#interruptible?.();
    this.#interruptible = null;
    let checkpointed = false;
    try {
      checkpointed = Deno.statSync(this.checkpoint).isFile;
    } catch {
      // no checkpoint yet
    }
    if (failed && this.#fresh && !checkpointed) {
      for (const entry of Deno.readDirSync(this.path)) {
        if (entry.name !== LOCK_FILE) Deno.removeSync(this.file(entry.name), { recursive: true });
      }
    }
    const held = this.#lock !== null;
    this.#lock?.release();
    this.#lock = null;
    // a folder left empty (a removed failed run, or one made only for the lock) goes too
    if (!held) return;
    try {
      Deno.removeSync(this.path);
    } catch {
      // not empty: a finished or resumable run stays
    }
  }

  /** Appends one epoch's metrics (rewritten atomically, so a kill never leaves half a line). */
  async appendMetrics(metrics: EpochMetrics): Promise<void> {
    const lines = await this.readMetrics();
    lines.push(metrics);
    await writeFileAtomic(this.file("metrics.jsonl"), lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  }

  /** The metrics lines; a line that is not a JSON object with an integer `epoch` is named in the error. */
  async readMetrics(): Promise<EpochMetrics[]> {
    const file = this.file("metrics.jsonl");
    const text = await Deno.readTextFile(file).catch(() => "");
    return text.split("\n").map((line, i) => ({ line, i })).filter(({ line }) => line.trim()).map(
      ({ line, i }) => {
        let parsed: EpochMetrics | undefined;
        try {
          parsed = JSON.parse(line);
        } catch {
          // reported below
        }
        if (!Number.isInteger(parsed?.epoch)) {
          throw new UserError(
            `${file}: line ${
              i + 1
            } is not an epoch's metrics; the run folder is damaged, start over with --force`,
          );
        }
        return parsed!;
      },
    );
  }

  /**
   * Checks a checkpoint's resume point (its `epoch`, `step` and `seed` metadata) against the run's options and
   * `metrics.jsonl` before anything is changed; returns the epoch and step to continue from.
   */
  async resumePoint(
    metadata: Readonly<Record<string, string>>,
    run: { epochs: number; seed: number },
  ): Promise<{ epoch: number; step: number }> {
    const where = `${this.checkpoint}`;
    const fix = "the checkpoint does not belong to this run; start over with --force";
    const integer = (key: string) => {
      const text = metadata[key];
      if (text === undefined) throw new UserError(`${where}: no '${key}' in its metadata; ${fix}`);
      if (!/^\d+$/.test(text)) throw new UserError(`${where}: '${key}' is '${text}', not a count; ${fix}`);
      return Number(text);
    };
    const epoch = integer("epoch"), step = integer("step");
    if (epoch < 1 || epoch > run.epochs) {
      throw new UserError(
        `${where}: saved at epoch ${epoch}, but this run has epochs 1…${run.epochs}; ${fix}`,
      );
    }
    if (metadata.seed !== undefined && metadata.seed !== String(run.seed)) {
      throw new UserError(
        `${where}: written with seed ${metadata.seed}, this run has seed ${run.seed}; ${fix}`,
      );
    }
    const logged = (await this.readMetrics()).map((m) => m.epoch).filter((e) => e <= epoch);
    if (logged.length !== epoch || logged.some((e, i) => e !== i + 1)) {
      throw new UserError(
        `${this.file("metrics.jsonl")}: holds epochs [${
          logged.join(", ")
        }] up to the checkpoint's epoch ${epoch}, ` +
          `expected 1…${epoch}; the run folder is damaged, start over with --force`,
      );
    }
    return { epoch, step };
  }

  /** Drops metrics of epochs after `epoch` (work the resumed run will redo). */
  async truncateMetrics(epoch: number): Promise<void> {
    const kept = (await this.readMetrics()).filter((m) => m.epoch <= epoch);
    await writeFileAtomic(
      this.file("metrics.jsonl"),
      kept.map((l) => JSON.stringify(l)).join("\n") + (kept.length ? "\n" : ""),
    );
  }

  async writeSummary(summary: unknown): Promise<void> {
    await writeFileAtomic(this.file("summary.json"), JSON.stringify(summary, null, 2) + "\n");
  }
}
