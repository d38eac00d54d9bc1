/**
 * The NSD experiment design: which image each trial showed, and which images form the shared-1000
 * validation set. Read from `nsd_expdesign.mat` (MAT v5) or from `nsd_stim_info_merged.csv`.
 * @module
 */
import { NsdFormatError } from "./errors.ts";
import { readMat5 } from "./mat5.ts";
import { type NsdPaths, requireFile } from "./paths.ts";

/** Number of images in `imgBrick` (73k ids run 0..72999 in this toolkit). */
export const NSD_IMAGE_COUNT = 73000;

/** Trial → image mapping for one subject. All ids are **0-based** 73k ids (= `imgBrick` row = csv `nsdId`). */
export interface ExpDesign {
  /** The file the design came from. */
  file: string;
  subject: number;
  /** 73k id shown on each trial, in trial order (session 1 trial 1 first). */
  trialImages: Int32Array;
  /** 1 where the trial's image is a shared-1000 image (the validation split), else 0. */
  trialShared: Uint8Array;
  /** The subject's images in `subjectim` order (MAT source only; the csv does not carry that order). */
  subjectImages?: Int32Array;
}

/**
 * Reads the design for `subject`: `nsd_expdesign.mat` when `source` is "mat", the csv when "csv", and with
 * "auto" the .mat if present, else the csv.
 */
export async function readExpDesign(
  paths: NsdPaths,
  source: "auto" | "mat" | "csv" = "auto",
): Promise<ExpDesign> {
  const useMat = source === "mat" ||
    (source === "auto" && (await exists(paths.expdesign) || !(await exists(paths.stimInfoCsv))));
  return useMat
    ? await readExpDesignMat(paths.expdesign, paths.subject, paths.root)
    : await readStimInfoCsv(paths.stimInfoCsv, paths.subject, paths.root);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/**
 * Reads `nsd_expdesign.mat`: trial t shows subject image i = `masterordering[t] − 1`, whose 73k id is
 * `subjectim[subject−1][i] − 1`; it is a validation image iff i < |sharedix| (1000 in NSD,
 * `docs/method.md#data-preparation`), which holds because the first |sharedix| columns of `subjectim` are the
 * shared images (checked here).
 */
export async function readExpDesignMat(path: string, subject: number, root?: string): Promise<ExpDesign> {
  const vars = await readMat5(path, ["masterordering", "subjectim", "sharedix"], root);
  const order = vars.get("masterordering")!.data;
  const subjectim = vars.get("subjectim")!;
  const sharedix = vars.get("sharedix")!.data;
  const [rows, cols] = subjectim.dims;
  if (subjectim.dims.length !== 2 || rows < subject) {
    throw new NsdFormatError(
      path,
      `subjectim is ${subjectim.dims.join("×")}, expected 8×10000 (subjects × images)`,
    );
  }
  // Column-major: element (s, i) is at s + rows*i.
  const subjectImages = Int32Array.from(
    { length: cols },
    (_, i) => subjectim.data[subject - 1 + rows * i] - 1,
  );
  checkIds(subjectImages, path, "subjectim");
  const trialImages = new Int32Array(order.length);
  const trialShared = new Uint8Array(order.length);
  for (let t = 0; t < order.length; t++) {
    const i = order[t] - 1;
    if (!Number.isInteger(i) || i < 0 || i >= cols) {
      throw new NsdFormatError(
        path,
        `masterordering[${t}] = ${order[t]} is outside 1..${cols}; re-download it`,
      );
    }
    trialImages[t] = subjectImages[i];
    trialShared[t] = i < sharedix.length ? 1 : 0;
  }
  const shared = new Set(Array.from(sharedix, (v) => v - 1));
  if (sharedix.length > cols || subjectImages.subarray(0, sharedix.length).some((id) => !shared.has(id))) {
    throw new NsdFormatError(
      path,
      `the first ${sharedix.length} subjectim images of subject ${subject} are not the sharedix images, so the shared-1000 split rule does not hold; re-download it`,
    );
  }
  return { file: path, subject, trialImages, trialShared, subjectImages };
}

function checkIds(ids: Int32Array, file: string, what: string): void {
  const bad = ids.findIndex((id) => !(id >= 0 && id < NSD_IMAGE_COUNT));
  if (bad >= 0) throw new NsdFormatError(file, `${what} entry ${bad} = ${ids[bad] + 1} is outside 1..73000`);
}

/**
 * Reads `nsd_stim_info_merged.csv`: one row per 73k image with `nsdId` (0-based), `shared1000` and
 * `subjectS_repR` (R = 0..2), the 1-based trial number on which subject S saw it (0 = never) [verify on the
 * first real download].
 */
export async function readStimInfoCsv(path: string, subject: number, root?: string): Promise<ExpDesign> {
  await requireFile(path, root);
  const lines = (await Deno.readTextFile(path)).split(/\r?\n/).filter((l) => l.length > 0);
  const header = splitCsvLine(lines[0] ?? "");
  const column = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) {
      throw new NsdFormatError(
        path,
        `no column '${name}' in the header; this is not nsd_stim_info_merged.csv`,
      );
    }
    return i;
  };
  const idCol = column("nsdId"), sharedCol = column("shared1000");
  const repCols = [0, 1, 2].map((r) => column(`subject${subject}_rep${r}`));
  const byTrial = new Map<number, [number, boolean]>();
  for (let r = 1; r < lines.length; r++) {
    const cells = splitCsvLine(lines[r]);
    const id = Number(cells[idCol]);
    const shared = /^(true|1)$/i.test(cells[sharedCol]?.trim() ?? "");
    for (const c of repCols) {
      const trial = Number(cells[c]);
      if (trial > 0) byTrial.set(trial, [id, shared]);
    }
  }
  const trials = byTrial.size;
  const trialImages = new Int32Array(trials), trialShared = new Uint8Array(trials);
  for (let t = 1; t <= trials; t++) {
    const entry = byTrial.get(t);
    if (!entry) {
      throw new NsdFormatError(
        path,
        `no image is listed for trial ${t} of subject ${subject}; re-download it`,
      );
    }
    [trialImages[t - 1], trialShared[t - 1]] = [entry[0], entry[1] ? 1 : 0];
  }
  checkIds(trialImages, path, "nsdId");
  return { file: path, subject, trialImages, trialShared };
}

/** Splits one CSV line, honouring double quotes (the csv's `cropBox` cells contain commas). */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cell += '"', i++);
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") (cells.push(cell), cell = "");
    else cell += ch;
  }
  cells.push(cell);
  return cells;
}
