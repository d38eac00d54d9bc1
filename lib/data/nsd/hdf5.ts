/**
 * Checked HDF5 access through h5wasm. h5wasm clamps out-of-range hyperslabs silently (or fails with an
 * opaque allocation error), so every selection is validated against the dataset shape and every result
 * against the expected element count.
 * @module
 */
import h5wasm from "../../deps/h5wasm.ts";
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

/** Opens `path` read-only after checking that it exists (h5wasm's own error does not name the file). */
export async function openH5(path: string, root?: string): Promise<H5File> {
  await requireFile(path, root);
  await h5wasm.ready;
  try {
    return new h5wasm.File(path, "r");
  } catch (e) {
    throw new NsdFormatError(path, `not a readable HDF5 file (${(e as Error).message}); re-download it`);
  }
}

/** Runs `body` on the opened file and always closes it. */
export async function withH5<T>(path: string, root: string | undefined, body: (f: H5File) => T): Promise<T> {
  const file = await openH5(path, root);
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
      `no dataset '${name}' (the file holds: ${keys}); this is not the NSD file, re-download it`,
    );
  }
  const shape = entity.shape ?? [];
  const dtype = typeof entity.dtype === "string" ? entity.dtype : JSON.stringify(entity.dtype);
  if (expect.dtype && dtype !== expect.dtype) {
    throw new NsdFormatError(
      file.filename,
      `dataset '${name}' has dtype ${DTYPE_NAMES[dtype] ?? dtype}, expected ${
        DTYPE_NAMES[expect.dtype] ?? expect.dtype
      }; this is not the NSD file, re-download it`,
    );
  }
  const want = expect.shape;
  if (want && (want.length !== shape.length || want.some((w, i) => w !== null && w !== shape[i]))) {
    throw new NsdFormatError(
      file.filename,
      `dataset '${name}' has shape [${shape}], expected [${want.map((w) => w ?? "*")}]${
        expect.describe ? ` (${expect.describe})` : ""
      }; re-download the file`,
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
        }; the file is smaller than expected, re-download it`,
      );
    }
    count *= end - start;
  });
  const data = ds.slice(ranges) as NumericArray | null;
  if (!data || data.length !== count) {
    throw new NsdFormatError(
      file,
      `read ${data?.length ?? 0} values where ${count} were expected; re-download it`,
    );
  }
  return data;
}
