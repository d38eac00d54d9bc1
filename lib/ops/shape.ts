/** Shape validation shared by all ops. @module */
import { ShapeError } from "../gpu/operands.ts";

export { ShapeError };

/** Throws a {@link ShapeError} for `op` unless `condition` holds. */
export function checkShape(condition: boolean, op: string, detail: string): asserts condition {
  if (!condition) throw new ShapeError(`${op}: ${detail}`);
}

/** Throws unless every value is a positive integer (a valid dimension). */
export function checkDims(op: string, dims: Record<string, number>): void {
  for (const [name, value] of Object.entries(dims)) {
    checkShape(Number.isInteger(value) && value > 0, op, `${name} must be a positive integer, got ${value}`);
  }
}
