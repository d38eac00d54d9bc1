/**
 * Checked HDF5 access through h5wasm. h5wasm clamps out-of-range hyperslabs silently (or fails with an
 * opaque allocation error), so every selection is validated against the dataset shape and every result
 * against the expected element count.
 * @module
 */
import h5wasm, { takeHdf5Diagnostics } from "../../deps/h5wasm.ts";
import { NsdFormatError } from "./errors.ts";
import { requireFile } from "./paths.ts";

/** An open h5wasm file. */
export type H5File = InstanceType<typeof h5wasm.File>;
/** An h5wasm dataset. */
export type H5Dataset = InstanceType<typeof h5wasm.Dataset>;
/** Typed arrays h5wasm returns for numeric datasets. */
export type NumericArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/** h5wasm dtype strings of the numeric types we read, with a human name for messages. */
const DTYPE_NAMES: Record<string, string> = {
  "<b": "int8",
  "<B": "uint8",
  "<h": "int16",
  "<H": "uint16",
  "<i": "int32",
  "<I": "uint32",
  "<f": "float32",
  "<d": "float64",
};

/** The NSD download's fix; files this project writes name the task that makes them (see {@link openH5}). */
const DOWNLOAD_FIX = "re-download it";
/** The fix to print for each file opened with a specific one. */
const fixes = new Map<string, string>();
const fixFor = (file: string) => fixes.get(file) ?? DOWNLOAD_FIX;

/** HDF5's format signature; it starts the file or a user block of 512, 1024, 2048, … bytes. */
const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Whether `path` carries the HDF5 signature at one of the offsets the format allows. */
async function hasHdf5Signature(path: string): Promise<boolean> {
  using file = await Deno.open(path);
  const size = (await file.stat()).size;
  const head = new Uint8Array(SIGNATURE.length);
  for (let offset = 0; offset + SIGNATURE.length <= size; offset = offset === 0 ? 512 : offset * 2) {
    await file.seek(offset, Deno.SeekMode.Start);
    let filled = 0;
    while (filled < head.length) {
      const n = await file.read(head.subarray(filled));
      if (n === null) break;
      filled += n;
    }
    if (filled === head.length && SIGNATURE.every((b, i) => head[i] === b)) return true;
  }
  return false;
}

/**
 * Opens `path` read-only after checking that it exists and is HDF5 (h5wasm's own errors do not name the file,
 * and a truncated file "opens" as an invalid handle). `fix` ends every error about the file: the default
 * suits NSD downloads; files made by a task say which (e.g. "make it (again) with deno task nsd-prep").
 */
export async function openH5(path: string, root?: string, fix?: string): Promise<H5File> {
  await requireFile(path, root, fix);
  if (fix) fixes.set(path, fix);
  if (!(await hasHdf5Signature(path))) {
    throw new NsdFormatError(path, `not an HDF5 file (no HDF5 signature); ${fixFor(path)}`);
  }
  await h5wasm.ready;
  let file: H5File | undefined;
  try {
    file = new h5wasm.File(path, "r");
  } catch {
    // reported below, with HDF5's reason
  }
  if (!file || Number(file.file_id) < 0) {
    const reason = takeHdf5Diagnostics().filter((line) => /^\s*minor:/.test(line)).at(-1)
      ?.replace(/^\s*minor:\s*/, "").toLowerCase() ?? "unreadable";
    throw new NsdFormatError(path, `HDF5 cannot open it (${reason}): truncated or damaged; ${fixFor(path)}`);
  }
  return file;
}

/** Runs `body` on the opened file and always closes it; `fix` as in {@link openH5}. */
export async function withH5<T>(
  path: string,
  root: string | undefined,
  body: (f: H5File) => T,
  fix?: string,
): Promise<T> {
  const file = await openH5(path, root, fix);
  try {
    return body(file);
  } finally {
    file.close();
  }
}

/**
 * Returns dataset `name`, checking its dtype and rank; the error lists what the file holds instead.
 * `expect.shape` entries that are `null` are not checked.
 */
export function getDataset(
  file: H5File,
  name: string,
  expect: { dtype?: string; shape?: (number | null)[]; describe?: string } = {},
): { ds: H5Dataset; shape: number[] } {
  const entity = file.get(name);
  if (!(entity instanceof h5wasm.Dataset)) {
    const keys = file.keys().join(", ") || "nothing";
    throw new NsdFormatError(
      file.filename,
      `no dataset '${name}' (the file holds: ${keys}); not the expected file, ${fixFor(file.filename)}`,
    );
  }
  const shape = entity.shape ?? [];
  const dtype = typeof entity.dtype === "string" ? entity.dtype : JSON.stringify(entity.dtype);
  if (expect.dtype && dtype !== expect.dtype) {
    throw new NsdFormatError(
      file.filename,
      `dataset '${name}' has dtype ${DTYPE_NAMES[dtype] ?? dtype}, expected ${
        DTYPE_NAMES[expect.dtype] ?? expect.dtype
      }; not the expected file, ${fixFor(file.filename)}`,
    );
  }
  const want = expect.shape;
  if (want && (want.length !== shape.length || want.some((w, i) => w !== null && w !== shape[i]))) {
    throw new NsdFormatError(
      file.filename,
      `dataset '${name}' has shape [${shape}], expected [${want.map((w) => w ?? "*")}]${
        expect.describe ? ` (${expect.describe})` : ""
      }; ${fixFor(file.filename)}`,
    );
  }
  return { ds: entity, shape };
}

/**
 * Reads the hyperslab `[start, end)` per axis after validating every bound, and checks the returned length
 * (h5wasm would otherwise clamp silently).
 */
export function readSlice(
  ds: H5Dataset,
  shape: number[],
  ranges: [number, number][],
  file: string,
): NumericArray {
  if (ranges.length !== shape.length) {
    throw new RangeError(`${file}: ${ranges.length}-d selection on a ${shape.length}-d dataset`);
  }
  let count = 1;
  ranges.forEach(([start, end], axis) => {
    if (
      !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > shape[axis] || start >= end
    ) {
      throw new NsdFormatError(
        file,
        `selection [${start}, ${end}) is outside axis ${axis} of length ${
          shape[axis]
        }; the file is smaller than expected, ${fixFor(file)}`,
      );
    }
    count *= end - start;
  });
  const data = ds.slice(ranges) as NumericArray | null;
  if (!data || data.length !== count) {
    throw new NsdFormatError(
      file,
      `read ${data?.length ?? 0} values where ${count} were expected; ${fixFor(file)}`,
    );
  }
  return data;
}
