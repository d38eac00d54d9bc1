/**
 * NIfTI-1 reading for NSD volumes: headers through nifti-reader-js, voxel data decoded here so that 4-D betas
 * can be streamed one trial volume at a time (a whole session is ≈1 GB once gunzipped,
 * `docs/nsd-formats.md#betas-nifti`). The header constants are exported for the simulated-world writer.
 * @module
 */
import * as nifti from "../../deps/nifti_reader.ts";
import { NsdFormatError } from "./errors.ts";
import { requireFile } from "./paths.ts";

/** `sizeof_hdr` of a NIfTI-1 header. */
export const NIFTI1_HEADER_BYTES = 348;
/** Smallest `vox_offset` of a single-file NIfTI-1 (`.nii`): header + 4 extension bytes. */
export const NIFTI1_MIN_VOX_OFFSET = 352;
/** Byte offsets of the NIfTI-1 header fields the toolkit reads or writes. */
export const NIFTI1_OFFSETS = {
  sizeofHdr: 0,
  dim: 40,
  datatype: 70,
  bitpix: 72,
  pixdim: 76,
  voxOffset: 108,
  sclSlope: 112,
  sclInter: 116,
  qformCode: 252,
  sformCode: 254,
  srowX: 280,
  srowY: 296,
  srowZ: 312,
  magic: 344,
} as const;
/** NIfTI datatype codes and their element sizes in bytes. */
export const NIFTI_DATATYPES = {
  uint8: { code: 2, bytes: 1 },
  int16: { code: 4, bytes: 2 },
  int32: { code: 8, bytes: 4 },
  float32: { code: 16, bytes: 4 },
  float64: { code: 64, bytes: 8 },
  int8: { code: 256, bytes: 1 },
  uint16: { code: 512, bytes: 2 },
  uint32: { code: 768, bytes: 4 },
} as const;

/** What the toolkit needs from a NIfTI header. */
export interface NiftiInfo {
  file: string;
  /** Spatial and further dims, without the leading rank: [X, Y, Z] or [X, Y, Z, T]. */
  dims: number[];
  datatype: number;
  littleEndian: boolean;
  voxOffset: number;
  /** Linear scaling to apply (`scl_slope` 0 means none, as in nibabel). */
  slope: number;
  intercept: number;
  /** 4×4 voxel → mm affine (sform, else qform), for grid comparison. */
  affine: number[][];
}

/** The grid a volume lives on, for {@link assertSameGrid}. */
export interface GridInfo {
  file: string;
  /** [X, Y, Z] in NIfTI order (x fastest in memory). */
  dims: number[];
  affine?: number[][];
  /** Added to a mismatch message that blames this file (e.g. the expected axis order). */
  hint?: string;
}

const GZIP_MAGIC = [0x1f, 0x8b];

function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/** Largest 3-D volume read (NSD's 1.8 mm grids are well under 10 MiB per volume). */
const MAX_VOLUME_BYTES = 2 ** 30;

/** Parses a NIfTI header from the first bytes of a file (at least up to `vox_offset`). */
export function parseNiftiHeader(bytes: Uint8Array, file: string): NiftiInfo {
  const buffer = bytes.slice().buffer;
  if (!nifti.isNIFTI(buffer)) {
    throw new NsdFormatError(file, "not a NIfTI file (bad header magic); re-download it");
  }
  const h = nifti.readHeader(buffer);
  const rank = h.dims[0];
  const dims = h.dims.slice(1, 1 + rank);
  const size = Object.values(NIFTI_DATATYPES).find((t) => t.code === h.datatypeCode);
  if (!size) {
    throw new NsdFormatError(
      file,
      `unsupported NIfTI datatype ${h.datatypeCode}; expected an integer or float type`,
    );
  }
  // a damaged header would otherwise ask for an impossible allocation (a RangeError with no file name)
  const volumeBytes = dims.slice(0, 3).reduce((a, b) => a * b, size.bytes);
  if (
    !(rank >= 1 && rank <= 7) || dims.some((d) => !Number.isInteger(d) || d < 1) ||
    volumeBytes > MAX_VOLUME_BYTES
  ) {
    throw new NsdFormatError(
      file,
      `the header claims dims [${dims}] (${(volumeBytes / 2 ** 30).toFixed(1)} GiB per volume), ` +
        `not a plausible brain volume; the header is damaged, re-download it`,
    );
  }
  // nibabel semantics: scl_slope 0 (or NaN) means "no scaling", and then the intercept is ignored too.
  const scaled = Number.isFinite(h.scl_slope) && h.scl_slope !== 0;
  return {
    file,
    dims,
    datatype: h.datatypeCode,
    littleEndian: h.littleEndian,
    voxOffset: h.vox_offset,
    slope: scaled ? h.scl_slope : 1,
    intercept: scaled && Number.isFinite(h.scl_inter) ? h.scl_inter : 0,
    affine: h.affine,
  };
}

/** Element size in bytes of a NIfTI datatype code. */
export function datatypeBytes(code: number): number {
  return Object.values(NIFTI_DATATYPES).find((t) => t.code === code)!.bytes;
}

/**
 * Returns `read(view, index)` → element `index` of raw voxel bytes, honouring datatype and byte order. A
 * DataView keeps one code path for both byte orders; callers gather only ROI voxels, so its cost is minor.
 */
export function elementReader(info: NiftiInfo): (view: DataView, index: number) => number {
  const le = info.littleEndian;
  switch (info.datatype) {
    case NIFTI_DATATYPES.uint8.code:
      return (v, i) => v.getUint8(i);
    case NIFTI_DATATYPES.int8.code:
      return (v, i) => v.getInt8(i);
    case NIFTI_DATATYPES.int16.code:
      return (v, i) => v.getInt16(2 * i, le);
    case NIFTI_DATATYPES.uint16.code:
      return (v, i) => v.getUint16(2 * i, le);
    case NIFTI_DATATYPES.int32.code:
      return (v, i) => v.getInt32(4 * i, le);
    case NIFTI_DATATYPES.uint32.code:
      return (v, i) => v.getUint32(4 * i, le);
    case NIFTI_DATATYPES.float32.code:
      return (v, i) => v.getFloat32(4 * i, le);
    default:
      return (v, i) => v.getFloat64(8 * i, le);
  }
}

/** Yields the file's bytes, gunzipped when the file is gzip-compressed (detected by magic, not by name). */
async function* fileBytes(path: string): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  const file = await Deno.open(path);
  const reader = file.readable.getReader();
  const first = await reader.read();
  const head = first.value ?? new Uint8Array(0);
  const rest = new ReadableStream<Uint8Array<ArrayBuffer>>({
    start(controller) {
      if (head.length > 0) controller.enqueue(head);
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel() {
      reader.cancel();
    },
  });
  const stream = isGzip(head) ? rest.pipeThrough(new DecompressionStream("gzip")) : rest;
  try {
    for await (const chunk of stream) yield chunk;
  } catch (e) {
    throw new NsdFormatError(
      path,
      `corrupt or truncated gzip data (${(e as Error).message}); re-download it`,
    );
  }
}

/**
 * Streams a NIfTI file volume by volume: calls `onHeader` once, then `onVolume(bytes, t)` for each 3-D volume
 * (the same buffer is reused, so consume it synchronously). Memory stays near one volume.
 */
export async function streamNiftiVolumes(
  path: string,
  root: string | undefined,
  onHeader: (info: NiftiInfo) => void,
  onVolume: (volume: DataView, t: number, info: NiftiInfo) => void,
): Promise<NiftiInfo> {
  await requireFile(path, root);
  let pending: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  let info: NiftiInfo | undefined;
  let volume: Uint8Array | undefined;
  let filled = 0, t = 0, volumes = 0, skip = 0;
  for await (let chunk of fileBytes(path)) {
    if (!info) {
      // Header bytes accumulate until vox_offset is known and reached (extensions may sit in between).
      pending = concat(pending, chunk);
      if (pending.length < NIFTI1_MIN_VOX_OFFSET) continue;
      // sizeof_hdr = 348 = 0x15C: a first byte of 0x5C means the header is little-endian.
      const voxOffset = Math.max(
        NIFTI1_MIN_VOX_OFFSET,
        new DataView(pending.buffer).getFloat32(NIFTI1_OFFSETS.voxOffset, pending[0] === 0x5c),
      );
      if (pending.length < voxOffset) continue;
      info = parseNiftiHeader(pending, path);
      onHeader(info);
      const [x, y, z] = info.dims;
      volumes = info.dims.slice(3).reduce((a, b) => a * b, 1);
      volume = new Uint8Array(x * y * z * datatypeBytes(info.datatype));
      skip = info.voxOffset;
      chunk = pending;
    }
    let offset = Math.min(skip, chunk.length);
    skip -= offset;
    while (offset < chunk.length && t < volumes) {
      const take = Math.min(volume!.length - filled, chunk.length - offset);
      volume!.set(chunk.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === volume!.length) {
        onVolume(new DataView(volume!.buffer), t++, info);
        filled = 0;
      }
    }
  }
  if (!info || t < volumes) {
    throw new NsdFormatError(
      path,
      `file ends after ${t} of ${volumes || "?"} volumes; the download is truncated, re-download it`,
    );
  }
  return info;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Reads a 3-D NIfTI volume (mask or atlas) into float64, scaling applied, x fastest. */
export async function readNiftiVolume(
  path: string,
  root?: string,
): Promise<{ info: NiftiInfo; data: Float64Array }> {
  let data = new Float64Array(0);
  const info = await streamNiftiVolumes(path, root, (h) => {
    if (h.dims.length < 3 || h.dims.slice(3).some((d) => d !== 1)) {
      throw new NsdFormatError(
        path,
        `expected a 3-D volume, found dims [${h.dims}]; pass a mask, not a 4-D file`,
      );
    }
    data = new Float64Array(h.dims[0] * h.dims[1] * h.dims[2]);
  }, (view, _t, h) => {
    const read = elementReader(h);
    for (let i = 0; i < data.length; i++) data[i] = read(view, i) * h.slope + h.intercept;
  });
  return { info, data };
}

/**
 * func1pt8mm grid [X, Y, Z] per subject 1..8 (NSD "Technical notes"; `docs/nsd-formats.md#functional-grid`).
 */
export const NSD_FUNC_GRIDS: Readonly<Record<number, readonly number[]>> = {
  1: [81, 104, 83],
  2: [82, 106, 84],
  3: [81, 106, 82],
  4: [85, 99, 80],
  5: [79, 97, 78],
  6: [85, 113, 83],
  7: [78, 95, 81],
  8: [80, 103, 78],
};

const sameDims = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Throws unless `item` lies on the same grid as `ref` (equal dims, affines within 1e-3 mm when both are known).
 * The message blames `item.file`, unless `documented` (the subject's grid from {@link NSD_FUNC_GRIDS}) shows
 * that `item` is right and `ref` is the odd one out.
 */
export function assertSameGrid(item: GridInfo, ref: GridInfo, documented?: readonly number[]): void {
  const fmt = (d: readonly number[]) => d.join("×");
  if (!sameDims(item.dims, ref.dims)) {
    const refWrong = !!documented && sameDims(item.dims, documented) && !sameDims(ref.dims, documented);
    const [bad, good] = refWrong ? [ref, item] : [item, ref];
    const reversed = sameDims([...bad.dims].reverse(), good.dims);
    throw new NsdFormatError(
      bad.file,
      `grid ${fmt(bad.dims)} (x×y×z) does not match ${fmt(good.dims)} of ${good.file}${
        reversed ? " (axes look reversed: check the axis order)" : ""
      }${bad.hint ? ` (${bad.hint})` : ""}; use the subject's func1pt8mm version of this file`,
    );
  }
  if (item.affine && ref.affine) {
    const diff = Math.max(
      ...item.affine.flatMap((row, i) => row.map((v, j) => Math.abs(v - ref.affine![i][j]))),
    );
    if (diff > 1e-3) {
      throw new NsdFormatError(
        item.file,
        `affine differs from ${ref.file} by ${
          diff.toFixed(3)
        } mm; use the subject's func1pt8mm version of this file`,
      );
    }
  }
}
