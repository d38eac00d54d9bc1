/**
 * A minimal MATLAB v5 MAT-file reader: numeric matrices (any numeric class, any stored element type),
 * inside plain or `miCOMPRESSED` (zlib, decoded with `DecompressionStream("deflate")`) elements. Cells,
 * structs, chars and sparse arrays are skipped. Format: MathWorks "MAT-File Format" (matfile_format.pdf).
 * @module
 */
import { NsdFormatError } from "./errors.ts";
import { requireFile } from "./paths.ts";

/** A numeric MATLAB array, values in column-major order as stored. */
export interface MatArray {
  name: string;
  /** MATLAB class, e.g. "double", "uint16". */
  className: string;
  /** MATLAB dims, e.g. [8, 10000]. Element (r, c) sits at `r + dims[0]*c`. */
  dims: number[];
  data: Float64Array;
}

const HEADER_BYTES = 128;
const MI_MATRIX = 14;
const MI_COMPRESSED = 15;

/** Element types (miINT8 …) → [bytes, getter]. miINT64/miUINT64 go through Number (exact below 2^53). */
const ELEMENT_TYPES: Record<number, [number, (v: DataView, o: number, le: boolean) => number]> = {
  1: [1, (v, o) => v.getInt8(o)],
  2: [1, (v, o) => v.getUint8(o)],
  3: [2, (v, o, le) => v.getInt16(o, le)],
  4: [2, (v, o, le) => v.getUint16(o, le)],
  5: [4, (v, o, le) => v.getInt32(o, le)],
  6: [4, (v, o, le) => v.getUint32(o, le)],
  7: [4, (v, o, le) => v.getFloat32(o, le)],
  9: [8, (v, o, le) => v.getFloat64(o, le)],
  12: [8, (v, o, le) => Number(v.getBigInt64(o, le))],
  13: [8, (v, o, le) => Number(v.getBigUint64(o, le))],
};

/** Numeric mxCLASS ids → names; other classes (cell 1, struct 2, object 3, char 4, sparse 5) are skipped. */
const NUMERIC_CLASSES: Record<number, string> = {
  6: "double",
  7: "single",
  8: "int8",
  9: "uint8",
  10: "int16",
  11: "uint16",
  12: "int32",
  13: "uint32",
  14: "int64",
  15: "uint64",
};

interface Tag {
  type: number;
  nbytes: number;
  dataPos: number;
  /** Start of the next element (8-byte aligned, as the format requires). */
  next: number;
}

function readTag(view: DataView, pos: number, le: boolean): Tag {
  const first = view.getUint32(pos, le);
  // Small data element format: byte count in the upper 16 bits, data packed into the tag's second word.
  if (first >>> 16 !== 0) {
    return { type: first & 0xffff, nbytes: first >>> 16, dataPos: pos + 4, next: pos + 8 };
  }
  const nbytes = view.getUint32(pos + 4, le);
  return { type: first, nbytes, dataPos: pos + 8, next: pos + 8 + Math.ceil(nbytes / 8) * 8 };
}

async function inflate(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
      new DecompressionStream("deflate"),
    );
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new NsdFormatError(
      file,
      `corrupt compressed MAT element (${(e as Error).message}); re-download it`,
    );
  }
}

/** Parses one miMATRIX body; returns null for non-numeric classes or names not wanted. */
function parseMatrix(
  view: DataView,
  tag: Tag,
  le: boolean,
  file: string,
  wanted?: Set<string>,
): MatArray | null {
  const end = tag.dataPos + tag.nbytes;
  const flags = readTag(view, tag.dataPos, le);
  const classId = view.getUint32(flags.dataPos, le) & 0xff;
  const complex = (view.getUint32(flags.dataPos, le) & 0x800) !== 0;
  const dimsTag = readTag(view, flags.next, le);
  const dims = Array.from(
    { length: dimsTag.nbytes / 4 },
    (_, i) => view.getInt32(dimsTag.dataPos + 4 * i, le),
  );
  const nameTag = readTag(view, dimsTag.next, le);
  const name = new TextDecoder().decode(
    new Uint8Array(view.buffer, view.byteOffset + nameTag.dataPos, nameTag.nbytes),
  );
  const className = NUMERIC_CLASSES[classId];
  if ((wanted && !wanted.has(name)) || !className) return null;
  if (complex) throw new NsdFormatError(file, `variable '${name}' is complex; expected a real matrix`);
  const real = readTag(view, nameTag.next, le);
  const element = ELEMENT_TYPES[real.type];
  if (!element || real.dataPos + real.nbytes > end) {
    throw new NsdFormatError(file, `variable '${name}' has an unreadable data element (type ${real.type})`);
  }
  const [size, get] = element;
  const count = dims.reduce((a, b) => a * b, 1);
  if (real.nbytes !== count * size) {
    throw new NsdFormatError(
      file,
      `variable '${name}' holds ${real.nbytes / size} values for dims ${dims.join("×")}`,
    );
  }
  const data = new Float64Array(count);
  for (let i = 0; i < count; i++) data[i] = get(view, real.dataPos + i * size, le);
  return { name, className, dims, data };
}

/**
 * Parses MAT v5 bytes and returns the numeric variables (only `names` when given).
 *
 * @example
 * ```ts
 * import { encodeMatV5 } from "../synth/mat_write.ts";
 * // a MAT v5 file with one variable, as nsd_expdesign.mat stores sharedix (1 × N doubles)
 * const bytes = await encodeMatV5([{ name: "sharedix", class: "double", shape: [1, 3], data: [5, 9, 12] }]);
 * const vars = await parseMat5(bytes, "example.mat", ["sharedix"]);
 * vars.get("sharedix")!.dims; // [1, 3]
 * ```
 */
export async function parseMat5(
  bytes: Uint8Array,
  file: string,
  names?: string[],
): Promise<Map<string, MatArray>> {
  const text = new TextDecoder("latin1").decode(bytes.subarray(0, 20));
  if (text.startsWith("MATLAB 7.3")) {
    throw new NsdFormatError(
      file,
      "is a MATLAB v7.3 (HDF5) file; re-save it with save(..., '-v7') or use the NSD original",
    );
  }
  if (bytes.length < HEADER_BYTES || !text.startsWith("MATLAB 5.0 MAT-file")) {
    throw new NsdFormatError(file, "not a MATLAB v5 MAT-file (header text missing); re-download it");
  }
  // Endian indicator "MI" written as a 16-bit word: the bytes read "IM" in a little-endian file.
  const le = String.fromCharCode(bytes[126], bytes[127]) === "IM";
  const wanted = names ? new Set(names) : undefined;
  const out = new Map<string, MatArray>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = HEADER_BYTES;
  while (pos + 8 <= bytes.length) {
    const tag = readTag(view, pos, le);
    if (tag.dataPos + tag.nbytes > bytes.length) {
      throw new NsdFormatError(file, `element at byte ${pos} runs past the end of the file; re-download it`);
    }
    let matrix: MatArray | null = null;
    if (tag.type === MI_COMPRESSED) {
      const inner = await inflate(bytes.subarray(tag.dataPos, tag.dataPos + tag.nbytes), file);
      const innerView = new DataView(inner.buffer, inner.byteOffset, inner.byteLength);
      const innerTag = readTag(innerView, 0, le);
      if (innerTag.type === MI_MATRIX) matrix = parseMatrix(innerView, innerTag, le, file, wanted);
      // Compressed elements are not padded: the next element starts right after the zlib stream.
      pos = tag.dataPos + tag.nbytes;
    } else {
      if (tag.type === MI_MATRIX) matrix = parseMatrix(view, tag, le, file, wanted);
      pos = tag.next;
    }
    if (matrix) out.set(matrix.name, matrix);
  }
  return out;
}

/** Reads a MAT v5 file and returns the numeric variables `names`, failing for any that is missing. */
export async function readMat5(path: string, names: string[], root?: string): Promise<Map<string, MatArray>> {
  await requireFile(path, root);
  const vars = await parseMat5(await Deno.readFile(path), path, names);
  const missing = names.filter((n) => !vars.has(n));
  if (missing.length > 0) {
    throw new NsdFormatError(
      path,
      `no numeric variable ${missing.map((m) => `'${m}'`).join(", ")}; re-download it`,
    );
  }
  return vars;
}
