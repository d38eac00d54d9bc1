/**
 * Where each NSD file lives inside a download (layout of the public bucket, `docs/nsd-formats.md#files`).
 * Shared with the simulated-world writer, which must produce exactly these paths.
 * @module
 */
import { join, relative } from "node:path";
import { NsdFormatError } from "./errors.ts";

/** The single-trial beta version the method uses (`docs/method.md#data-preparation`). */
export const DEFAULT_BETAS_VERSION = "betas_fithrf_GLMdenoise_RR";

/**
 * The bucket's layout relative to an NSD root. Subject folders (`subj01`) and session numbers are text, so a
 * description can show placeholders (`subjNN`).
 */
export const NSD_LAYOUT = {
  stimuli: "nsddata_stimuli/stimuli/nsd/nsd_stimuli.hdf5",
  expdesign: "nsddata/experiments/nsd/nsd_expdesign.mat",
  stimInfoCsv: "nsddata/experiments/nsd/nsd_stim_info_merged.csv",
  /** Folder of the shared 1000 images as PNGs. */
  shared: "nsddata/stimuli/nsd/shared1000",
  roiDir: (subj: string) => `nsddata/ppdata/${subj}/func1pt8mm/roi`,
  brainmask: (subj: string) => `nsddata/ppdata/${subj}/func1pt8mm/brainmask.nii.gz`,
  /** FreeSurfer colour table of an atlas, for a subject or `fsaverage`. */
  ctab: (who: string, atlas: string) => `nsddata/freesurfer/${who}/label/${atlas}.mgz.ctab`,
  betasDir: (subj: string, version: string) => `nsddata_betas/ppdata/${subj}/func1pt8mm/${version}`,
  /** `betas_session07.hdf5`; `ext` is `hdf5` or `nii.gz`. */
  betaSession: (session: string, ext: string) => `betas_session${session.padStart(2, "0")}.${ext}`,
} as const;

/** Paths of one subject's files inside an NSD root (the folder holding `nsddata/`, `nsddata_betas/`, …). */
export interface NsdPaths {
  root: string;
  subject: number;
  /** Folder of `betas_sessionNN.{hdf5,nii.gz}`. */
  betasDir: string;
  /** Folder of the func1pt8mm ROI volumes (`Kastner2015.nii.gz`, `nsdgeneral.nii.gz`, …). */
  roiDir: string;
  /** `nsd_expdesign.mat` (MATLAB v5). */
  expdesign: string;
  /** `nsd_stim_info_merged.csv`, the alternative design source. */
  stimInfoCsv: string;
  /** `nsd_stimuli.hdf5` with `/imgBrick`. */
  stimuli: string;
}

/** Subject folder name, `subj01` … `subj08`; throws for a subject NSD does not have. */
export function subjectFolder(subject: number): string {
  if (!Number.isInteger(subject) || subject < 1 || subject > 8) {
    throw new NsdFormatError(`subj${subject}`, `subject ${subject} does not exist; NSD has subjects 1..8`);
  }
  return `subj${String(subject).padStart(2, "0")}`;
}

/** Builds the paths of `subject`'s files under `root`. */
export function nsdPaths(root: string, subject: number, betasVersion = DEFAULT_BETAS_VERSION): NsdPaths {
  const subj = subjectFolder(subject);
  return {
    root,
    subject,
    betasDir: join(root, NSD_LAYOUT.betasDir(subj, betasVersion)),
    roiDir: join(root, NSD_LAYOUT.roiDir(subj)),
    expdesign: join(root, NSD_LAYOUT.expdesign),
    stimInfoCsv: join(root, NSD_LAYOUT.stimInfoCsv),
    stimuli: join(root, NSD_LAYOUT.stimuli),
  };
}

/** File name of one beta session: `betas_session07.hdf5` or `betas_session07.nii.gz`. */
export function betaSessionName(session: number, format: "hdf5" | "nifti"): string {
  return NSD_LAYOUT.betaSession(String(session), format === "hdf5" ? "hdf5" : "nii.gz");
}

/**
 * Throws the standard "missing file" error unless `path` is a readable file. `fix` (a file a task makes, e.g.
 * "make it with deno task nsd-prep") ends the message; otherwise `root` (when given) lets it name the bucket
 * path to download.
 */
export async function requireFile(path: string, root?: string, fix?: string): Promise<void> {
  try {
    if ((await Deno.stat(path)).isFile) return;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const download = root && !relative(root, path).startsWith("..")
    ? `download s3://natural-scenes-dataset/${relative(root, path)} into ${root}`
    : "check the path";
  throw new NsdFormatError(path, `file not found; ${fix ?? download}`);
}
