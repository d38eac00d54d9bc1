/**
 * Tiny NSD files written straight from the format specs, independently of the readers under test:
 * NIfTI-1 with a hand-built 348-byte header, MATLAB v5 with hand-built tags (plain and miCOMPRESSED), HDF5
 * through h5wasm, and a whole miniature NSD download laid out as the public bucket.
 * @module
 */
import h5wasm from "h5wasm/node";
import { dirname, join } from "node:path";

async function compress(bytes: Uint8Array, format: "gzip" | "deflate"): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream(format),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** NIfTI datatype code, bitpix and DataView setter name per type (NIfTI-1 spec, nifti1.h). */
const NIFTI_TYPES = {
  uint8: [2, 8, "setUint8"],
  int16: [4, 16, "setInt16"],
  float32: [16, 32, "setFloat32"],
} as const;

/** Options of {@link writeNifti}. */
export interface NiftiFixture {
  type?: keyof typeof NIFTI_TYPES;
  gzip?: boolean;
  slope?: number;
  intercept?: number;
  littleEndian?: boolean;
  /** Voxel size for the sform diagonal (default 1.8 mm). */
  voxelMm?: number;
}

/** Writes a single-file NIfTI-1 (`n+1`), x fastest, header by hand. */
export async function writeNifti(
  path: string,
  dims: number[],
  values: ArrayLike<number>,
  { type = "int16", gzip = true, slope = 0, intercept = 0, littleEndian = true, voxelMm = 1.8 }:
    NiftiFixture = {},
): Promise<void> {
  const [code, bitpix, setter] = NIFTI_TYPES[type];
  const bytes = new Uint8Array(352 + values.length * bitpix / 8);
  const view = new DataView(bytes.buffer);
  const le = littleEndian;
  view.setInt32(0, 348, le); // sizeof_hdr
  view.setInt16(40, dims.length, le); // dim[0] = rank
  for (let i = 1; i < 8; i++) view.setInt16(40 + 2 * i, dims[i - 1] ?? 1, le);
  view.setInt16(70, code, le); // datatype
  view.setInt16(72, bitpix, le);
  view.setFloat32(76, 1, le); // pixdim[0] = qfac
  for (let i = 1; i <= 3; i++) view.setFloat32(76 + 4 * i, voxelMm, le);
  view.setFloat32(108, 352, le); // vox_offset
  view.setFloat32(112, slope, le); // scl_slope
  view.setFloat32(116, intercept, le); // scl_inter
  view.setInt16(254, 1, le); // sform_code = scanner
  const srow = [[voxelMm, 0, 0, -72], [0, voxelMm, 0, -90], [0, 0, voxelMm, -60]];
  srow.forEach((row, r) => row.forEach((v, c) => view.setFloat32(280 + 16 * r + 4 * c, v, le)));
  bytes.set(new TextEncoder().encode("n+1\0"), 344); // magic; bytes 348..351 = no extension
  const step = bitpix / 8;
  for (let i = 0; i < values.length; i++) {
    if (setter === "setUint8") view.setUint8(352 + i, values[i]);
    else view[setter](352 + i * step, values[i], le);
  }
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeFile(path, gzip ? await compress(bytes, "gzip") : bytes);
}

/** MAT v5 element types used below (matfile_format.pdf, table 1-1). */
const MI = {
  INT8: 1,
  UINT8: 2,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  DOUBLE: 9,
  MATRIX: 14,
  COMPRESSED: 15,
} as const;

function element(type: number, payload: Uint8Array): Uint8Array {
  // Small data element format when the payload fits in 4 bytes (as MATLAB writes short names).
  if (payload.length <= 4 && type !== MI.MATRIX) {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setUint32(0, (payload.length << 16) | type, true);
    out.set(payload, 4);
    return out;
  }
  const padded = Math.ceil(payload.length / 8) * 8;
  const out = new Uint8Array(8 + padded);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), o += p.length);
  return out;
}

/** A MAT variable for {@link writeMat5}: values column-major; `store` picks the on-disk element type. */
export interface MatVariable {
  name: string;
  dims: number[];
  values: number[];
  /** mxCLASS (6 = double). */
  classId?: number;
  store?: "double" | "uint16" | "uint8" | "int32";
  compressed?: boolean;
}

/** Writes a little-endian MAT v5 file holding the given numeric matrices (plus a skipped char array). */
export async function writeMat5(path: string, variables: MatVariable[]): Promise<void> {
  const header = new Uint8Array(128).fill(0x20);
  header.set(new TextEncoder().encode("MATLAB 5.0 MAT-file, Platform: test, Created on: today"));
  header.fill(0, 116, 124); // subsystem data offset
  new DataView(header.buffer).setUint16(124, 0x0100, true); // version
  header.set(new TextEncoder().encode("IM"), 126); // endian indicator "MI" as little-endian uint16
  const parts: Uint8Array[] = [header];
  // A char array first: readers must skip classes they do not handle.
  parts.push(matrix({ name: "note", dims: [1, 2], values: [104, 105], classId: 4, store: "uint16" }));
  for (const v of variables) {
    const body = matrix(v);
    if (!v.compressed) parts.push(body);
    else {
      const z = await compress(body, "deflate");
      const tag = new Uint8Array(8);
      new DataView(tag.buffer).setUint32(0, MI.COMPRESSED, true);
      new DataView(tag.buffer).setUint32(4, z.length, true);
      parts.push(tag, z);
    }
  }
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeFile(path, concatBytes(parts));
}

function matrix(v: MatVariable): Uint8Array {
  const flags = new Uint8Array(8);
  new DataView(flags.buffer).setUint32(0, v.classId ?? 6, true);
  const dims = new Uint8Array(4 * v.dims.length);
  v.dims.forEach((d, i) => new DataView(dims.buffer).setInt32(4 * i, d, true));
  const store = v.store ?? "double";
  const [type, size] = store === "double"
    ? [MI.DOUBLE, 8]
    : store === "uint16"
    ? [MI.UINT16, 2]
    : store === "int32"
    ? [MI.INT32, 4]
    : [MI.UINT8, 1];
  const data = new Uint8Array(v.values.length * size);
  const view = new DataView(data.buffer);
  v.values.forEach((x, i) => {
    if (store === "double") view.setFloat64(8 * i, x, true);
    else if (store === "uint16") view.setUint16(2 * i, x, true);
    else if (store === "int32") view.setInt32(4 * i, x, true);
    else view.setUint8(i, x);
  });
  return element(
    MI.MATRIX,
    concatBytes([
      element(MI.UINT32, flags),
      element(MI.INT32, dims),
      element(MI.INT8, new TextEncoder().encode(v.name)),
      element(type, data),
    ]),
  );
}

/** Writes one HDF5 dataset (optionally chunked) into a new file. */
export async function writeH5(
  path: string,
  name: string,
  data: Int16Array | Uint8Array,
  shape: number[],
  chunks?: number[],
): Promise<void> {
  await h5wasm.ready;
  await Deno.mkdir(dirname(path), { recursive: true });
  const f = new h5wasm.File(path, "w");
  try {
    f.create_dataset({ name, data, shape, dtype: data instanceof Int16Array ? "<h" : "<B", chunks });
  } finally {
    f.close();
  }
}

// ---- a miniature NSD download -----------------------------------------------------------------------------

/** Grid of the tiny world, NIfTI order [X, Y, Z]. */
export const TINY_GRID = [5, 4, 3] as const;
export const TINY_VOXELS = 5 * 4 * 3;
export const TINY_TRIALS_PER_SESSION = 8;
/** 1-based subject image index shown on each trial (3 sessions × 8 trials): images 1, 2, 5, 6 thrice;
 * 3, 7, 8, 9 twice; 4, 10, 11, 12 once. */
export const TINY_MASTERORDERING = [
  1,
  5,
  2,
  6,
  1,
  7,
  3,
  8,
  5,
  2,
  9,
  1,
  10,
  6,
  4,
  11,
  5,
  2,
  12,
  3,
  7,
  6,
  9,
  8,
];
export const TINY_SHARED = 4;

/** Kastner label of flat voxel i: cycles 0, 1, 2, 3, 4, −1 (a negative sentinel). */
export const tinyKastner = (i: number) => [0, 1, 2, 3, 4, -1][i % 6];
/** nsdgeneral of flat voxel i: 0 every 7th voxel, −1 every 11th, else 1. */
export const tinyNsdGeneral = (i: number) => (i % 7 === 0 ? 0 : i % 11 === 0 ? -1 : 1);
/** 1-based 73k id of subject s (1..8), subject image i (0-based): shared images first. */
export const tinySubjectImage = (s: number, i: number) => (i < TINY_SHARED ? 5001 + i : 100 * s + i + 1);
/** int16 beta of global trial t (0-based) at flat voxel i: image signal plus trial noise; voxel 1 (in V1)
 * is constant 0, like a voxel zeroed by the brain mask. */
export function tinyBeta(t: number, i: number): number {
  if (i === 1) return 0;
  const image = TINY_MASTERORDERING[t];
  return 40 * ((image * 13 + i * 7) % 11) + ((t * 7919 + i * 104729) % 201) - 100;
}

/** Options of {@link buildTinyNsd}. */
export interface TinyNsdOptions {
  betas?: "hdf5" | "nifti" | "both";
  design?: "mat" | "csv" | "both";
}

/** Root-relative paths of the tiny download (as the bucket lays them out). */
export const TINY_PATHS = {
  betasDir: "nsddata_betas/ppdata/subj01/func1pt8mm/betas_fithrf_GLMdenoise_RR",
  roiDir: "nsddata/ppdata/subj01/func1pt8mm/roi",
  expdesign: "nsddata/experiments/nsd/nsd_expdesign.mat",
  csv: "nsddata/experiments/nsd/nsd_stim_info_merged.csv",
};

/** Builds subject 1 of a miniature NSD download under `root`. */
export async function buildTinyNsd(root: string, { betas = "both", design = "both" }: TinyNsdOptions = {}) {
  const [X, Y, Z] = TINY_GRID;
  const T = TINY_TRIALS_PER_SESSION;
  const voxels = Array.from({ length: TINY_VOXELS }, (_, i) => i);
  await writeNifti(join(root, TINY_PATHS.roiDir, "Kastner2015.nii.gz"), [X, Y, Z], voxels.map(tinyKastner));
  await writeNifti(
    join(root, TINY_PATHS.roiDir, "nsdgeneral.nii.gz"),
    [X, Y, Z],
    voxels.map(tinyNsdGeneral),
    {
      type: "float32",
    },
  );
  for (let s = 1; s <= 3; s++) {
    // NIfTI order: value (i, t) at i + N*t; HDF5 row-major [T, Z, Y, X]: the same flat order.
    const values = new Int16Array(T * TINY_VOXELS);
    for (let t = 0; t < T; t++) {
      for (const i of voxels) values[t * TINY_VOXELS + i] = tinyBeta((s - 1) * T + t, i);
    }
    const name = `betas_session0${s}`;
    if (betas !== "nifti") {
      await writeH5(join(root, TINY_PATHS.betasDir, `${name}.hdf5`), "betas", values, [T, Z, Y, X], [
        T,
        1,
        1,
        1,
      ]);
    }
    if (betas !== "hdf5") {
      await writeNifti(join(root, TINY_PATHS.betasDir, `${name}.nii.gz`), [X, Y, Z, T], values);
    }
  }
  if (design !== "csv") {
    const subjectim: number[] = [];
    for (let i = 0; i < 12; i++) for (let s = 1; s <= 8; s++) subjectim.push(tinySubjectImage(s, i));
    await writeMat5(join(root, TINY_PATHS.expdesign), [
      {
        name: "masterordering",
        dims: [1, 24],
        values: TINY_MASTERORDERING,
        store: "uint8",
        compressed: true,
      },
      { name: "subjectim", dims: [8, 12], values: subjectim, store: "uint16", compressed: true },
      { name: "sharedix", dims: [1, 4], values: [5003, 5001, 5004, 5002], store: "double" },
    ]);
  }
  if (design !== "mat") {
    const subjects = Array.from({ length: 8 }, (_, s) => `subject${s + 1}`);
    const reps = subjects.flatMap((s) => [0, 1, 2].map((r) => `${s}_rep${r}`));
    const lines = [
      [
        "",
        "cocoId",
        "cocoSplit",
        "cropBox",
        "loss",
        "nsdId",
        "flagged",
        "BOLD5000",
        "shared1000",
        ...subjects,
        ...reps,
      ].join(","),
    ];
    for (let i = 0; i < 12; i++) {
      const id = tinySubjectImage(1, i) - 1;
      const trials = TINY_MASTERORDERING.flatMap((m, t) => (m === i + 1 ? [t + 1] : []));
      const repCells = subjects.flatMap((_, s) => [0, 1, 2].map((r) => (s === 0 ? trials[r] ?? 0 : 0)));
      lines.push(
        [
          i,
          9000 + i,
          "train2017",
          '"(0, 0, 0.1, 0.1)"',
          0,
          id,
          "False",
          "False",
          i < TINY_SHARED ? "True" : "False",
          1,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          ...repCells,
        ].join(","),
      );
    }
    await Deno.mkdir(dirname(join(root, TINY_PATHS.csv)), { recursive: true });
    await Deno.writeTextFile(join(root, TINY_PATHS.csv), lines.join("\n") + "\n");
  }
}
