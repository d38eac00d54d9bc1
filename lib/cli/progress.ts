/**
 * A progress bar with rate and ETA on stderr. Redraws in place on a terminal; elsewhere (CI logs, pipes)
 * prints a plain line at most every few seconds so logs stay short.
 * @module
 */

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
export class Progress {
  #done = 0;
  #lastDraw = 0;
  readonly #start = performance.now();
  /** Time and count when the first unit finished: the ETA's rate starts there, after compilation and warm-up. */
  #warm: { time: number; done: number } | null = null;
  readonly #tty = Deno.stderr.isTerminal();
  readonly #encoder = new TextEncoder();

  constructor(readonly label: string, readonly total: number, readonly options: ProgressOptions = {}) {}

  /** Advances by `n` and redraws when due; `note` is appended (e.g. the current loss). */
  tick(n = 1, note = ""): void {
    this.#done += n;
    const now = performance.now();
    if (this.#done > 0) this.#warm ??= { time: now, done: this.#done };
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
    const eta = remainingSeconds(this.total, this.#done, this.#warm, now);
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

/** "1h02m", "3m05s", "12.3s". */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
