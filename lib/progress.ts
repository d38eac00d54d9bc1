/**
 * How long library calls (training, attacks, world generation, sweeps) report progress without knowing where it
 * goes. The caller passes a {@link ProgressReporter}: the command line passes one that draws bars on stderr
 * (`lib/cli/progress.ts`); a notebook or a test passes nothing and the library stays silent.
 * @module
 */

/** One counted stage: `tick` as items finish, `done` once at the end. */
export interface ProgressBar {
  /** Advances by `n`; `note` describes the latest item (e.g. the current loss). */
  tick(n?: number, note?: string): void;
  /** Closes the stage; `note` is a final summary. */
  done(note?: string): void;
}

/** What a stage counts and how often a non-terminal log may print a line for it. */
export interface StageOptions {
  /** What is counted, e.g. "images". */
  unit?: string;
  /** Minimum milliseconds between log lines when not drawing on a terminal. */
  logEveryMs?: number;
  /** Show the rate and an ETA from it (default true); false when the items differ too much for a rate. */
  eta?: boolean;
}

/** Receives a library call's progress: counted stages and one-line status messages. */
export interface ProgressReporter {
  /** Starts a stage of `total` items. */
  stage(label: string, total: number, options?: StageOptions): ProgressBar;
  /** A status line (a step reused, a job finished). */
  say(text: string): void;
}

/**
 * Reports nothing: the default of every library call that takes a reporter.
 *
 * @example
 * ```ts
 * const bar = SILENT.stage("images", 10);
 * bar.tick();
 * bar.done();
 * ```
 */
export const SILENT: ProgressReporter = {
  stage: () => ({ tick() {}, done() {} }),
  say() {},
};

/**
 * A duration as "1h02m", "3m05s" or "12.3s".
 *
 * @example
 * ```ts
 * formatSeconds(185); // "3m05s"
 * ```
 */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.round(seconds); // rounded first, so 419.6 s is 7m00s, not 6m60s
  const m = Math.floor(whole / 60), s = whole % 60;
  if (m < 60) return `${m}m${String(s).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
