/**
 * The Slurm executor: the `--dry-run` scripts (array lines with throttle, per-task logs, resources, afterok
 * dependencies: model after predictor, transfer and representations after model, the report after all three),
 * and a real submission to a single-node Slurm brought up by .ci/slurm-up.sh (grid: None + random, no attacks,
 * transfer and RSA only: model and transfer arrays of two tiny tasks, the representations job, the report). Where Slurm cannot be installed or started, the real
 * test is ignored with a visible "skipped: no Slurm" line, never passed silently.
 */
import { join } from "node:path";
import { equal, ok } from "../lib/testing/assert.ts";
import { runSweep, tinySweepArgs } from "./fixtures/sweep.ts";

const slurmUp = await new Deno.Command("bash", {
  args: [".ci/slurm-up.sh"],
  stdout: "piped",
  stderr: "piped",
})
  .output().catch(() => null);
const noSlurm = !slurmUp?.success;
if (noSlurm) {
  const why = slurmUp ? new TextDecoder().decode(slurmUp.stderr).trim() : "bash not found";
  console.log(`skipped: no Slurm (${why})`);
}

Deno.test("sweep --executor slurm --dry-run: job arrays with throttle and per-task logs, afterok chain", async () => {
  const { code, stdout, stderr } = await runSweep([
    ...["--executor", "slurm", "--dry-run", "--out", "/tmp/ng-dry", "--wd", "--throttle", "3"],
    ...["--partition", "gpu", "--time", "02:00:00", "--cpus", "4", "--gpus", "1", "--mem", "16G"],
  ]);
  equal(code, 0, stderr);
  // 7 ROIs (V1 … TO; the shuffle controls reuse V1's and TO's predictors), 11 + 5 WD models (model and
  // transfer arrays)
  equal(stdout.split("#SBATCH --array=0-6%3\n").length - 1, 2, "prep and predictor arrays");
  equal(stdout.split("#SBATCH --array=0-15%3\n").length - 1, 2, stdout);
  ok(stdout.includes("#SBATCH --output=/tmp/ng-dry/logs/slurm/model_%A_%a.log"), "per-task logs");
  ok(stdout.includes("#SBATCH --output=/tmp/ng-dry/logs/slurm/transfer_%A_%a.log"), "per-task logs");
  ok(stdout.includes("#SBATCH --output=/tmp/ng-dry/logs/slurm/representations_%j.log"), "one job");
  for (const line of ["--partition=gpu", "--time=02:00:00", "--cpus-per-task=4", "--gpus=1", "--mem=16G"]) {
    equal(stdout.split(`#SBATCH ${line}\n`).length - 1, 7, `${line} in every script`);
  }
  ok(/--stage transfer --index \$\{SLURM_ARRAY_TASK_ID\}/.test(stdout), "transfer tasks index the plan");
  ok(/--stage representations --index 0\n/.test(stdout), "representations: a single job");
  ok(/--stage model --index \$\{SLURM_ARRAY_TASK_ID\}/.test(stdout), "tasks index the plan");
  ok(stdout.includes("PREP_JOB=$(sbatch --parsable /tmp/ng-dry/slurm/prep.sbatch)"));
  ok(
    stdout.includes(
      "PREDICTOR_JOB=$(sbatch --parsable --dependency=afterok:$PREP_JOB /tmp/ng-dry/slurm/predictor.sbatch)",
    ),
  );
  ok(
    stdout.includes(
      "MODEL_JOB=$(sbatch --parsable --dependency=afterok:$PREP_JOB:$PREDICTOR_JOB:$GATE_JOB " +
        "/tmp/ng-dry/slurm/model.sbatch)",
    ),
  );
  for (const stage of ["TRANSFER", "REPRESENTATIONS"]) {
    const file = `/tmp/ng-dry/slurm/${stage.toLowerCase()}.sbatch`;
    ok(stdout.includes(`${stage}_JOB=$(sbatch --parsable --dependency=afterok:$MODEL_JOB ${file})`), stage);
  }
  ok(
    stdout.includes(
      "REPORT_JOB=$(sbatch --parsable --dependency=afterok:$MODEL_JOB:$TRANSFER_JOB:$REPRESENTATIONS_JOB " +
        "/tmp/ng-dry/slurm/report.sbatch)",
    ),
    stdout,
  );
  ok(!(await Deno.stat("/tmp/ng-dry").catch(() => null)), "a dry run writes nothing");
});

Deno.test({
  name: "sweep --executor slurm: a real array + afterok report on single-node Slurm",
  ignore: noSlurm,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sweep-slurm-" });
    try {
      const args = await tinySweepArgs(dir, [{ name: "None", roi: "none" }, {
        name: "random",
        roi: "random",
      }], [
        ...["--attacks", "none", "--executor", "slurm", "--throttle", "2", "--wait", "--time", "00:10:00"],
        ...["--analyses", "transfer,rsa", "--analysis-n", "4"],
      ]);
      const { code, stdout, stderr } = await runSweep(args);
      const out = join(dir, "out");
      equal(code, 0, `${stdout}\n${stderr}`);
      const ids = JSON.parse(await Deno.readTextFile(join(out, "slurm/submitted.json")));
      ok(
        ids.model && ids.transfer && ids.representations && ids.report && !ids.predictor,
        JSON.stringify(ids),
      );
      ok((await Deno.readTextFile(join(out, "slurm/model.sbatch"))).includes("#SBATCH --array=0-1%2"));
      ok((await Deno.readTextFile(join(out, "slurm/transfer.sbatch"))).includes("#SBATCH --array=0-1%2"));
      for (const [i, model] of ["None", "random"].entries()) {
        ok(await Deno.stat(join(out, `models/${model}/summary.json`)), model);
        ok(await Deno.stat(join(out, `analyses/features/${model}.safetensors`)), `${model} features`);
        ok(await Deno.stat(join(out, `analyses/transfer/${model}.json`)), `${model} transfer`);
        ok(await Deno.stat(join(out, `logs/slurm/model_${ids.model}_${i}.log`)));
        ok(await Deno.stat(join(out, `logs/slurm/transfer_${ids.transfer}_${i}.log`)));
      }
      ok(await Deno.stat(join(out, `logs/slurm/representations_${ids.representations}.log`)));
      const report = await Deno.readTextFile(join(out, "report.md"));
      ok(report.includes("| random |") && report.includes("attacks: skipped (--attacks none)"), report);
      ok(report.includes("figures/transfer.png") && report.includes("figures/rsa.png"), report);
      ok(report.includes("_not available: no analyses/cka.json_"), "cka not asked for");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "sweep --executor slurm --wait: a failing array task cancels the report and exits 1 with one line",
  ignore: noSlurm,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sweep-slurm-fail-" });
    try {
      // the plan is valid, but a file where the model's run folder goes makes deno task train refuse its
      // --out at once (exit 2)
      const args = await tinySweepArgs(dir, [{ name: "bad", roi: "none" }], [
        ...["--attacks", "none", "--executor", "slurm", "--wait"],
      ]);
      await Deno.mkdir(join(dir, "out/models"), { recursive: true });
      await Deno.writeTextFile(join(dir, "out/models/bad"), "in the way\n");
      const { code, stderr } = await runSweep(args);
      equal(code, 1, stderr);
      ok(/sweep: a Slurm stage failed, so its dependants were cancelled/.test(stderr), stderr);
      ok(!(await Deno.stat(join(dir, "out/report.md")).catch(() => null)), "no report");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
