/**
 * `deno task predictor`: trains the neural predictor (image → an ROI's PCA scores) from a prepared ROI file
 * and the NSD stimuli. See `--help`.
 * @module
 */
import { numberFlag, parseFlags } from "../lib/cli/args.ts";
import { UsageError } from "../lib/errors.ts";
import { runMain } from "../lib/cli/main.ts";
import { checkOutputPath } from "../lib/io/output_path.ts";
import { readRunFlags, RUN_FLAGS, type RunDefaults, runFlagsHelp } from "../lib/cli/run_flags.ts";
import { formatSeconds } from "../lib/cli/progress.ts";
import { nsdPaths } from "../lib/data/nsd/paths.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { trainPredictorRun } from "../lib/train/predictor_run.ts";

const DEFAULTS: RunDefaults = {
  arch: "resnet18",
  size: 227,
  epochs: 40,
  batch: 200,
  lr: 1e-3,
  wd: 5e-4,
  seed: 0,
  out: "runs/predictor",
  checkpointEvery: 5,
};

const HELP = `deno task predictor --prepared FILE.h5 --nsd DIR [options]

Trains the neural predictor (docs/method.md#neural-predictor): a ResNet whose fc outputs the K PCA scores
of one ROI, from the prepared ROI file of deno task nsd-prep and the NSD stimuli (nsd_stimuli.hdf5 under
--nsd). Loss: summed squared error over components / batch; Adam with coupled L2 weight decay; no
augmentation. Validation: the per-image Pearson r between predicted and measured K-vectors on the shared
images (mean, median, max) and the per-component r. Defaults are the paper's; for CPU runs use e.g.
--arch resnet-tiny --size 64 --batch 32.

Options:
  --prepared FILE           prepared ROI file (deno task nsd-prep --out)
  --nsd DIR                 NSD root holding nsddata_stimuli/ (default data/sim, the simulated world)
  --shuffle SEED            shuffled-pairing control: images permuted against the targets with this seed
${runFlagsHelp(DEFAULTS)}

Writes to --out: predictor.safetensors (config + ROI in metadata), checkpoint.safetensors, metrics.jsonl
(one line per epoch), summary.json (final metrics, per-component r), options.json.
Exit codes: 0 ok, 1 error (one line), 2 usage error.`;

async function main(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
    ...RUN_FLAGS,
    prepared: { type: "string" },
    nsd: { type: "string" },
    shuffle: { type: "string" },
  });
  if (values.help) return console.log(HELP);
  const run = readRunFlags(values, DEFAULTS, "predictor");
  await checkOutputPath(run.out, "--out", "folder");
  if (!values.prepared) {
    throw new UsageError("--prepared FILE.h5 is required (make one with deno task nsd-prep)");
  }
  const nsd = (values.nsd as string | undefined) ?? "data/sim";
  const shuffle = values.shuffle === undefined
    ? undefined
    : numberFlag("shuffle", values.shuffle, { integer: true, min: 0 });
  const gpu = await getGpu();
  const result = await trainPredictorRun(gpu, {
    ...run,
    prepared: values.prepared as string,
    stimuli: (subject) => nsdPaths(nsd, subject).stimuli,
    shuffle,
  });
  const m = result.summary.final;
  console.log(`predictor → ${run.out}/predictor.safetensors (${formatSeconds(result.seconds)})`);
  console.log(`  ROI ${result.summary.roi}, K = ${result.summary.k}`);
  console.log(
    `  validation r per image: mean ${fmt(m.val_r_mean)}, median ${fmt(m.val_r_median)}, max ${
      fmt(m.val_r_max)
    }`,
  );
}

const fmt = (v: unknown) => typeof v === "number" ? v.toFixed(3) : String(v);

if (import.meta.main) await runMain("predictor", () => main(Deno.args));
