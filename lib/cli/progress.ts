/**
 * A progress bar with rate and ETA on stderr. Redraws in place on a terminal; elsewhere (CI logs, pipes)
 * prints a plain line at most every few seconds so logs stay short.
 * @module
 */
import { formatSeconds, type ProgressBar, type ProgressReporter } from "../progress.ts";

export { formatSeconds };

/** Options for {@link Progress}. */
export interface ProgressOptions {
  /** What is counted, e.g. "images". */
  unit?: string;
  /** Minimum milliseconds between non-terminal log lines. */
  logEveryMs?: number;
  /** Suppress all output (tests, `--quiet`). */
  quiet?: boolean;
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
  readonly #start = performance.now();
  readonly #tty = Deno.stderr.isTerminal();
  readonly #encoder = new TextEncoder();

  constructor(readonly label: string, readonly total: number, readonly options: ProgressOptions = {}) {}

  /** Advances by `n` and redraws when due; `note` is appended (e.g. the current loss). */
  tick(n = 1, note = ""): void {
    this.#done += n;
    const now = performance.now();
    const due = this.#tty
      ? now - this.#lastDraw > 100
      : now - this.#lastDraw > (this.options.logEveryMs ?? 5000);
    if (due) this.#draw(now, note);
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
    const eta = rate > 0 ? (this.total - this.#done) / rate : NaN;
    const width = 24, filled = Math.round(fraction * width);
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    const unit = this.options.unit ?? "";
    const text = `${this.label} ${bar} ${this.#done}/${this.total} ${unit} ` +
      `${rate.toFixed(rate < 10 ? 2 : 0)}/s ${
        final ? `in ${formatSeconds(elapsed)}` : `ETA ${formatSeconds(eta)}`
      }` +
      (note ? ` ${note}` : "");
    const line = this.#tty ? `\r\x1b[2K${text}${final ? "\n" : ""}` : `${text}\n`;
    Deno.stderr.writeSync(this.#encoder.encode(line));
  }
}

/**
 * A {@link ProgressReporter} for a task: bars as {@link Progress}, status lines as `task: text` on stderr;
 * `quiet` silences both.
 *
 * @example
 * ```ts
 * await ensureSimWorld("data/sim", { progress: progressReporter("synth", false) });
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
