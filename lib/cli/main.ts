/**
 * Shared `main` wrapper for tasks: any error becomes one line on stderr with a stable exit code (2 = usage,
 * 1 = everything else). Errors the user can fix print their message; anything else prints its type and first
 * line with a pointer to `--debug` (or `NEUROGUIDE_DEBUG=1`), which prints the stack trace instead.
 * @module
 */
import { UsageError, UserError } from "../errors.ts";
import { PARENT_PID_ENV } from "../io/pid.ts";

/** Whether stack traces were asked for (`--debug` anywhere on the command line, or NEUROGUIDE_DEBUG=1). */
export function debugRequested(args: readonly string[] = Deno.args): boolean {
  const env = Deno.env.get("NEUROGUIDE_DEBUG");
  return args.includes("--debug") || (env !== undefined && env !== "" && env !== "0");
}

/** The one line printed for `error` (its stack trace instead when `debug`). */
export function errorLine(error: unknown, debug: boolean): string {
  if (!(error instanceof Error)) return `${String(error)}`.split("\n")[0];
  if (debug) return error.stack ?? error.message;
  const first = error.message.split("\n").find((line) => line.trim() !== "")?.trim() ?? "";
  if (error instanceof UserError) return first;
  return `${error.name}: ${first} (unexpected; rerun with --debug for the stack trace)`;
}

/** Runs `body`, printing `task: message` and exiting non-zero on failure. */
export async function runMain(task: string, body: () => Promise<void>): Promise<void> {
  const debug = debugRequested();
  const fail = (error: unknown): never => {
    console.error(`${task}: ${errorLine(error, debug)}`);
    Deno.exit(error instanceof UsageError ? 2 : 1);
  };
  // errors that escape the body's promise chain (a worker, a timer) get the same one line
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    fail(event.reason);
  });
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    fail(event.error ?? event.message);
  });
  watchParent(task);
  try {
    await body();
  } catch (e) {
    fail(e);
  }
}

/**
 * A task started by a sweep (which sets {@link PARENT_PID_ENV}) stops when that sweep is gone: a sweep killed
 * with SIGKILL cannot stop its children itself, and a rerun must not find an orphan still writing.
 */
function watchParent(task: string): void {
  const expected = Number(Deno.env.get(PARENT_PID_ENV));
  // not inherited further: a grandchild's parent is this task, not the sweep
  Deno.env.delete(PARENT_PID_ENV);
  if (!Number.isInteger(expected) || expected <= 0 || Deno.ppid !== expected) return;
  const timer = setInterval(() => {
    if (Deno.ppid === expected) return;
    console.error(`${task}: the sweep that started this step (pid ${expected}) has exited; stopping`);
    Deno.exit(1);
  }, 250);
  Deno.unrefTimer(timer);
}
