/**
 * Flags shared by the training tasks (`train`, `predictor`): architecture, schedule, seed, run folder and
 * resume behaviour, parsed once so both tasks spell and check them the same way.
 * @module
 */
import { type FlagSpec, numberFlag } from "./args.ts";
import { UsageError } from "../errors.ts";
import { ARCHITECTURES } from "../nn/models.ts";
import type { RunOptions, RunSettings } from "../train/run_options.ts";
import { progressReporter } from "./progress.ts";

/** Flag specs common to the training tasks. */
export const RUN_FLAGS: FlagSpec = {
  arch: { type: "string" },
  size: { type: "string" },
  epochs: { type: "string" },
  batch: { type: "string" },
  lr: { type: "string" },
  wd: { type: "string" },
  seed: { type: "string" },
  out: { type: "string" },
  "checkpoint-every": { type: "string" },
  resume: { type: "boolean" },
  force: { type: "boolean" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

/** Help lines for {@link RUN_FLAGS}, with the task's defaults filled in. */
export function runFlagsHelp(d: RunDefaults): string {
  return `  --arch NAME               ${Object.keys(ARCHITECTURES).join(" | ")} (default ${d.arch})
  --size PX                 input image side (default ${d.size})
  --epochs N                (default ${d.epochs})
  --batch N                 (default ${d.batch})
  --lr X                    learning rate (default ${d.lr})
  --wd X                    weight decay (default ${d.wd})
  --seed N                  initialisation, data order and augmentation seed (default ${d.seed})
  --out DIR                 run folder (default ${d.out})
  --checkpoint-every N      epochs between checkpoints (default ${d.checkpointEvery})
  --resume                  continue the run in --out from its last checkpoint (same flags)
  --force                   replace an existing run in --out
  --quiet                   no progress bar
  -h, --help                this text`;
}

/** Defaults of the run flags for one task. */
export type RunDefaults = RunSettings;

/** Reads {@link RUN_FLAGS} from parsed values, validating each; `task` names the progress lines. */
export function readRunFlags(values: Record<string, unknown>, d: RunDefaults, task: string): RunOptions {
  const num = (name: string, fallback: number, opts: Parameters<typeof numberFlag>[2] = {}) =>
    values[name] === undefined ? fallback : numberFlag(name, values[name], opts);
  const arch = (values.arch as string | undefined) ?? d.arch;
  if (!(arch in ARCHITECTURES)) {
    throw new UsageError(
      `--arch: unknown architecture '${arch}'; choose ${Object.keys(ARCHITECTURES).join(", ")}`,
    );
  }
  if (values.resume && values.force) throw new UsageError("--resume and --force contradict each other");
  return {
    arch,
    size: num("size", d.size, { integer: true, min: 8, max: 1024 }),
    epochs: num("epochs", d.epochs, { integer: true, min: 1 }),
    batch: num("batch", d.batch, { integer: true, min: 2 }),
    lr: num("lr", d.lr, { min: 0 }),
    wd: num("wd", d.wd, { min: 0 }),
    seed: num("seed", d.seed, { integer: true, min: 0 }),
    out: (values.out as string | undefined) ?? d.out,
    checkpointEvery: num("checkpoint-every", d.checkpointEvery, { integer: true, min: 1 }),
    resume: Boolean(values.resume),
    force: Boolean(values.force),
    progress: progressReporter(task, Boolean(values.quiet)),
  };
}
