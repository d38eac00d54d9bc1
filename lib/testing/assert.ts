/**
 * Test assertions. A thin re-export of `node:assert/strict` because JSR (`jsr:@std/assert`) is unreachable from
 * our build machines; switching to `@std/assert` is a change to this file only.
 * @module
 */
export { deepStrictEqual, equal, notEqual, ok, rejects, throws } from "node:assert/strict";
import { ok } from "node:assert/strict";

/**
 * Asserts that every element of `actual` is within `atol + rtol·|expected|` of `expected`; the message names the
 * first offending index and both values.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-4, atol = 1e-6, label = "value" } = {},
): void {
  ok(actual.length === expected.length, `${label}: length ${actual.length} != expected ${expected.length}`);
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
      if (Number.isNaN(excess)) break;
    }
  }
  ok(
    worst < 0,
    worst < 0
      ? ""
      : `${label}[${worst}] = ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`,
  );
}
