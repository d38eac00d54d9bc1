/**
 * Bind-time size checks: a buffer smaller than its operand's shape would otherwise be read out of bounds
 * silently (robust buffer access clamps) or fail later with a message that names no op.
 * @module
 */
import { UserError } from "../errors.ts";

/** Thrown before any dispatch when an op's operands do not fit; names the op and the shapes. */
export class ShapeError extends UserError {
  override name = "ShapeError";
}

/**
 * Throws a {@link ShapeError} naming `op`, the operand, its expected shape and the buffer's size unless every
 * buffer in `buffers` whose name appears in `shapes` holds at least that shape's 4-byte values.
 */
export function checkBuffers(
  op: string,
  shapes: Readonly<Record<string, readonly number[]>>,
  buffers: Readonly<Record<string, GPUBuffer | undefined>>,
): void {
  for (const [name, buffer] of Object.entries(buffers)) {
    const shape = shapes[name];
    if (!buffer || !shape) continue;
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    if (buffer.size < bytes) {
      throw new ShapeError(
        `${op}: ${name} must hold [${
          shape.join(", ")
        }] (${bytes} bytes), buffer "${buffer.label}" has ${buffer.size}`,
      );
    }
  }
}
