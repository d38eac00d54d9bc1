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

/** A negative number given as a flag's value (`--alpha -1`), which `parseArgs` would take for a flag. */
const NEGATIVE_NUMBER = /^-(\d|\.\d|Infinity$)/;

/**
 * Parses `args` strictly: unknown flags and missing values become a {@link UsageError} naming the flag.
 * A string flag's value may be a negative number (`--alpha -1` reads as `--alpha=-1`). `--debug` (stack
 * traces, read by `runMain`) is accepted by every task and not returned.
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
    const parsed = nodeParseArgs({
      args: joinNegativeValues(args, spec),
      // deno-lint-ignore no-explicit-any
      options: { debug: { type: "boolean" }, ...spec } as any,
      strict: true,
      allowPositionals,
    });
    const { debug: _debug, ...values } = parsed.values as Record<string, string | boolean | undefined>;
    return { values, positionals: parsed.positionals };
  } catch (e) {
    const message = (e as Error).message;
    const ambiguous = message.match(/^Option '(-[^']+)' argument is ambiguous/);
    if (ambiguous) {
      const flag = ambiguous[1].split(", ").at(-1)!;
      throw new UsageError(`${flag}: its value starts with '-'; write ${flag}=VALUE (see --help)`);
    }
    throw new UsageError(message.split("\n")[0] + " (see --help)");
  }
}

/** Rewrites `--flag -1` as `--flag=-1` for string flags, up to a `--` terminator. */
function joinNegativeValues(args: string[], spec: FlagSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") return [...out, ...args.slice(i)];
    const name = arg.startsWith("--") && !arg.includes("=") ? arg.slice(2) : undefined;
    const next = args[i + 1];
    if (name && spec[name]?.type === "string" && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
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
 * import { parseEpsGrid } from "../attacks/eps_grid.ts";
 * try {
 *   forFlag("--eps:", () => parseEpsGrid("-1"));
 * } catch (e) {
 *   console.log((e as Error).message); // "--eps: ε must be ≥ 0, got '-1'"
 * }
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

/**
 * `items` joined with ", " and broken into lines of at most `width` characters, each after the first starting
 * with `indent`: a long list of names in a help text's option column.
 *
 * @example
 * ```ts
 * console.log(wrapList(["V1", "V2", "V4"], 6, "  ")); // "V1,\n  V2,\n  V4"
 * ```
 */
export function wrapList(items: readonly string[], width: number, indent: string): string {
  const lines: string[] = [];
  let line = "";
  for (const [i, item] of items.entries()) {
    const word = i < items.length - 1 ? `${item},` : item;
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line].join(`\n${indent}`);
}
