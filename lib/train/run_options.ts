/**
 * The settings every training run takes (architecture, schedule, seed, run folder, resume behaviour), shared by
 * the predictor and the guided classifier; the command line reads them from flags (`lib/cli/run_flags.ts`).
 * @module
 */
import type { ProgressReporter } from "../progress.ts";

/** What a run is: recorded in its folder, so a resume with other settings is refused. */
export interface RunSettings {
  /** A preset of `ARCHITECTURES`. */
  arch: string;
  /** Input image side in pixels. */
  size: number;
  epochs: number;
  batch: number;
  lr: number;
  /** Weight decay. */
  wd: number;
  /** Initialisation, data order and augmentation seed. */
  seed: number;
  /** Run folder. */
  out: string;
  /** Epochs between checkpoints. */
  checkpointEvery: number;
}

/** {@link RunSettings} and how to treat an existing run folder. */
export interface RunOptions extends RunSettings {
  /** Continue the run in `out` from its last checkpoint. */
  resume: boolean;
  /** Replace an existing run in `out`. */
  force: boolean;
  /** Where the training bars go (default: nowhere). */
  progress?: ProgressReporter;
}
