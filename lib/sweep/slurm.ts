/**
 * The Slurm executor: one sbatch job array per stage (prep, predictors: one task per ROI; models and transfer: one
 * task per model), chained with `afterok`, then single jobs for the cross-model representations (`afterok`
 * the model array) and the report (`afterok` everything before it). Each array
 * task runs `deno task sweep job --plan OUT/plan.json --stage S --index $SLURM_ARRAY_TASK_ID`, i.e. the same
 * job runner as the local executor, so finished steps are skipped on resubmission too.
 * @module
 */
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { taskFile } from "./run_job.ts";
import { type Stage, stageJobs, STAGES, type SweepPlan } from "./plan.ts";

/** sbatch resources, each emitted only when set. */
export interface SlurmOptions {
  partition?: string;
  time?: string;
  cpus?: number;
  gpus?: number;
  mem?: string;
  /** Array tasks running at once (`%` throttle). */
  throttle: number;
}

/** One script to submit, with the stages whose job ids its dependency names. */
export interface SlurmScript {
  stage: Stage;
  file: string;
  text: string;
  /** The stages this one waits for (`afterok`, all of them); empty: none. */
  after: Stage[];
}

/** Stages run as one job rather than an array. */
const SINGLE: readonly Stage[] = ["gate", "representations", "report"];

/** What each stage waits for; a stage absent from the plan is dropped from the others' lists. */
const AFTER: Record<Stage, Stage[]> = {
  prep: [],
  predictor: ["prep"],
  gate: ["predictor"],
  model: ["prep", "predictor", "gate"],
  transfer: ["model"],
  representations: ["model"],
  report: ["model", "transfer", "representations"],
};

const SWEEP_TASK = taskFile("sweep");

/** The scripts for `plan`: `OUT/slurm/<stage>.sbatch`, skipping stages without jobs. */
export function slurmScripts(plan: SweepPlan, o: SlurmOptions): SlurmScript[] {
  const scripts: SlurmScript[] = [];
  const present = STAGES.filter((stage) => stageJobs(plan, stage).length > 0);
  for (const stage of present) {
    const count = stageJobs(plan, stage).length;
    const single = SINGLE.includes(stage);
    const array = single ? null : `#SBATCH --array=0-${count - 1}%${o.throttle}`;
    const log = join(plan.out, "logs", "slurm", single ? `${stage}_%j.log` : `${stage}_%A_%a.log`);
    const lines = [
      "#!/bin/bash",
      `#SBATCH --job-name=neuroguide-${stage}`,
      ...(array ? [array] : []),
      `#SBATCH --output=${sbatchQuote(log)}`,
      ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
      ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
      ...(o.cpus ? [`#SBATCH --cpus-per-task=${o.cpus}`] : []),
      ...(o.gpus ? [`#SBATCH --gpus=${o.gpus}`] : []),
      ...(o.mem ? [`#SBATCH --mem=${o.mem}`] : []),
      "set -euo pipefail",
      `exec ${shellQuote(Deno.execPath())} run -A ${shellQuote(SWEEP_TASK)} job --plan ${
        shellQuote(join(plan.out, "plan.json"))
      } --stage ${stage} --index ${array ? "${SLURM_ARRAY_TASK_ID}" : "0"}`,
    ];
    scripts.push({
      stage,
      file: join(plan.out, "slurm", `${stage}.sbatch`),
      text: lines.join("\n") + "\n",
      after: AFTER[stage].filter((s) => present.includes(s)),
    });
  }
  return scripts;
}

/** Slurm job ids per stage. */
export type Submitted = Partial<Record<Stage, string>>;

/**
 * Writes the scripts and submits them in order with `sbatch --parsable`, each `afterok` the previous
 * stage's id; records the ids in `OUT/slurm/submitted.json`.
 */
export async function submitSlurm(plan: SweepPlan, scripts: SlurmScript[]): Promise<Submitted> {
  const ids: Submitted = {};
  await Deno.mkdir(join(plan.out, "logs", "slurm"), { recursive: true });
  for (const script of scripts) {
    await writeFileAtomic(script.file, script.text);
    const dependency = script.after.length
      ? [`--dependency=afterok:${script.after.map((stage) => ids[stage]).join(":")}`]
      : [];
    const args = ["--parsable", ...dependency, script.file];
    const output = await new Deno.Command("sbatch", { args, stdout: "piped", stderr: "piped" }).output()
      .catch((e) => {
        throw new UserError(`sbatch: cannot run it (${(e as Error).message}); is Slurm installed here?`);
      });
    const text = new TextDecoder();
    if (!output.success) {
      throw new UserError(`sbatch ${script.file}: ${text.decode(output.stderr).trim().split("\n")[0]}`);
    }
    // --parsable prints "id" or "id;cluster"
    ids[script.stage] = text.decode(output.stdout).trim().split(";")[0];
  }
  await writeFileAtomic(join(plan.out, "slurm", "submitted.json"), JSON.stringify(ids, null, 2) + "\n");
  return ids;
}

/** The dry-run text: each script, then the sbatch commands that would submit them. */
export function dryRunText(scripts: SlurmScript[]): string {
  const parts = scripts.map((s) => `# ${s.file}\n${s.text}`);
  const commands = scripts.map((s) => {
    const dependency = s.after.length
      ? ` --dependency=afterok:${s.after.map((stage) => `$${stage.toUpperCase()}_JOB`).join(":")}`
      : "";
    return `${s.stage.toUpperCase()}_JOB=$(sbatch --parsable${dependency} ${shellQuote(s.file)})`;
  });
  return [...parts, `# submission (run by --executor slurm without --dry-run)\n${commands.join("\n")}\n`]
    .join("\n");
}

/**
 * Polls `squeue` until none of `ids` is queued or running (Slurm's `--wait` backs off too slowly). A job
 * whose `afterok` can no longer be met would stay pending forever, so that cancels the rest and throws.
 */
export async function waitForJobs(ids: string[], pollMs = 1000): Promise<void> {
  for (;;) {
    const output = await new Deno.Command("squeue", {
      args: ["-h", "-j", ids.join(","), "-o", "%i %r"],
      stdout: "piped",
    }).output();
    const lines = new TextDecoder().decode(output.stdout).trim();
    if (lines === "") return;
    if (lines.includes("DependencyNeverSatisfied")) {
      await new Deno.Command("scancel", { args: ids }).output();
      throw new UserError(`a Slurm stage failed, so its dependants were cancelled (jobs ${ids.join(", ")})`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * A `#SBATCH` directive's value: sbatch splits directives at spaces and stops at an unescaped `#`, honouring
 * double quotes and backslash escapes (it does not run a shell), so a path with spaces must be quoted.
 */
export function sbatchQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `"${text.replace(/[\\"#]/g, "\\$&")}"`;
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
