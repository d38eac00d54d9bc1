/**
 * `deno task nsd-prep`: prepares one subject × ROI of an NSD download into PCA targets
 * (`docs/method.md#data-preparation`) and writes them to an HDF5 file atomically. See `--help`.
 * @module
 */
import { numberFlag, parseFlags, wrapList } from "../lib/cli/args.ts";
import { UsageError } from "../lib/errors.ts";
import { runMain } from "../lib/cli/main.ts";
import { checkOutputPath } from "../lib/io/output_path.ts";
import { formatSeconds, Progress } from "../lib/cli/progress.ts";
import {
  finiteMeanSd,
  prepareRoi,
  ROI_DEFINITIONS,
  type RoiSpec,
  writePreparedRoi,
} from "../lib/data/nsd/mod.ts";

const HELP = `deno task nsd-prep --nsd DIR --subject N --roi NAME --out FILE.h5 [options]

Prepares fMRI targets for one subject and ROI from an NSD download (docs/method.md#data-preparation): ROI
betas of the chosen sessions (÷300) → per-image repeat averages → split (validation = shared-1000 images) →
per-voxel z-score with training statistics → PCA fitted on training. Also computes the per-voxel NSD noise
ceiling.

Required:
  --nsd DIR             NSD root: the folder holding nsddata/, nsddata_betas/, nsddata_stimuli/
  --subject N           subject 1..8
  --roi NAME            ${wrapList(Object.keys(ROI_DEFINITIONS), 86, " ".repeat(24))}
                        (with --mask: the name recorded for the mask; default the file name)
  --out FILE.h5         output HDF5 (written to a temp file, then renamed)

Options:
  --mask FILE           user ROI mask (NIfTI on the func1pt8mm grid); voxels equal to --mask-label are in
  --mask-label L        label(s) selecting the mask voxels, comma-separated (default 1)
  --sessions LIST       e.g. 1-40 or 1,3,5-7 (default: every session present)
  --pca-variance F      keep the fewest components explaining more than F of the variance (default 0.95)
  --pca-k K             keep exactly K components instead
  --pca-signal          keep the components whose variance exceeds what pure noise could reach: the
                        Marchenko–Pastur edge σ²(1 + √(V/n))² of the noise level σ² = mean(1 − NC/100)
                        implied by the voxels' noise ceilings (V voxels, n training images)
  --no-pca              store z-scored voxels instead of PCA scores
  --shuffle SEED        write the shuffled-pairing control (docs/method.md#shuffle-control) with this
                        integer seed
  --format F            betas format: auto (HDF5 when present) | hdf5 | nifti
  --design D            design source: auto (nsd_expdesign.mat when present) | mat | csv
  --voxel-order O       native (x fastest) | reference (nibabel C order, z fastest) for per-voxel outputs
  --quiet               no progress bar
  -h, --help            this text

Output datasets: train_ids, val_ids (0-based 73k ids), train, val (float32 scores), pca_components,
pca_mean, explained_variance(_ratio), zscore_mean, zscore_std, voxel_index (flat x + X*(y + Y*z)),
noise_ceiling (%), train_repeats, val_repeats; attributes: subject, roi, sessions, K, explained_variance, …
Exit codes: 0 ok, 1 data/format error (one line naming the file and the fix), 2 usage error.`;

/** Parses "1-3,5" into [1, 2, 3, 5]. */
export function parseSessions(raw: string): number[] {
  const out: number[] = [];
  for (const part of raw.split(",")) {
    const m = part.trim().match(/^(\d+)(?:-(\d+))?$/);
    if (!m) throw new UsageError(`--sessions: cannot read '${part}' (expected e.g. 1-40 or 1,3,5-7)`);
    const a = Number(m[1]), b = Number(m[2] ?? m[1]);
    if (a < 1 || b < a) {
      throw new UsageError(`--sessions: '${part}' is not an ascending range of sessions ≥ 1`);
    }
    for (let s = a; s <= b; s++) out.push(s);
  }
  return [...new Set(out)].sort((x, y) => x - y);
}

async function main(args: string[]): Promise<void> {
  const { values: f } = parseFlags(args, {
    nsd: { type: "string" },
    subject: { type: "string" },
    roi: { type: "string" },
    mask: { type: "string" },
    "mask-label": { type: "string", default: "1" },
    sessions: { type: "string" },
    "pca-variance": { type: "string" },
    "pca-k": { type: "string" },
    "pca-signal": { type: "boolean" },
    "no-pca": { type: "boolean" },
    shuffle: { type: "string" },
    format: { type: "string", default: "auto" },
    design: { type: "string", default: "auto" },
    "voxel-order": { type: "string", default: "native" },
    out: { type: "string" },
    quiet: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (f.help) {
    console.log(HELP);
    return;
  }
  for (const name of ["nsd", "subject", "out"]) {
    if (!f[name]) throw new UsageError(`--${name} is required (see --help)`);
  }
  if (!f.roi && !f.mask) throw new UsageError("--roi is required (see --help)");
  await checkOutputPath(f.out as string, "--out", "file");
  const choice = <T extends string>(name: string, allowed: readonly T[]): T => {
    if (!allowed.includes(f[name] as T)) {
      throw new UsageError(`--${name}: '${f[name]}' is not one of ${allowed.join(", ")}`);
    }
    return f[name] as T;
  };
  const pcaFlags = ["pca-variance", "pca-k", "pca-signal", "no-pca"].filter((n) => f[n] !== undefined);
  if (pcaFlags.length > 1) throw new UsageError(`--${pcaFlags.join(" and --")} exclude each other`);
  const pca = f["no-pca"]
    ? null
    : f["pca-signal"]
    ? "signal" as const
    : f["pca-k"] !== undefined
    ? { k: numberFlag("pca-k", f["pca-k"], { min: 1, integer: true }) }
    : {
      variance: f["pca-variance"] === undefined
        ? 0.95
        : numberFlag("pca-variance", f["pca-variance"], { min: 1e-9, max: 1 - 1e-9 }),
    };
  const roi: RoiSpec = f.mask
    ? {
      maskFile: f.mask as string,
      name: f.roi as string | undefined,
      labels: String(f["mask-label"]).split(",").map((l) =>
        numberFlag("mask-label", l.trim(), { integer: true })
      ),
    }
    : f.roi as string;
  const quiet = Boolean(f.quiet);
  const started = performance.now();
  let bar: Progress | undefined;
  const prepared = await prepareRoi({
    nsd: f.nsd as string,
    subject: numberFlag("subject", f.subject, { min: 1, max: 8, integer: true }),
    roi,
    sessions: f.sessions ? parseSessions(f.sessions as string) : undefined,
    pca,
    shuffleSeed: f.shuffle === undefined
      ? undefined
      : numberFlag("shuffle", f.shuffle, { min: 0, max: 2 ** 32 - 1, integer: true }),
    format: choice("format", ["auto", "hdf5", "nifti"] as const),
    design: choice("design", ["auto", "mat", "csv"] as const),
    voxelOrder: choice("voxel-order", ["native", "reference"] as const),
    onSession: (done, total, session) => {
      bar ??= new Progress("betas", total, { unit: "sessions", quiet });
      bar.tick(1, `session ${String(session).padStart(2, "0")}`);
      if (done === total) bar.done();
    },
    onStage: (stage) => {
      if (!quiet) {
        console.error(`nsd-prep: ${stage} … (${formatSeconds((performance.now() - started) / 1000)})`);
      }
    },
  });
  await writePreparedRoi(f.out as string, prepared);
  const nc = finiteMeanSd(prepared.noiseCeiling);
  const explained = prepared.pca ? prepared.pca.explainedVarianceRatio.reduce((a, b) => a + b, 0) : 1;
  console.log(
    `nsd-prep: subj${
      String(prepared.subject).padStart(2, "0")
    } ${prepared.roi}: ${prepared.voxelIndex.length} voxels, ` +
      `${prepared.trainIds.length} train / ${prepared.valIds.length} val images, K = ${prepared.k} ` +
      `(${(100 * explained).toFixed(1)}% variance), noise ceiling ${nc.mean.toFixed(2)} ± ${
        nc.sd.toFixed(2)
      }% ` +
      `→ ${f.out} in ${formatSeconds((performance.now() - started) / 1000)}`,
  );
}

if (import.meta.main) await runMain("nsd-prep", () => main(Deno.args));
