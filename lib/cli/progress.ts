/**
 * A progress bar with rate and ETA on stderr. Redraws in place on a terminal; elsewhere (CI logs, pipes, the
 * log files of sweeps and Slurm jobs) prints plain lines without control characters: one per 10 % of the
 * total and one every few seconds in between, so a log stays short and readable as a file.
 * @module
 */
import { formatSeconds, type ProgressBar, type ProgressReporter } from "../progress.ts";

export { formatSeconds };

/** Options for {@link Progress}. */
export interface ProgressOptions {
  /** What is counted, e.g. "images". */
  unit?: string;
  /** Milliseconds after which a non-terminal log line is printed even between two 10 % marks (default 10 s). */
  logEveryMs?: number;
  /** Show the rate and an ETA from it (default true). */
  eta?: boolean;
  /** Suppress all output (tests, `--quiet`). */
  quiet?: boolean;
  /** Where the bar goes (default stderr); a terminal gets redraws, anything else lines. */
  output?: { isTerminal(): boolean; writeSync(data: Uint8Array): number };
}

/**
 * @example
 * ```ts
 * const bar = new Progress("session", 40, { unit: "sessions" });
 * for (let i = 0; i < 40; i++) bar.tick();
 * bar.done();
 * ```
 */
export class Progress implements ProgressBar {
  #done = 0;
  #lastDraw = 0;
  /** Tenths of the total already logged (non-terminal output). */
  #tenthsLogged = 0;
  readonly #start = performance.now();
  readonly #output;
  readonly #tty;
  /** Time and count when the first unit finished: the ETA's rate starts there, after compilation and warm-up. */
  #warm: { time: number; done: number } | null = null;
  readonly #encoder = new TextEncoder();

  constructor(readonly label: string, readonly total: number, readonly options: ProgressOptions = {}) {
    this.#output = options.output ?? Deno.stderr;
    this.#tty = this.#output.isTerminal() && Deno.env.get("TERM") !== "dumb";
  }

  /** Advances by `n` and redraws when due; `note` is appended (e.g. the current loss). */
  tick(n = 1, note = ""): void {
    this.#done += n;
    const now = performance.now();
    if (this.#done > 0) this.#warm ??= { time: now, done: this.#done };
    if (this.#tty) {
      if (now - this.#lastDraw > 100) this.#draw(now, note);
      return;
    }
    const tenths = this.total > 0 ? Math.floor((10 * Math.min(this.#done, this.total)) / this.total) : 0;
    const newTenth = tenths > this.#tenthsLogged && this.#done < this.total;
    if (newTenth || now - this.#lastDraw > (this.options.logEveryMs ?? 10_000)) {
      this.#tenthsLogged = tenths;
      this.#draw(now, note);
    }
  }

  /** Finishes the bar with a final line. */
  done(note = ""): void {
    this.#draw(performance.now(), note, true);
  }

  #draw(now: number, note: string, final = false): void {
    this.#lastDraw = now;
    if (this.options.quiet) return;
    const elapsed = (now - this.#start) / 1000;
    const fraction = this.total > 0 ? Math.min(1, this.#done / this.total) : 1;
    const rate = elapsed > 0 ? this.#done / elapsed : 0;
    const eta = remainingSeconds(this.total, this.#done, this.#warm, now);
    const width = 24, filled = Math.round(fraction * width);
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    const unit = this.options.unit ?? "";
    const timing = final
      ? `in ${formatSeconds(elapsed)}`
      : this.options.eta === false
      ? ""
      : `${rate.toFixed(rate < 10 ? 2 : 0)}/s ETA ${formatSeconds(eta)}`;
    const text = [`${this.label} ${bar} ${this.#done}/${this.total} ${unit}`, timing, note].filter(Boolean)
      .join(" ");
    const line = this.#tty ? `\r\x1b[2K${text}${final ? "\n" : ""}` : `${text}\n`;
    const bytes = this.#encoder.encode(line);
    for (let offset = 0; offset < bytes.length;) offset += this.#output.writeSync(bytes.subarray(offset));
  }
}

/**
 * A {@link ProgressReporter} for a task: bars as {@link Progress}, status lines as `task: text` on stderr;
 * `quiet` silences both.
 *
 * @example
 * ```ts
 * import { ensureSimWorld } from "../data/synth/mod.ts";
 * // What `deno task synth` does: the world's generation draws its bars and status lines on stderr.
 * async function synth(dir: string) {
 *   return await ensureSimWorld(dir, { progress: progressReporter("synth", false) });
 * }
 * progressReporter("synth", true).say("world ready"); // quiet: prints nothing (else "synth: world ready")
 * ```
 */
export function progressReporter(task: string, quiet: boolean): ProgressReporter {
  return {
    stage: (label, total, options) => new Progress(label, total, { ...options, quiet }),
    say: (text) => {
      if (!quiet) console.error(`${task}: ${text}`);
    },
  };
}

/**
 * Seconds left at the steady rate measured since `warm` (the first tick, in `performance.now()` ms): the first
 * unit pays for pipeline compilation and warm-up (minutes on a CPU adapter), so it is left out; NaN (shown as
 * "?") until a second tick gives a rate.
 */
export function remainingSeconds(
  total: number,
  done: number,
  warm: { time: number; done: number } | null,
  now: number,
): number {
  if (!warm || done <= warm.done || now <= warm.time) return NaN;
  const steady = (done - warm.done) / ((now - warm.time) / 1000);
  return Math.max(0, total - done) / steady;
}
