/**
 * The embedded demo behind a bare `deno task train`: simulated world → ROI preparation → neural predictor →
 * guided classifier, with small models and settings sized for a few minutes on 2 CPU cores. Steps whose
 * outputs are complete are reused; the guided model is always retrained.
 * @module
 */
import type { Gpu } from "../gpu/device.ts";
import type { ProgressReporter } from "../progress.ts";
import { ensureSimWorld } from "../data/synth/mod.ts";
import { nsdPaths } from "../data/nsd/paths.ts";
import { prepareRoi, writePreparedRoi } from "../data/nsd/prep.ts";
import { openClassificationData } from "./classification_data.ts";
import { type GuidedSummary, trainGuidedRun } from "./guided_run.ts";
import { type PredictorSummary, trainPredictorRun } from "./predictor_run.ts";

/** Settings of the demo (exported so tests and docs can cite them). */
export const DEMO = {
  sim: "data/sim",
  root: "runs/demo",
  roi: "TO",
  arch: "resnet-tiny",
  size: 32,
  batch: 32,
  predictorEpochs: 3,
  guidedEpochs: 5,
  alpha: 0.9,
  /** Milder than torchvision's 0.08: a 32-px crop of 8% of a 64-px image loses the shape that defines the class. */
  cropScale: 0.35,
  seed: 0,
} as const;

/** What the demo produced. */
export interface DemoResult {
  root: string;
  predictor: PredictorSummary;
  guided: GuidedSummary;
  /** The matched None baseline's summary when one was trained into {@link demoBaselineFolder}. */
  baseline: GuidedSummary | null;
  seconds: number;
}

/** Where the demo looks for a matched None baseline. */
export function demoBaselineFolder(root: string = DEMO.root): string {
  return `${root}/guided-none`;
}

/** The command that trains the demo's matched None baseline (same model, data, schedule; α 0). */
export function demoBaselineCommand(root: string = DEMO.root): string {
  return `deno task train --roi none --arch ${DEMO.arch} --size ${DEMO.size} --batch ${DEMO.batch} ` +
    `--epochs ${DEMO.guidedEpochs} --lr 0.05 --wd 0.0005 --crop-scale ${DEMO.cropScale} ` +
    `--seed ${DEMO.seed} --out ${demoBaselineFolder(root)}`;
}

/** Runs the demo; `overrides` shrink it further (tests); `progress` receives its status lines and bars. */
export async function runDemo(
  gpu: Gpu,
  overrides: Partial<typeof DEMO> & { progress?: ProgressReporter } = {},
): Promise<DemoResult> {
  const d = { ...DEMO, ...overrides };
  const started = performance.now();
  const say = (text: string) => d.progress?.say(text);
  say(
    `the demo: simulated world → ${d.roi} ROI → predictor (${d.predictorEpochs} epochs) → ${d.roi}-guided ` +
      `${d.arch} (${d.guidedEpochs} epochs) into ${d.root}/, 10–15 min on 2 CPU cores the first time (the world takes 1–3); ` +
      `deno task train --help for the paper's runs`,
  );
  say(`simulated world in ${d.sim}`);
  await ensureSimWorld(d.sim, { progress: d.progress });

  const prepared = `${d.root}/subj01_${d.roi}.h5`;
  if (await exists(prepared)) say(`reusing ${prepared}`);
  else {
    say(`preparing ${d.roi} (betas → repeat average → z-score → PCA 95%)`);
    await writePreparedRoi(prepared, await prepareRoi({ nsd: d.sim, subject: 1, roi: d.roi, pca: "signal" }));
  }

  const predictorRun = `${d.root}/predictor-${d.roi}`;
  const run = {
    arch: d.arch,
    size: d.size,
    batch: d.batch,
    seed: d.seed,
    checkpointEvery: 1,
    resume: false,
    force: true,
    progress: d.progress,
  };
  let predictor: PredictorSummary;
  const finished = await readJson<PredictorSummary>(`${predictorRun}/summary.json`);
  if (finished && finished.epochs === d.predictorEpochs) {
    say(`reusing the predictor in ${predictorRun}`);
    predictor = finished;
  } else {
    say(`training the ${d.roi} predictor`);
    predictor = (await trainPredictorRun(gpu, {
      ...run,
      out: predictorRun,
      epochs: d.predictorEpochs,
      lr: 1e-3,
      wd: 5e-4,
      prepared,
      stimuli: (subject) => nsdPaths(d.sim, subject).stimuli,
    })).summary;
  }

  say(`training a ${d.roi}-guided classifier (α ${d.alpha})`);
  const data = await openClassificationData("sim", {
    cropScale: d.cropScale,
    size: d.size,
    seed: d.seed,
    sim: d.sim,
    shuffle: false,
  });
  let guided: GuidedSummary;
  try {
    guided = (await trainGuidedRun(gpu, data, {
      ...run,
      out: `${d.root}/guided-${d.roi}`,
      epochs: d.guidedEpochs,
      lr: 0.05,
      wd: 5e-4,
      roi: d.roi,
      predictor: predictorRun,
      alpha: d.alpha,
      shuffle: false,
      momentum: 0.9,
      stepSize: 20,
      gamma: 0.1,
      predictorBatchNorm: "train",
    })).summary;
  } finally {
    data.close();
  }
  const baseline = await readJson<GuidedSummary>(`${demoBaselineFolder(d.root)}/summary.json`);
  return {
    root: d.root,
    predictor,
    guided,
    baseline: baseline?.kind === "guided" && baseline.roi === "none" ? baseline : null,
    seconds: (performance.now() - started) / 1000,
  };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function readJson<T>(path: string): Promise<T | null> {
  return await Deno.readTextFile(path).then((t) => JSON.parse(t) as T, () => null);
}
