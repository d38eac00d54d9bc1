/**
 * Single-trial betas, one session at a time, restricted to ROI voxels. Values are int16 % signal change × 300
 * on disk; readers return float32 % signal change (÷ 300, after NIfTI `scl_slope`/`scl_inter`).
 * HDF5 (`/betas`, row-major [trials, Z, Y, X]) is read row by row or in bounding-box slabs (see `planReads`); NIfTI
 * (`.nii.gz`, X×Y×Z×trials) is streamed one trial volume at a time. Neither ever holds a whole session.
 * @module
 */
import { NsdFormatError } from "./errors.ts";
import { getDataset, readSlice, withH5 } from "./hdf5.ts";
import { assertSameGrid, elementReader, type GridInfo, streamNiftiVolumes } from "./nifti.ts";
import { betaSessionName, type NsdPaths } from "./paths.ts";

/** NSD stores betas as % signal change × 300 (`docs/nsd-formats.md#betas-nifti`). */
export const BETA_SCALE = 300;
/** How NSD's HDF5 betas are laid out, for mismatch messages. */
const HDF5_AXES = "/betas is read as [trials, Z, Y, X]";
/** Bytes of int16 data one HDF5 read may fetch; bounds memory for large ROIs. */
const SLAB_BYTES = 64 * 1024 * 1024;

/** One session file of a subject. */
export interface BetaSession {
  session: number;
  file: string;
  format: "hdf5" | "nifti";
}

/** Grid and trial count of a session file. */
export interface BetaSessionInfo extends GridInfo {
  trials: number;
}

/**
 * Lists the sessions present in the subject's betas folder, ascending. `format` "auto" takes the HDF5 file of
 * a session when both exist (random access is much cheaper than gunzipping 1 GB).
 */
export async function listBetaSessions(
  paths: NsdPaths,
  format: "auto" | "hdf5" | "nifti" = "auto",
): Promise<BetaSession[]> {
  const found = new Map<number, BetaSession>();
  try {
    for await (const entry of Deno.readDir(paths.betasDir)) {
      const m = entry.name.match(/^betas_session(\d{2})\.(hdf5|nii\.gz)$/);
      if (!m || !entry.isFile) continue;
      const kind = m[2] === "hdf5" ? "hdf5" : "nifti";
      if (format !== "auto" && kind !== format) continue;
      const session = Number(m[1]);
      if (!found.has(session) || kind === "hdf5") {
        found.set(session, { session, file: `${paths.betasDir}/${entry.name}`, format: kind });
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (found.size === 0) {
    throw new NsdFormatError(
      paths.betasDir,
      `no ${format === "auto" ? "" : format + " "}beta session files (${betaSessionName(1, "hdf5")} or ${
        betaSessionName(1, "nifti")
      } …); download them from s3://natural-scenes-dataset/${paths.betasDir.slice(paths.root.length + 1)}/`,
    );
  }
  return [...found.values()].sort((a, b) => a.session - b.session);
}

/**
 * Picks the requested session numbers from those present; a number that is missing gives a one-line error
 * naming the folder and the sessions that exist.
 */
export function selectSessions(
  available: BetaSession[],
  wanted: number[] | undefined,
  betasDir: string,
): BetaSession[] {
  if (!wanted) return available;
  const byNumber = new Map(available.map((s) => [s.session, s]));
  return wanted.map((n) => {
    const s = byNumber.get(n);
    if (!s) {
      const have = available.map((a) => a.session);
      throw new NsdFormatError(
        betasDir,
        `session ${n} is out of range: sessions present are ${
          compactRange(have)
        }; choose --sessions within them or download session ${n}`,
      );
    }
    return s;
  });
}

/** "1-3,5" for [1,2,3,5]. */
export function compactRange(values: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length;) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j] + 1) j++;
    parts.push(j > i ? `${values[i]}-${values[j]}` : `${values[i]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** Reads the grid and trial count of a session without reading voxel data. */
export async function betaSessionInfo(session: BetaSession, root?: string): Promise<BetaSessionInfo> {
  if (session.format === "hdf5") {
    return await withH5(session.file, root, (f) => {
      const { shape } = getDataset(f, "betas", {
        dtype: "<h",
        shape: [null, null, null, null],
        describe: "[trials, Z, Y, X], the row-major view of MATLAB's X×Y×Z×trials",
      });
      return { file: session.file, dims: [shape[3], shape[2], shape[1]], trials: shape[0], hint: HDF5_AXES };
    });
  }
  let info: BetaSessionInfo | undefined;
  // Only the header is needed: abort the stream as soon as it is parsed.
  const stop = new Error("header read");
  try {
    await streamNiftiVolumes(session.file, root, (h) => {
      info = { file: session.file, dims: h.dims.slice(0, 3), affine: h.affine, trials: h.dims[3] ?? 1 };
      throw stop;
    }, () => {});
  } catch (e) {
    if (e !== stop) throw e;
  }
  return info!;
}

/**
 * Reads one session's betas for the given voxels: a trials × voxels float32 matrix (row-major) of % signal
 * change. `grid` (another session's, or the masks') is checked against the file first; `documented` (the
 * subject's grid from `NSD_FUNC_GRIDS`) decides which file a mismatch blames.
 *
 * @example
 * ```ts
 * import { listBetaSessions } from "./betas.ts";
 * import { loadRoi } from "./roi.ts";
 * import { nsdPaths } from "./paths.ts";
 * // Session 1's V1 betas (% signal change), trials × voxels.
 * async function firstSessionV1(nsdRoot: string) {
 *   const paths = nsdPaths(nsdRoot, 1);
 *   const roi = await loadRoi(paths, "V1");
 *   const [session] = await listBetaSessions(paths);
 *   const grid = { file: roi.files[0], dims: roi.grid };
 *   const { trials, data } = await readSessionBetas(session, roi.voxels, grid);
 *   return { trials, data };
 * }
 * ```
 */
export async function readSessionBetas(
  session: BetaSession,
  voxels: Int32Array,
  grid: GridInfo,
  root?: string,
  documented?: readonly number[],
): Promise<{ trials: number; data: Float32Array }> {
  return session.format === "hdf5"
    ? await readHdf5Betas(session.file, voxels, grid, root, documented)
    : await readNiftiBetas(session.file, voxels, grid, root, documented);
}

/** One hyperslab read: the box [z0,z1)×[y0,y1)×[x0,x1) over all trials, and the ROI voxels inside it. */
interface BoxRead {
  z: [number, number];
  y: [number, number];
  x: [number, number];
  members: number[];
}

/**
 * Plans the reads of an ROI. NSD's files are chunked one voxel's trial series per chunk ([T,1,1,1]): then a
 * read per (z, y) row spanning the row's ROI voxels touches few chunks beyond the ROI (measured on a
 * full-size synthetic session: 0.1 s per session for a 314-voxel ROI, against 2.5 s for its bounding box and
 * 0.2 s voxel by voxel). Otherwise (contiguous or trial-major layouts, where a strided per-voxel read is slow)
 * the bounding box is read in z-slabs of at most SLAB_BYTES.
 */
function planReads(
  xs: Int32Array,
  ys: Int32Array,
  zs: Int32Array,
  T: number,
  voxelChunks: boolean,
): BoxRead[] {
  const V = xs.length;
  if (voxelChunks) {
    const rows = new Map<number, BoxRead>();
    for (let v = 0; v < V; v++) {
      const key = zs[v] * 1e6 + ys[v];
      const row = rows.get(key);
      if (row) {
        row.x = [Math.min(row.x[0], xs[v]), Math.max(row.x[1], xs[v] + 1)];
        row.members.push(v);
      } else {rows.set(key, {
          z: [zs[v], zs[v] + 1],
          y: [ys[v], ys[v] + 1],
          x: [xs[v], xs[v] + 1],
          members: [v],
        });}
    }
    return [...rows.values()];
  }
  const x = extent(xs), y = extent(ys), [z0, z1] = extent(zs);
  const planesPerSlab = Math.max(1, Math.floor(SLAB_BYTES / (2 * T * (x[1] - x[0]) * (y[1] - y[0]))));
  const reads: BoxRead[] = [];
  for (let za = z0; za < z1; za += planesPerSlab) {
    const zb = Math.min(z1, za + planesPerSlab);
    const members: number[] = [];
    for (let v = 0; v < V; v++) if (zs[v] >= za && zs[v] < zb) members.push(v);
    if (members.length > 0) reads.push({ z: [za, zb], y, x, members });
  }
  return reads;
}

async function readHdf5Betas(
  file: string,
  voxels: Int32Array,
  grid: GridInfo,
  root?: string,
  documented?: readonly number[],
) {
  return await withH5(file, root, (f) => {
    const { ds, shape } = getDataset(f, "betas", {
      dtype: "<h",
      shape: [null, null, null, null],
      describe: "[trials, Z, Y, X], the row-major view of MATLAB's X×Y×Z×trials",
    });
    const [T, Z, Y, X] = shape;
    assertSameGrid({ file, dims: [X, Y, Z], hint: HDF5_AXES }, grid, documented);
    const V = voxels.length;
    const xs = new Int32Array(V), ys = new Int32Array(V), zs = new Int32Array(V);
    for (let v = 0; v < V; v++) {
      xs[v] = voxels[v] % X;
      ys[v] = Math.floor(voxels[v] / X) % Y;
      zs[v] = Math.floor(voxels[v] / (X * Y));
    }
    const chunks = ds.metadata.chunks;
    const voxelChunks = !!chunks && chunks[0] === T && chunks[1] * chunks[2] * chunks[3] <= 64;
    const out = new Float32Array(T * V);
    for (const read of planReads(xs, ys, zs, T, voxelChunks)) {
      const [z0, z1] = read.z, [y0, y1] = read.y, [x0, x1] = read.x;
      const data = readSlice(ds, shape, [[0, T], read.z, read.y, read.x], file);
      const boxSize = (z1 - z0) * (y1 - y0) * (x1 - x0);
      const offsets = read.members.map((v) =>
        ((zs[v] - z0) * (y1 - y0) + ys[v] - y0) * (x1 - x0) + xs[v] - x0
      );
      for (let t = 0; t < T; t++) {
        const base = t * boxSize, row = t * V;
        for (let m = 0; m < offsets.length; m++) {
          out[row + read.members[m]] = data[base + offsets[m]] / BETA_SCALE;
        }
      }
    }
    return { trials: T, data: out };
  });
}

/** [min, max + 1) of the values (a loop: spreading large arrays into Math.min overflows the stack). */
function extent(values: Int32Array): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) (lo = Math.min(lo, v), hi = Math.max(hi, v));
  return [lo, hi + 1];
}

async function readNiftiBetas(
  file: string,
  voxels: Int32Array,
  grid: GridInfo,
  root?: string,
  documented?: readonly number[],
) {
  let out = new Float32Array(0), trials = 0;
  const V = voxels.length;
  await streamNiftiVolumes(file, root, (h) => {
    if (h.dims.length !== 4) {
      throw new NsdFormatError(file, `expected X×Y×Z×trials betas, found dims [${h.dims}]; re-download it`);
    }
    if (h.datatype !== 4) {
      throw new NsdFormatError(
        file,
        `betas have NIfTI datatype ${h.datatype}, expected 4 (int16); re-download it`,
      );
    }
    assertSameGrid({ file, dims: h.dims.slice(0, 3), affine: h.affine }, grid, documented);
    trials = h.dims[3];
    out = new Float32Array(trials * V);
  }, (view, t, h) => {
    const read = elementReader(h);
    const row = t * V;
    for (let v = 0; v < V; v++) out[row + v] = (read(view, voxels[v]) * h.slope + h.intercept) / BETA_SCALE;
  });
  return { trials, data: out };
}
