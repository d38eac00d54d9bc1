/**
 * The ε grid of a robustness sweep, written as text (`START:STOP:STEP` or a comma list) by the command line
 * and the sweep plan.
 * @module
 */
import { UsageError } from "../errors.ts";

/** More ε values than anyone sweeps: a grid beyond this is a typo (a step of 1e-6 for 1e-3). */
const MAX_EPS = 10_000;

/**
 * Parses `START:STOP:STEP` (inclusive, tolerant of float steps) or `a,b,c` into ascending ε ≥ 0.
 *
 * @example
 * ```ts
 * parseEpsGrid("0.001:0.019:0.002"); // [0.001, 0.003, …, 0.019]
 * ```
 */
export function parseEpsGrid(text: string): number[] {
  let values: number[];
  const range = text.split(":");
  if (range.length === 3) {
    const [start, stop, step] = range.map((v) => epsValue(v, text));
    if (!(step > 0)) throw new UsageError(`the step must be > 0 in the ε grid '${text}'`);
    const count = Math.floor((stop - start) / step + 1e-9) + 1;
    if (count < 1) throw new UsageError(`the ε grid '${text}' is empty (STOP < START)`);
    if (count > MAX_EPS) {
      throw new UsageError(`the ε grid '${text}' gives ${count} values; at most ${MAX_EPS}`);
    }
    // rounding to 12 digits keeps 0.001 + 9·0.002 printing as 0.019
    values = Array.from({ length: count }, (_, i) => Number((start + i * step).toPrecision(12)));
  } else if (range.length === 1) {
    values = text.split(",").map((v) => epsValue(v, text));
  } else {
    throw new UsageError(`expected START:STOP:STEP or a comma list for the ε grid, got '${text}'`);
  }
  if (values.some((v) => v < 0)) throw new UsageError(`ε must be ≥ 0, got '${text}'`);
  if (values.some((v, i) => i > 0 && v <= values[i - 1])) {
    throw new UsageError(`ε values must be strictly ascending, got '${text}'`);
  }
  return values;
}

function epsValue(raw: string, grid: string): number {
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value)) {
    throw new UsageError(`expected a number, got '${raw}' in the ε grid '${grid}'`);
  }
  return value;
}
