/**
 * `deno task synth`: generates the simulated ventral-stream world (NSD-format stimuli, design, ROIs and betas,
 * plus classification and cue-conflict image sets). See `--help` and `lib/data/synth/README.md`.
 * @module
 */
import { numberFlag, parseFlags } from "../lib/cli/args.ts";
import { UsageError } from "../lib/errors.ts";
import { runMain } from "../lib/cli/main.ts";
import { checkOutputPath } from "../lib/io/output_path.ts";
import { formatSeconds, progressReporter } from "../lib/cli/progress.ts";
import {
  generateSimWorld,
  SHAPES,
  SIM_WORLD_DEFAULTS,
  type SimWorldManifest,
  type SimWorldOptions,
} from "../lib/data/synth/mod.ts";

const D = SIM_WORLD_DEFAULTS;
const HELP = `deno task synth [options]

Generates the simulated world used when no NSD download is available (and by the tests): procedural shape ×
texture images, written in the real NSD files and folder tree, with voxel responses from a V1 → V2 → V4 →
LO/TO/VO/PHC hierarchy. Same options and seed → byte-identical files. Generation runs in a temporary folder
that is renamed into place at the end, so an interrupted run never leaves a complete-looking tree.

Options:
  --out DIR                 output folder (default data/sim)
  --seed N                  PRNG seed (default ${D.seed})
  --size S                  image side in pixels; NSD's is 425 (default ${D.size})
  --classes C               number of shape classes, 2..${SHAPES.length} (default ${D.classes})
  --images N                images per subject; NSD: 10000 (default ${D.images}); first 10 % shared
  --subjects K              subjects, 1..8 (default ${D.subjects})
  --sessions S              sessions per subject; 3 × images must divide evenly (default ${D.sessions})
  --train-per-class N       classification training images per class (default ${D.trainPerClass})
  --val-per-class N         classification validation images per class (default ${D.valPerClass})
  --conflict-per-class N    cue-conflict shape exemplars per class (default ${D.conflictPerClass})
  --texture-match P         probability an image has its own class's texture (default ${D.textureMatch})
  --grid XxYxZ              functional grid; NSD subj01: 81x104x83 (default ${D.grid.join("x")})
  --sensitivity-images N    images on which each ROI's sensitivity to L∞ perturbations is measured
                            (default ${D.sensitivityImages}); printed as a table and stored in sim_world.json
  --betas LIST              beta files to write: hdf5,nifti (default ${D.betasFormats.join(",")})
  --force                   replace an existing output folder
  --quiet                   no progress bar
  -h, --help                this text

Output (under DIR): nsddata_stimuli/stimuli/nsd/nsd_stimuli.hdf5 (/imgBrick [N,S,S,3] uint8),
nsddata/experiments/nsd/nsd_expdesign.mat, nsddata/stimuli/nsd/shared1000/*.png,
nsddata/ppdata/subjNN/func1pt8mm/{roi/*.nii.gz, brainmask.nii.gz}, nsddata/freesurfer/*/label/*.ctab,
nsddata_betas/ppdata/subjNN/func1pt8mm/betas_fithrf_GLMdenoise_RR/betas_sessionNN.{hdf5,nii.gz},
classification/{train,val}/<class>/*.png + classes.txt, cue_conflict/<shape>/<shape><i>-<texture><j>.png
+ classes.txt, sim_stim_info.csv (per-image shape/texture), sim_brain/subjNN.json (the statistics that
rebuild each subject's noise-free response function), sim_world.json (manifest, with each ROI's measured
sensitivity).
Exit codes: 0 ok, 1 error (one line), 2 usage error.`;

async function main(args: string[]): Promise<void> {
  const { values: f } = parseFlags(args, {
    out: { type: "string", default: "data/sim" },
    seed: { type: "string" },
    size: { type: "string" },
    classes: { type: "string" },
    images: { type: "string" },
    subjects: { type: "string" },
    sessions: { type: "string" },
    "train-per-class": { type: "string" },
    "val-per-class": { type: "string" },
    "conflict-per-class": { type: "string" },
    "sensitivity-images": { type: "string" },
    "texture-match": { type: "string" },
    grid: { type: "string" },
    betas: { type: "string" },
    force: { type: "boolean" },
    quiet: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (f.help) {
    console.log(HELP);
    return;
  }
  const int = (
    name: string,
  ) => (f[name] === undefined ? undefined : numberFlag(name, f[name], { integer: true, min: 0 }));
  const options: SimWorldOptions = {
    seed: int("seed"),
    size: int("size"),
    classes: int("classes"),
    images: int("images"),
    subjects: int("subjects"),
    sessions: int("sessions"),
    trainPerClass: int("train-per-class"),
    valPerClass: int("val-per-class"),
    conflictPerClass: int("conflict-per-class"),
    sensitivityImages: int("sensitivity-images"),
    textureMatch: f["texture-match"] === undefined
      ? undefined
      : numberFlag("texture-match", f["texture-match"], { min: 0, max: 1 }),
    grid: f.grid === undefined ? undefined : parseGrid(f.grid as string),
    betasFormats: f.betas === undefined ? undefined : parseBetas(f.betas as string),
    force: Boolean(f.force),
    progress: progressReporter("synth", Boolean(f.quiet)),
  };
  const out = f.out as string;
  await checkOutputPath(out, "--out", "folder");
  const started = performance.now();
  const manifest = await generateSimWorld(out, options);
  const s = manifest.subjects[0];
  console.log(
    `synth: wrote ${out} in ${
      formatSeconds((performance.now() - started) / 1000)
    }: ${manifest.counts.stimuli} stimuli ` +
      `${manifest.config.size}px, ${manifest.classes.length} classes, ${manifest.subjects.length} subject(s) × ` +
      `${manifest.config.sessions} sessions × ${manifest.counts.trialsPerSession} trials on a ${
        manifest.grid.dims.join("×")
      } grid; ` +
      `subj01 noise ceiling % ${
        Object.entries(s.noiseCeiling).map(([roi, nc]) => `${roi} ${nc.mean.toFixed(0)}`).join(", ")
      }`,
  );
  console.log(sensitivityTable(manifest));
}

/**
 * subj01's measured sensitivities as a table: one row per ROI, RMS response change (across-image SDs) under
 * random and worst-found ±ε perturbations for each ε.
 */
export function sensitivityTable(manifest: SimWorldManifest): string {
  const rows = Object.entries(manifest.subjects[0].sensitivity);
  const epsilons = rows[0][1].map((m) => `${Math.round(m.eps * 255)}/255`);
  const header = ["ROI", ...epsilons.flatMap((e) => [`random ${e}`, `worst ${e}`])];
  const body = rows.map((
    [roi, list],
  ) => [roi, ...list.flatMap((m) => [m.random.toFixed(3), m.worst.toFixed(3)])]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [
    `subj01 sensitivity: RMS response change in across-image SDs (${manifest.config.sensitivityImages} images, 32-px grid)`,
    line(header),
    ...body.map(line),
  ].join("\n");
}

function parseGrid(raw: string): [number, number, number] {
  const m = raw.match(/^(\d+)x(\d+)x(\d+)$/);
  if (!m) throw new UsageError(`--grid: expected XxYxZ such as 20x24x20, got '${raw}'`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

function parseBetas(raw: string): ("hdf5" | "nifti")[] {
  const list = raw.split(",").map((s) => s.trim());
  const bad = list.find((s) => s !== "hdf5" && s !== "nifti");
  if (bad !== undefined) throw new UsageError(`--betas: '${bad}' is not hdf5 or nifti`);
  return [...new Set(list)] as ("hdf5" | "nifti")[];
}

if (import.meta.main) await runMain("synth", () => main(Deno.args));
