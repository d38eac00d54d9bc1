/**
 * The one place that parses command-line flags. It wraps `node:util`'s `parseArgs` because JSR (and so
 * `jsr:@std/cli`) is unreachable from our build machines; switching to `@std/cli` is a change to this file only.
 * @module
 */
import { parseArgs as nodeParseArgs } from "node:util";
import { UsageError, UserError } from "../errors.ts";

/** Flag specification: `string` and `boolean` flags, with optional short letter and default. */
export type FlagSpec = Record<
  string,
  { type: "string" | "boolean"; short?: string; default?: string | boolean; multiple?: boolean }
>;

/**
 * Parses `args` strictly: unknown flags and missing values become a {@link UsageError} naming the flag.
 *
 * @example
 * ```ts
 * const { values } = parseFlags(["--epochs", "3"], { epochs: { type: "string", default: "1" } });
 * ```
 */
export function parseFlags(
  args: string[],
  spec: FlagSpec,
  allowPositionals = false,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    // deno-lint-ignore no-explicit-any
    const parsed = nodeParseArgs({ args, options: spec as any, strict: true, allowPositionals });
    return {
      values: parsed.values as Record<string, string | boolean | undefined>,
      positionals: parsed.positionals,
    };
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0] + " (see --help)");
  }
}

/** Reads a numeric flag; names the flag and the bad value when it is not a finite number in range. */
export function numberFlag(
  name: string,
  raw: unknown,
  { min = -Infinity, max = Infinity, integer = false } = {},
): number {
  const value = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(value)) {
    throw new UsageError(`--${name}: expected a number, got '${raw}'`);
  }
  if (integer && !Number.isInteger(value)) {
    throw new UsageError(`--${name}: expected an integer, got '${raw}'`);
  }
  if (value < min || value > max) throw new UsageError(`--${name}: ${value} is outside [${min}, ${max}]`);
  return value;
}

/**
 * Runs `read` (a library call on a flag's value) and puts `prefix` — the flag, e.g. `--data` or `--eps:` — in
 * front of any {@link UserError} it throws: the library words its errors in terms of the value, the task says
 * which flag carried it.
 *
 * @example
 * ```ts
 * const eps = forFlag("--eps:", () => parseEpsGrid(text)); // "--eps: ε must be ≥ 0, got '-1'"
 * ```
 */
export function forFlag<T>(prefix: string, read: () => T): T {
  const name = (e: unknown) => {
    if (e instanceof UserError) e.message = `${prefix} ${e.message}`;
    return e;
  };
  try {
    const result = read();
    return (result instanceof Promise ? result.catch((e) => Promise.reject(name(e))) : result) as T;
  } catch (e) {
    throw name(e);
  }
}
