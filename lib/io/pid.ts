/**
 * Process liveness, for telling a live writer's files from those a killed one left behind.
 * @module
 */

/**
 * Environment variable through which a sweep gives its child tasks its pid, so a child whose sweep was
 * killed stops instead of writing on (the command line's `runMain` watches it).
 */
export const PARENT_PID_ENV = "NEUROGUIDE_PARENT_PID";

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function pidAlive(pid: number): boolean {
  try {
    Deno.kill(pid, 0 as unknown as Deno.Signal);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else
    return e instanceof Deno.errors.PermissionDenied;
  }
}
