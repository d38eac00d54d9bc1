/**
 * Shared `main` wrapper for tasks: known errors become one line on stderr with a stable exit code
 * (2 = usage, 1 = everything else); unexpected errors keep their stack.
 * @module
 */
import { UsageError, UserError } from "../errors.ts";

/** Runs `body`, printing `task: message` and exiting non-zero on failure. */
export async function runMain(task: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    const error = e as Error;
    if (error instanceof UsageError) {
      console.error(`${task}: ${error.message}`);
      Deno.exit(2);
    }
    const known = error instanceof UserError;
    console.error(`${task}: ${known ? error.message : error.stack ?? error.message}`);
    Deno.exit(1);
  }
}
