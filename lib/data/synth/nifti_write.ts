/**
 * A minimal NIfTI-1 writer (single `.nii` file, `n+1` magic): the 348-byte header, the 4-byte extension flag
 * (no extensions), then the voxel data, x fastest. Field offsets follow the NIfTI-1 specification
 * (https://nifti.nimh.nih.gov/pub/dist/src/niftilib/nifti1.h).
 * @module
 */
import { compress } from "./compress.ts";
import { NIFTI_DATATYPES } from "../nsd/nifti.ts";

/** One NIfTI-1 image. */
export interface NiftiImage {
  /** Spatial (and optional 4th, e.g. trial) dimensions, x first. */
  dims: number[];
  /** Storage type; must match the typed array of `data`. */
  datatype: "uint8" | "int16" | "float32";
  /** Voxel values in NIfTI order: x fastest, then y, z, t. */
  data: Uint8Array | Int16Array | Float32Array;
  /** Voxel size per dimension (mm for space, s for time). */
  pixdim: number[];
  /** The 3×4 voxel-to-world matrix (rows srow_x, srow_y, srow_z), written as both sform and qform. */
  affine: number[][];
  /** `scl_slope` (0 would mean "no scaling"); default 1. */
  sclSlope?: number;
  /** `scl_inter`; default 0. */
  sclInter?: number;
  /** Up to 79 ASCII characters for `descrip`. */
  description?: string;
}

const HEADER_BYTES = 348;
/** Header plus the 4-byte extension flag: where the voxel data starts. */
const NIFTI_VOX_OFFSET = HEADER_BYTES + 4;

/**
 * Encodes `image` as an uncompressed `.nii` byte array.
 *
 * @example
 * ```ts
 * const nii = encodeNifti1({
 *   dims: [2, 2, 1], datatype: "int16", data: new Int16Array([1, 2, 3, 4]), pixdim: [1.8, 1.8, 1.8],
 *   affine: [[1.8, 0, 0, 0], [0, 1.8, 0, 0], [0, 0, 1.8, 0]],
 * });
 * ```
 */
export function encodeNifti1(image: NiftiImage): Uint8Array {
  const { dims, data, pixdim, affine } = image;
  const type = NIFTI_DATATYPES[image.datatype];
  const count = dims.reduce((a, b) => a * b, 1);
  if (dims.length < 1 || dims.length > 7) throw new RangeError(`NIfTI: ${dims.length} dimensions (1..7)`);
  if (data.length !== count) throw new RangeError(`NIfTI: ${data.length} values for dims ${dims.join("×")}`);
  if (data.BYTES_PER_ELEMENT !== type.bytes) {
    throw new TypeError(`NIfTI: ${data.constructor.name} data for datatype ${image.datatype}`);
  }
  const bytes = new Uint8Array(NIFTI_VOX_OFFSET + data.byteLength);
  const view = new DataView(bytes.buffer);
  const ascii = (offset: number, text: string, max: number) => {
    for (let i = 0; i < Math.min(text.length, max - 1); i++) bytes[offset + i] = text.charCodeAt(i) & 0x7f;
  };
  view.setInt32(0, HEADER_BYTES, true); // sizeof_hdr
  bytes[38] = "r".charCodeAt(0); // regular: unused by NIfTI but set by convention (Analyze 7.5 heritage)
  view.setInt16(40, dims.length, true);
  dims.forEach((d, i) => view.setInt16(42 + 2 * i, d, true));
  for (let i = dims.length; i < 7; i++) view.setInt16(42 + 2 * i, 1, true);
  view.setInt16(70, type.code, true);
  view.setInt16(72, 8 * type.bytes, true);
  view.setFloat32(76, 1, true); // pixdim[0] = qfac: +1 (right-handed)
  pixdim.forEach((p, i) => view.setFloat32(80 + 4 * i, p, true));
  view.setFloat32(108, NIFTI_VOX_OFFSET, true);
  view.setFloat32(112, image.sclSlope ?? 1, true);
  view.setFloat32(116, image.sclInter ?? 0, true);
  bytes[123] = 2 | 8; // xyzt_units: NIFTI_UNITS_MM | NIFTI_UNITS_SEC
  ascii(148, image.description ?? "", 80);
  view.setInt16(252, 1, true); // qform_code: scanner anatomical
  view.setInt16(254, 1, true); // sform_code: scanner anatomical
  // qform: identity rotation (quatern b = c = d = 0) with the affine's translation, valid for the diagonal
  // affines written here; sform carries the full matrix.
  view.setFloat32(268, affine[0][3], true);
  view.setFloat32(272, affine[1][3], true);
  view.setFloat32(276, affine[2][3], true);
  affine.forEach((row, r) => row.forEach((v, c) => view.setFloat32(280 + 16 * r + 4 * c, v, true)));
  ascii(344, "n+1", 4); // magic "n+1\0": header and data in one file
  // Bytes 348..351 (the extension flag) stay 0: no extensions follow.
  // The typed array's bytes are copied as they are: correct because every platform Deno runs on is
  // little-endian, the byte order the header declares implicitly (sizeof_hdr reads as 348).
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), NIFTI_VOX_OFFSET);
  return bytes;
}

/** Encodes `image` and writes it gzip-compressed to `path` (a `.nii.gz` file). */
export async function writeNiftiGz(path: string, image: NiftiImage): Promise<void> {
  await Deno.writeFile(path, await compress(encodeNifti1(image), "gzip"));
}
