/**
 * The library's error types. Every error a user can fix derives from {@link UserError}: its message is one
 * complete line (what is wrong, where, and the fix), so the command line prints it as it is. The library never
 * exits the process; `lib/cli/main.ts` maps these errors to exit codes.
 * @module
 */

/** An error whose message is already a complete one-line explanation for the user (file + fix). */
export class UserError extends Error {
  override name = "UserError";
}

/** A bad option value (a flag, a grid entry, an argument): the command line exits with code 2 for it. */
export class UsageError extends UserError {
  override name = "UsageError";
}
