/**
 * The local executor: runs the plan's jobs here, at most `jobs` at a time, each as soon as its dependencies
 * have finished. Finished steps are skipped, so a second invocation (or one after a kill) only does what is
 * left. A failed job blocks its dependants; the others still run, and the failures are listed at the end.
 * @module
 */
import { UserError } from "../errors.ts";
import { formatSeconds, type ProgressReporter, SILENT } from "../progress.ts";
import type { Job, SweepPlan } from "./plan.ts";
import { jobFinished, runJob } from "./run_job.ts";
import { StepTimes } from "./step_times.ts";

/** Options of {@link runLocal}. */
export interface LocalOptions {
  /** Jobs run in parallel. */
  jobs: number;
  /** Where the step bar and the job lines go (default: nowhere). */
  progress?: ProgressReporter;
}

/** Counts of a local run. */
export interface LocalResult {
  /** Steps run (not skipped). */
  ran: number;
  skippedJobs: number;
  seconds: number;
}

/**
 * Runs `plan` to completion; throws a {@link UserError} listing the failed jobs and their logs.
 *
 * @example
 * ```ts
 * import { buildPlan, type SweepSettings } from "./plan.ts";
 * import { paperGrid } from "./grid.ts";
 * // The paper grid, one job at a time, into `out`.
 * async function runPaperGrid(out: string, settings: SweepSettings) {
 *   const { ran } = await runLocal(buildPlan(out, settings, paperGrid()), { jobs: 1 });
 *   return ran;
 * }
 * ```
 */
export async function runLocal(plan: SweepPlan, o: LocalOptions): Promise<LocalResult> {
  const started = performance.now();
  const progress = o.progress ?? SILENT;
  const say = (text: string) => progress.say(text);
  const state = new Map<string, "pending" | "running" | "ok" | "failed" | "blocked">();
  let skippedJobs = 0;
  for (const job of plan.jobs) {
    const finished = await jobFinished(job);
    state.set(job.id, finished ? "ok" : "pending");
    if (finished) skippedJobs++;
  }
  if (skippedJobs) say(`${skippedJobs} of ${plan.jobs.length} jobs already finished, skipped`);
  const todo = plan.jobs.filter((j) => state.get(j.id) === "pending");
  const bar = progress.stage("sweep", todo.reduce((n, j) => n + j.steps.length, 0), {
    unit: "steps",
    logEveryMs: 0,
    eta: false, // the steps differ by orders of magnitude: the time left comes from StepTimes
  });
  const times = new StepTimes();
  const remaining = new Set(todo.flatMap((j) => j.steps));
  const timeLeft = () => {
    const { seconds, timed, untimed } = times.left([...remaining]);
    const known = timed
      ? `about ${formatSeconds(seconds / o.jobs)} for ${timed} steps of kinds timed so far`
      : "";
    const unknown = untimed ? `${untimed} steps of kinds not yet timed` : "";
    return timed + untimed ? `; left: ${[known, unknown].filter(Boolean).join(" + ")}` : "";
  };
  const errors: string[] = [];
  let ran = 0;
  const running = new Map<string, Promise<void>>();
  const start = (job: Job) => {
    state.set(job.id, "running");
    const begun = performance.now();
    running.set(
      job.id,
      runJob(plan, job, (step, seconds) => {
        if (seconds !== null) times.record(step, seconds);
        remaining.delete(step);
        bar.tick(1, job.id);
      }).then((outcome) => {
        ran += outcome.ran;
        state.set(job.id, outcome.ok ? "ok" : "failed");
        if (outcome.error) errors.push(outcome.error);
        else if (outcome.ran) {
          say(`${job.id} done in ${formatSeconds((performance.now() - begun) / 1000)}${timeLeft()}`);
        }
        running.delete(job.id);
      }),
    );
  };
  for (;;) {
    // a job whose dependency failed (or was blocked) can never run
    for (const job of todo) {
      if (state.get(job.id) !== "pending") continue;
      if (job.deps.some((d) => ["failed", "blocked"].includes(state.get(d) ?? ""))) {
        state.set(job.id, "blocked");
        errors.push(`${job.id}: not run (a dependency failed)`);
      }
    }
    for (const job of todo) {
      if (running.size >= o.jobs) break;
      if (state.get(job.id) === "pending" && job.deps.every((d) => state.get(d) === "ok")) start(job);
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  bar.done();
  if (errors.length) {
    throw new UserError(`${errors.length} job(s) did not finish: ${errors.join(" | ")}`);
  }
  return { ran, skippedJobs, seconds: (performance.now() - started) / 1000 };
}
