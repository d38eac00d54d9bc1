/**
 * A run folder: `options.json` (what was asked), `metrics.jsonl` (one line per epoch), `checkpoint.safetensors`
 * (model + optimizer state, written atomically every N epochs), the final weights and `summary.json`. A killed
 * run resumes from its checkpoint; metrics lines past the checkpoint are dropped so the log never repeats an
 * epoch.
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { UserError } from "../errors.ts";

/** One line of `metrics.jsonl`. */
export type EpochMetrics = { epoch: number } & Record<string, number | string | null>;

export class RunDir {
  constructor(readonly path: string) {}

  file(name: string): string {
    return join(this.path, name);
  }

  get checkpoint(): string {
    return this.file("checkpoint.safetensors");
  }

  /** Creates the folder; refuses to reuse one holding another run unless `resume` or `overwrite`. */
  async prepare(
    options: unknown,
    { resume, overwrite }: { resume: boolean; overwrite: boolean },
  ): Promise<void> {
    const existing = await Deno.readTextFile(this.file("options.json")).catch(() => null);
    if (resume) {
      if (existing === null) {
        throw new UserError(
          `${this.path}: nothing to resume (no options.json); start the run without --resume`,
        );
      }
      const before = JSON.parse(existing);
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
    if (existing !== null) await Deno.remove(this.path, { recursive: true });
    await Deno.mkdir(this.path, { recursive: true });
    await writeFileAtomic(this.file("options.json"), JSON.stringify(options, null, 2) + "\n");
  }

  /** Appends one epoch's metrics (rewritten atomically, so a kill never leaves half a line). */
  async appendMetrics(metrics: EpochMetrics): Promise<void> {
    const lines = await this.readMetrics();
    lines.push(metrics);
    await writeFileAtomic(this.file("metrics.jsonl"), lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  }

  async readMetrics(): Promise<EpochMetrics[]> {
    const text = await Deno.readTextFile(this.file("metrics.jsonl")).catch(() => "");
    return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
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
