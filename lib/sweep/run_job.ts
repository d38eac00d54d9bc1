/**
 * Runs one job's steps as child processes of the task CLIs (the same code for the local executor and for
 * each Slurm array task), skipping steps whose output already exists. A run folder left by a killed attempt
 * is resumed from its checkpoint (`--resume`) or, with no checkpoint yet, restarted (`--force`).
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PARENT_PID_ENV } from "../io/pid.ts";
import { type Job, logPath, type Step, type SweepPlan } from "./plan.ts";

const TASKS_DIR = fileURLToPath(new URL("../../tasks/", import.meta.url));

/**
 * The file of the task named `task` (`nsd-prep` → `tasks/nsd_prep.ts`): the sweep spawns tasks as child
 * processes and never imports them, and this is the one place that knows where they live.
 */
export function taskFile(task: string): string {
  return join(TASKS_DIR, `${task.replace(/-/g, "_")}.ts`);
}

/** What happened to one job. */
export interface JobOutcome {
  ok: boolean;
  /** Steps actually run (not skipped as finished). */
  ran: number;
  /** One line: the failing step and where its log is. */
  error?: string;
}

/** Live child processes, so a signal handler can stop them before the sweep exits. */
export const children: Set<Deno.ChildProcess> = new Set();

/** Whether `path` exists. */
export async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Whether every step of `job` has its output (the report step never counts as finished). */
export async function jobFinished(job: Job): Promise<boolean> {
  return await stepsFinished(job.steps);
}

async function stepsFinished(steps: Step[]): Promise<boolean> {
  for (const step of steps) if (step.done === null || !(await exists(step.done))) return false;
  return true;
}

/** Whether `step` finished but a weights file that an unfinished step of `later` reads is gone. */
async function weightsLost(step: Step, later: Step[]): Promise<boolean> {
  if (!step.weights?.length || await stepsFinished(later)) return false;
  for (const file of step.weights) if (!(await exists(file))) return true;
  return false;
}

/** The command line of `step`: `deno run -A tasks/<task>.ts …`, plus resume flags for a half-done run. */
export async function stepCommand(step: Step): Promise<string[]> {
  const extra: string[] = [];
  if (step.runDir && await exists(join(step.runDir, "options.json"))) {
    extra.push(await exists(join(step.runDir, "checkpoint.safetensors")) ? "--resume" : "--force");
  }
  return [Deno.execPath(), "run", "-A", taskFile(step.task), ...step.args, ...extra];
}

/**
 * Runs the unfinished steps of `job` in order, appending their output to the job's log; stops at the first
 * failing step. `onStep` is called after each step with its duration in seconds (null: skipped, its output
 * existed), for progress.
 */
export async function runJob(
  plan: SweepPlan,
  job: Job,
  onStep: (step: Step, seconds: number | null) => void = () => {},
): Promise<JobOutcome> {
  const log = logPath(plan, job);
  await Deno.mkdir(dirname(log), { recursive: true });
  let ran = 0;
  for (const [i, step] of job.steps.entries()) {
    if (step.done !== null && await exists(step.done) && !(await weightsLost(step, job.steps.slice(i + 1)))) {
      onStep(step, null);
      continue;
    }
    const started = performance.now();
    const [cmd, ...args] = await stepCommand(step);
    const file = await Deno.open(log, { append: true, create: true });
    try {
      await writeAll(
        file,
        new TextEncoder().encode(`\n$ deno task ${step.task} ${args.slice(3).join(" ")}\n`),
      );
      const child = new Deno.Command(cmd, {
        args,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        // the child stops by itself if this process dies without stopping it (SIGKILL)
        env: { NO_COLOR: "1", [PARENT_PID_ENV]: String(Deno.pid) },
      }).spawn();
      children.add(child);
      // both streams into one log, in arrival order
      await Promise.all([pipeInto(child.stdout, file), pipeInto(child.stderr, file)]);
      const status = await child.status;
      children.delete(child);
      ran++;
      if (!status.success) {
        return {
          ok: false,
          ran,
          error: `${job.id}: deno task ${step.task} exited with ${status.code}${
            status.signal ? ` (${status.signal})` : ""
          }; see ${log}`,
        };
      }
    } finally {
      file.close();
    }
    onStep(step, (performance.now() - started) / 1000);
  }
  return { ok: true, ran };
}

async function pipeInto(stream: ReadableStream<Uint8Array>, file: Deno.FsFile): Promise<void> {
  for await (const chunk of stream) await writeAll(file, chunk);
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  for (let offset = 0; offset < data.length;) offset += await file.write(data.subarray(offset));
}
