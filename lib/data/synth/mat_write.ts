/**
 * A minimal MATLAB Level 5 MAT-file writer: a 128-byte header, then one `miMATRIX` element per numeric 2-D
 * variable, optionally wrapped in `miCOMPRESSED` (zlib) as MATLAB's default `save` does. Layout per the
 * MathWorks "MAT-File Format" document (Level 5); `scipy.io.loadmat` reads the output.
 * @module
 */
import { compress } from "./compress.ts";

/** MATLAB array classes the writer supports: [mxClass, miType of the data, bytes per element]. */
export const MAT_CLASSES = {
  double: [6, 9, 8],
  single: [7, 7, 4],
  int16: [10, 3, 2],
  uint8: [9, 2, 1],
  int32: [12, 5, 4],
  uint32: [13, 6, 4],
} as const;

/** Element type codes used in tags. */
const MI = { INT8: 1, INT32: 5, UINT32: 6, MATRIX: 14, COMPRESSED: 15 } as const;

/** A real, full (non-sparse) 2-D numeric MATLAB variable. */
export interface MatVariable {
  /** Variable name (a MATLAB identifier). */
  name: string;
  /** MATLAB class the values are stored as. */
  class: keyof typeof MAT_CLASSES;
  /** Size as MATLAB reports it: [rows, cols]. */
  shape: [number, number];
  /** Values in column-major order: element (r, c) at `r + rows*c`. */
  data: ArrayLike<number>;
}

/**
 * Encodes variables as a MAT v5 file.
 *
 * @example
 * ```ts
 * const mat = await encodeMatV5([{ name: "sharedix", class: "double", shape: [1, 3], data: [5, 9, 12] }]);
 * ```
 */
export async function encodeMatV5(
  variables: MatVariable[],
  { compressed = true, description = "MATLAB 5.0 MAT-file, written by neuroguide synth" } = {},
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [header(description)];
  for (const variable of variables) {
    const element = matrixElement(variable);
    if (!compressed) {
      parts.push(element);
      continue;
    }
    const zlib = await compress(element, "deflate");
    // miCOMPRESSED payloads are not padded to 8 bytes: readers (MATLAB, scipy) continue right after them.
    parts.push(tag(MI.COMPRESSED, zlib.length), zlib);
  }
  return concat(parts);
}

/** 116 bytes of descriptive text, 8 bytes of subsystem offset (unused), version 0x0100, endian "IM". */
function header(description: string): Uint8Array {
  const bytes = new Uint8Array(128).fill(0x20);
  if (!description.startsWith("MATLAB 5.0 MAT-file")) {
    throw new Error("MAT header must start 'MATLAB 5.0 MAT-file'");
  }
  bytes.set(new TextEncoder().encode(description.slice(0, 116)));
  bytes.fill(0, 116, 124);
  const view = new DataView(bytes.buffer);
  view.setUint16(124, 0x0100, true);
  // Written little-endian as 'I','M': a reader that sees "MI" knows to swap bytes.
  view.setUint16(126, 0x4d49, true);
  return bytes;
}

function matrixElement({ name, class: cls, shape, data }: MatVariable): Uint8Array {
  const [mxClass, miType, size] = MAT_CLASSES[cls];
  if (shape[0] * shape[1] !== data.length) {
    throw new RangeError(`MAT variable ${name}: ${data.length} values for shape ${shape.join("×")}`);
  }
  if (!/^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(name)) {
    throw new RangeError(`MAT variable name '${name}' is invalid`);
  }
  const flags = new Uint8Array(8);
  new DataView(flags.buffer).setUint32(0, mxClass, true); // class in the low byte; no complex/global/logical bits
  const dims = new Uint8Array(8);
  new DataView(dims.buffer).setInt32(0, shape[0], true);
  new DataView(dims.buffer).setInt32(4, shape[1], true);
  const values = new Uint8Array(data.length * size);
  const view = new DataView(values.buffer);
  const set: (i: number, v: number) => void = {
    double: (i: number, v: number) => view.setFloat64(i * 8, v, true),
    single: (i: number, v: number) => view.setFloat32(i * 4, v, true),
    int16: (i: number, v: number) => view.setInt16(i * 2, v, true),
    uint8: (i: number, v: number) => view.setUint8(i, v),
    int32: (i: number, v: number) => view.setInt32(i * 4, v, true),
    uint32: (i: number, v: number) => view.setUint32(i * 4, v, true),
  }[cls];
  for (let i = 0; i < data.length; i++) set(i, data[i]);
  const body = concat([
    subelement(MI.UINT32, flags),
    subelement(MI.INT32, dims),
    subelement(MI.INT8, new TextEncoder().encode(name)),
    subelement(miType, values),
  ]);
  return concat([tag(MI.MATRIX, body.length), body]);
}

/** A tagged sub-element, padded to a multiple of 8 bytes (the long format; no small-element packing). */
function subelement(type: number, payload: Uint8Array): Uint8Array {
  const padded = new Uint8Array(Math.ceil(payload.length / 8) * 8);
  padded.set(payload);
  return concat([tag(type, payload.length), padded]);
}

function tag(type: number, byteCount: number): Uint8Array {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, byteCount, true);
  return bytes;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
