/**
 * ROI masks on the func1pt8mm grid: the method's Kastner2015 ROIs (label groups ∩ nsdgeneral,
 * `docs/method.md#rois`), the named `prf-visualrois` and `streams` ROIs, nsdgeneral itself, or a user mask
 * file. Membership is always an equality test on rounded values, which stays correct with negative sentinel
 * labels (`docs/nsd-formats.md#roi-volumes`).
 * @module
 */
import { basename, join } from "node:path";
import { NsdFormatError } from "./errors.ts";
import { assertSameGrid, type GridInfo, NSD_FUNC_GRIDS, readNiftiVolume } from "./nifti.ts";
import type { NsdPaths } from "./paths.ts";

/** One named ROI: the atlas file (in the subject's `roi/` folder), the labels it takes, and whether it is
 * intersected with nsdgeneral. */
export interface RoiDefinition {
  atlas: string;
  labels: number[];
  nsdgeneral: boolean;
}

/** Kastner2015 label names by code (0 = unlabelled), as in the atlas's `.ctab`. */
export const KASTNER_NAMES: readonly string[] = (
  "Unknown V1v V1d V2v V2d V3v V3d hV4 VO1 VO2 PHC1 PHC2 TO2 TO1 LO2 LO1 V3B V3A " +
  "IPS0 IPS1 IPS2 IPS3 IPS4 IPS5 SPL1 FEF"
).split(" ");
/** `prf-visualrois` label names by code (NSD manual, "ROIs"): the first 8 Kastner names. */
export const PRF_NAMES: readonly string[] = KASTNER_NAMES.slice(0, 8);
/** `streams` label names by code (NSD manual, "ROIs"). */
export const STREAMS_NAMES: readonly string[] =
  "Unknown early midventral midlateral midparietal ventral lateral parietal".split(" ");

/** The method's ROIs: Kastner2015 label groups (`docs/method.md#rois`), each intersected with nsdgeneral == 1. */
export const ROI_LABELS = {
  V1: [1, 2],
  V2: [3, 4],
  V4: [7],
  VO: [8, 9],
  PHC: [10, 11],
  LO: [14, 15],
  TO: [12, 13],
} as const;
/** Name of one of the method's ROIs. */
export type RoiName = keyof typeof ROI_LABELS;

/** Each named label of an atlas as a one-label ROI (code 0, unlabelled, left out). */
const byCode = (names: readonly string[]): [string, number[]][] =>
  names.slice(1).map((name, i) => [name, [i + 1]]);
/** `prf-visualrois.nii.gz` ROIs: each label, and V1–V3 as their ventral + dorsal halves. */
const PRF: [string, number[]][] = [...byCode(PRF_NAMES), ["V1", [1, 2]], ["V2", [3, 4]], ["V3", [5, 6]]];

/** Every ROI name {@link loadRoi} accepts, with its definition. */
export const ROI_DEFINITIONS: Readonly<Record<string, RoiDefinition>> = Object.freeze({
  ...Object.fromEntries(
    Object.entries(ROI_LABELS).map(([n, labels]) => [
      n,
      { atlas: "Kastner2015", labels: [...labels], nsdgeneral: true },
    ]),
  ),
  nsdgeneral: { atlas: "nsdgeneral", labels: [1], nsdgeneral: false },
  ...Object.fromEntries(
    PRF.map(([n, labels]) => [`prf-${n}`, { atlas: "prf-visualrois", labels, nsdgeneral: false }]),
  ),
  ...Object.fromEntries(
    byCode(STREAMS_NAMES).map((
      [n, labels],
    ) => [`streams-${n}`, { atlas: "streams", labels, nsdgeneral: false }]),
  ),
});

/** A named ROI, or a user mask: a NIfTI volume on the func1pt8mm grid whose voxels equal to one of `labels`
 * (default [1]) form the ROI. */
export type RoiSpec = string | { maskFile: string; labels?: number[]; name?: string };

/** A resolved ROI. */
export interface RoiMask {
  name: string;
  /** Grid [X, Y, Z] of the masks (NIfTI order). */
  grid: number[];
  /** Flat native indices `x + X*(y + Y*z)` of the member voxels, ascending (x fastest). */
  voxels: Int32Array;
  /** The mask files read. */
  files: string[];
}

/** Throws the one-line "unknown ROI" error for `name`. */
function unknownRoi(name: string, roiDir: string): never {
  throw new NsdFormatError(
    roiDir,
    `unknown ROI '${name}'; valid names: ${Object.keys(ROI_DEFINITIONS).join(", ")} (or pass a mask file)`,
  );
}

/** Looks up a ROI name, failing with the list of valid names. */
export function roiDefinition(name: string, roiDir = "roi"): RoiDefinition {
  return Object.hasOwn(ROI_DEFINITIONS, name) ? ROI_DEFINITIONS[name] : unknownRoi(name, roiDir);
}

/**
 * Loads a ROI for the subject of `paths`. When `grid` is given (the betas' grid) every mask must match it;
 * otherwise the masks must match each other.
 *
 * @example
 * ```ts
 * import { nsdPaths } from "./paths.ts";
 * // The number of V1 ∩ nsdgeneral voxels of subj01.
 * async function v1Size(nsdRoot: string) {
 *   const roi = await loadRoi(nsdPaths(nsdRoot, 1), "V1");
 *   return roi.voxels.length;
 * }
 * ```
 */
export async function loadRoi(paths: NsdPaths, spec: RoiSpec, grid?: GridInfo): Promise<RoiMask> {
  const parts: { file: string; labels: number[] }[] = [];
  let name: string;
  if (typeof spec === "string") {
    const def = roiDefinition(spec, paths.roiDir);
    name = spec;
    parts.push({ file: join(paths.roiDir, `${def.atlas}.nii.gz`), labels: def.labels });
    if (def.nsdgeneral) parts.push({ file: join(paths.roiDir, "nsdgeneral.nii.gz"), labels: [1] });
  } else {
    name = spec.name ?? basename(spec.maskFile).replace(/\.nii(\.gz)?$/, "");
    parts.push({ file: spec.maskFile, labels: spec.labels ?? [1] });
  }
  let reference = grid;
  let member: Uint8Array | undefined;
  for (const part of parts) {
    const { info, data } = await readNiftiVolume(part.file, paths.root);
    const here: GridInfo = { file: part.file, dims: info.dims.slice(0, 3), affine: info.affine };
    if (reference) assertSameGrid(here, reference, NSD_FUNC_GRIDS[paths.subject]);
    reference ??= here;
    const labels = new Set(part.labels);
    const inside = member ?? new Uint8Array(data.length).fill(1);
    for (let i = 0; i < data.length; i++) if (!labels.has(Math.round(data[i]))) inside[i] = 0;
    member = inside;
  }
  const voxels: number[] = [];
  member!.forEach((m, i) => m && voxels.push(i));
  if (voxels.length === 0) {
    throw new NsdFormatError(
      parts[0].file,
      `ROI '${name}' has no voxels (labels ${parts[0].labels}); check the mask`,
    );
  }
  return {
    name,
    grid: reference!.dims.slice(0, 3),
    voxels: Int32Array.from(voxels),
    files: parts.map((p) => p.file),
  };
}

/**
 * Reorders flat native voxel indices into the reference code's order (nibabel [x,y,z] arrays flattened in C
 * order, z fastest; `docs/nsd-formats.md#voxel-order`). The voxel set is unchanged.
 */
export function referenceVoxelOrder(voxels: Int32Array, grid: number[]): Int32Array {
  const [X, Y, Z] = grid;
  const key = (i: number) => {
    const x = i % X, y = Math.floor(i / X) % Y, z = Math.floor(i / (X * Y));
    return z + Z * (y + Y * x);
  };
  return Int32Array.from(voxels).sort((a, b) => key(a) - key(b));
}
