/**
 * Checkpoints in Hugging Face's safetensors format: an 8-byte little-endian u64 header length, a UTF-8 JSON
 * header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`, then the
 * tensor bytes (little-endian, C order), with offsets relative to the end of the header.
 *
 * Reading validates the header strictly (one-line {@link SafetensorsError} naming the file): known dtype,
 * integer shape, offsets that tile the data section exactly (start at 0, contiguous, no overlap, ending at the
 * end of the file) and byte ranges equal to dtype size × element count. Unknown keys in a tensor entry are
 * rejected too, since no reference writer produces them and they most likely mean a corrupt or foreign file.
 *
 * Element types on read:
 * - `F32` → `Float32Array` (exact); `F16`, `BF16` → `Float32Array` (exact widening); `F64` → `Float32Array`
 *   (rounded: the GPU works in fp32, so a double checkpoint is only ever used at fp32).
 * - `I64` → `BigInt64Array` (torch writes BatchNorm's `num_batches_tracked` as I64; kept exact),
 *   `I32` → `Int32Array`, `U8` and `BOOL` → `Uint8Array`.
 * - Any other dtype (I8, I16, U16, U32, U64, F8_*) is an error naming it.
 *
 * Writing takes `F32`, `I64`, `I32` and `U8` tensors (the dtype follows the array type) and lays the file
 * out like the reference implementation: tensors sorted by descending dtype alignment, then by name; header
 * `__metadata__` first; header padded with spaces to a multiple of 8 bytes so every tensor is aligned. Files
 * are written atomically (temp file + rename).
 *
 * All typed-array views assume a little-endian host, which is every platform Deno runs on.
 * @module
 */
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "./atomic.ts";

/** Raised for unreadable, corrupt or mismatched checkpoints; the message is one line naming the file. */
export class SafetensorsError extends UserError {
  override name = "SafetensorsError";
}

/** The element types this module reads (see the module docs for what each becomes). */
export type Dtype = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "U8" | "BOOL";

/** What a tensor's values are held in after reading, and what {@link encodeSafetensors} accepts. */
export type TensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array;

/** A tensor as read from a file: the stored dtype, its shape and its values (possibly widened, see module). */
export interface Tensor {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** A tensor to write: its dtype is implied by the array type (Float32Array → F32, BigInt64Array → I64, …). */
export interface TensorInput {
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** The contents of a safetensors file. */
export interface Safetensors {
  /** Tensors in file order (by data offset). */
  readonly tensors: Map<string, Tensor>;
  /** The `__metadata__` strings (empty when the file has none). */
  readonly metadata: Record<string, string>;
}

/** Metadata key under which {@link encodeSafetensors} stores the model config as a JSON string. */
export const CONFIG_METADATA_KEY = "neuroguide.config";

/** Options for {@link encodeSafetensors} and {@link writeSafetensors}. */
export interface WriteOptions {
  /** Free-form `__metadata__` strings. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** A model config, stored as JSON under {@link CONFIG_METADATA_KEY}; read back with {@link readConfig}. */
  readonly config?: unknown;
}

/** The reference implementation refuses headers above this size; a bigger length field means a corrupt file. */
const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element, and the reference's dtype order (ascending alignment), used to sort on write. */
const DTYPE_SIZE: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};
const DTYPE_RANK = Object.fromEntries(Object.keys(DTYPE_SIZE).map((name, rank) => [name, rank]));
const READABLE = new Set<string>(["F64", "F32", "F16", "BF16", "I64", "I32", "U8", "BOOL"]);

/**
 * Parses a whole safetensors file held in memory. `file` names it in error messages.
 * Tensor data is copied out of `bytes`, so the result does not keep the file buffer alive.
 */
export function parseSafetensors(bytes: Uint8Array, file = "<bytes>"): Safetensors {
  const fail = (message: string): never => {
    throw new SafetensorsError(`${file}: ${message}`);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, a safetensors file has at least 8`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    fail(
      `header length ${headerLength} is over the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`,
    );
  }
  const dataStart = 8 + Number(headerLength);
  if (dataStart > bytes.length) {
    fail(
      `truncated: header claims ${headerLength} bytes but the file has ${bytes.length - 8} after the length`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) fail("header is not a JSON object");

  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (!isPlainObject(value)) fail("__metadata__ is not an object");
      for (const [key, text] of Object.entries(value as Record<string, unknown>)) {
        if (typeof text !== "string") fail(`__metadata__.${key} is not a string`);
        metadata[key] = text as string;
      }
      continue;
    }
    entries.push({ name, ...parseEntry(name, value, fail) });
  }

  // Offsets must tile the data section exactly: sorted by start, each tensor begins where the previous ends.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataLength = bytes.length - dataStart;
  let cursor = 0;
  const tensors = new Map<string, Tensor>();
  for (const entry of entries) {
    if (entry.begin < cursor) {
      fail(`tensor '${entry.name}' overlaps the previous tensor (starts at ${entry.begin})`);
    }
    if (entry.begin > cursor) {
      fail(`gap before tensor '${entry.name}' (bytes ${cursor}..${entry.begin} unused)`);
    }
    const expected = numel(entry.shape) * DTYPE_SIZE[entry.dtype];
    if (entry.end - entry.begin !== expected) {
      fail(
        `tensor '${entry.name}' spans ${entry.end - entry.begin} bytes but ${entry.dtype} [${entry.shape}] ` +
          `needs ${expected}`,
      );
    }
    if (entry.end > dataLength) {
      fail(
        `truncated: tensor '${entry.name}' ends at byte ${entry.end} of a ${dataLength}-byte data section`,
      );
    }
    cursor = entry.end;
    const raw = bytes.slice(dataStart + entry.begin, dataStart + entry.end); // copy: aligned, owns its buffer
    tensors.set(entry.name, {
      dtype: entry.dtype,
      shape: entry.shape,
      data: decode(entry.dtype, raw.buffer),
    });
  }
  if (cursor !== dataLength) fail(`${dataLength - cursor} trailing bytes after the last tensor`);
  return { tensors, metadata };
}

/**
 * Reads a safetensors file (a path, or the file's bytes) and validates it; see the module docs for dtypes.
 *
 * @example
 * ```ts
 * // The first convolution of a torchvision ResNet checkpoint.
 * async function conv1Of(path: string) {
 *   const { tensors, metadata } = await readSafetensors(path);
 *   return tensors.get("conv1.weight"); // { dtype: "F32", shape: [64, 3, 7, 7], data: Float32Array }
 * }
 * ```
 */
export async function readSafetensors(pathOrBytes: string | URL | Uint8Array): Promise<Safetensors> {
  if (pathOrBytes instanceof Uint8Array) return parseSafetensors(pathOrBytes);
  const file = String(pathOrBytes);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(pathOrBytes);
  } catch (e) {
    throw new SafetensorsError(`${file}: cannot read (${(e as Error).message})`);
  }
  return parseSafetensors(bytes, file);
}

/** Serializes tensors and metadata to safetensors bytes, laid out as the reference implementation does. */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, TensorInput> | Readonly<Record<string, TensorInput>>,
  options: WriteOptions = {},
): Uint8Array {
  const list = [...(tensors instanceof Map ? tensors : Object.entries(tensors))].map(([name, tensor]) => {
    const dtype = dtypeOf(tensor.data);
    if (numel(tensor.shape) !== tensor.data.length || !tensor.shape.every(isDim)) {
      throw new SafetensorsError(
        `tensor '${name}': shape [${tensor.shape}] does not hold its ${tensor.data.length} values`,
      );
    }
    return { name, dtype, tensor };
  });
  // Descending alignment, then name (byte order, as Rust compares strings): every tensor stays aligned.
  list.sort((a, b) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || compareUtf8(a.name, b.name));

  const metadata: Record<string, string> = { ...options.metadata };
  if (options.config !== undefined) metadata[CONFIG_METADATA_KEY] = JSON.stringify(options.config);
  const header: Record<string, unknown> = {};
  // Metadata keys sorted so that equal checkpoints are equal files.
  const metadataKeys = Object.keys(metadata).sort();
  if (metadataKeys.length > 0) {
    header.__metadata__ = Object.fromEntries(metadataKeys.map((key) => [key, metadata[key]]));
  }
  let offset = 0;
  for (const { name, dtype, tensor } of list) {
    if (name === "__metadata__") throw new SafetensorsError("a tensor cannot be named __metadata__");
    header[name] = {
      dtype,
      shape: [...tensor.shape],
      data_offsets: [offset, offset + tensor.data.byteLength],
    };
    offset += tensor.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength); // space padding, as the reference writes
  let position = 8 + headerLength;
  for (const { tensor } of list) {
    out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), position);
    position += tensor.data.byteLength;
  }
  return out;
}

/**
 * Writes tensors to `path` as safetensors, atomically (no partial file is ever visible at `path`).
 *
 * @example
 * ```ts
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await writeSafetensors(path, {
 *   "fc.weight": { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
 *   "bn1.num_batches_tracked": { shape: [], data: new BigInt64Array([1234n]) },
 * }, { config: { arch: "linear", classes: 2 } });
 * console.log((await readSafetensors(path)).tensors.get("fc.weight")?.shape); // [2, 3]
 * await Deno.remove(path);
 * ```
 */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, TensorInput> | Readonly<Record<string, TensorInput>>,
  options: WriteOptions = {},
): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = encodeSafetensors(tensors, options);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new SafetensorsError(`${path}: ${e.message}`);
    throw e;
  }
  await writeFileAtomic(path, bytes);
}

/** The model config stored by {@link writeSafetensors} (`undefined` when absent); `file` names it in errors. */
export function readConfig(metadata: Readonly<Record<string, string>>, file = "<bytes>"): unknown {
  const text = metadata[CONFIG_METADATA_KEY];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(
      `${file}: metadata ${CONFIG_METADATA_KEY} is not valid JSON (${(e as Error).message})`,
    );
  }
}

/**
 * Checks loaded tensors against the names and shapes a model expects; throws a one-line
 * {@link SafetensorsError} naming `file` and the first missing or mis-shaped tensor (in `expected` order), else
 * the first unexpected one (in `loaded` order).
 */
export function checkStateDict(
  expected: ReadonlyMap<string, readonly number[]>,
  loaded: ReadonlyMap<string, { readonly shape: readonly number[] }>,
  file: string,
): void {
  for (const [name, shape] of expected) {
    const tensor = loaded.get(name);
    if (!tensor) throw new SafetensorsError(`${file}: missing tensor '${name}' (expected shape [${shape}])`);
    if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
      throw new SafetensorsError(
        `${file}: tensor '${name}' has shape [${tensor.shape}], expected [${shape}]`,
      );
    }
  }
  for (const [name, tensor] of loaded) {
    if (!expected.has(name)) {
      throw new SafetensorsError(`${file}: unexpected tensor '${name}' (shape [${tensor.shape}])`);
    }
  }
}

type Fail = (message: string) => never;

function parseEntry(
  name: string,
  value: unknown,
  fail: Fail,
): { dtype: Dtype; shape: number[]; begin: number; end: number } {
  if (!isPlainObject(value)) fail(`tensor '${name}': entry is not an object`);
  const { dtype, shape, data_offsets: offsets, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) fail(`tensor '${name}': unknown field '${extra[0]}'`);
  if (typeof dtype !== "string" || !(dtype in DTYPE_SIZE)) {
    fail(`tensor '${name}': unknown dtype ${JSON.stringify(dtype)}`);
  }
  if (!READABLE.has(dtype as string)) fail(`tensor '${name}': dtype ${dtype} is not supported`);
  if (!Array.isArray(shape) || !shape.every(isDim)) {
    fail(`tensor '${name}': shape ${JSON.stringify(shape)} is not a list of sizes`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isDim) || offsets[0] > offsets[1]) {
    fail(`tensor '${name}': data_offsets ${JSON.stringify(offsets)} is not [begin, end] with begin <= end`);
  }
  return {
    dtype: dtype as Dtype,
    shape: shape as number[],
    begin: (offsets as number[])[0],
    end: (offsets as number[])[1],
  };
}

function decode(dtype: Dtype, buffer: ArrayBuffer): TensorData {
  switch (dtype) {
    case "F32":
      return new Float32Array(buffer);
    case "F64":
      return Float32Array.from(new Float64Array(buffer));
    case "F16":
      return Float32Array.from(new Uint16Array(buffer), halfToFloat);
    case "BF16": {
      // bf16 is the top half of an fp32: shift into place and reinterpret.
      const bits = Uint32Array.from(new Uint16Array(buffer), (h) => h << 16);
      return new Float32Array(bits.buffer);
    }
    case "I64":
      return new BigInt64Array(buffer);
    case "I32":
      return new Int32Array(buffer);
    case "U8":
    case "BOOL":
      return new Uint8Array(buffer);
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function dtypeOf(data: TensorData): "F32" | "I64" | "I32" | "U8" {
  if (data instanceof Float32Array) return "F32";
  if (data instanceof BigInt64Array) return "I64";
  if (data instanceof Int32Array) return "I32";
  return "U8";
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isDim(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function compareUtf8(a: string, b: string): number {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}
