/**
 * The local executor end to end on the tiny world (grid: None + TO, so nsd-prep → predictor → two models →
 * PGD → report): killed with SIGTERM after the predictor job, resumed to completion without redoing the
 * predictor, then a third invocation that skips every finished job.
 */
import { join } from "node:path";
import { readSafetensors } from "../lib/io/safetensors.ts";
import { interleaveClasses } from "../lib/sweep/eval_data.ts";
import { equal, ok } from "../lib/testing/assert.ts";
import { runSweep, spawnSweep, tinySweepArgs } from "./fixtures/sweep.ts";

const mtime = async (path: string) => (await Deno.stat(path)).mtime?.getTime();

Deno.test("sweep --executor local: kill after the predictor, resume, then skip everything finished", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sweep-local-" });
  try {
    const args = await tinySweepArgs(dir, [{ name: "None", roi: "none" }, { name: "TO", roi: "TO" }], [
      "--attacks",
      "pgd",
    ]);
    const out = join(dir, "out");

    // 1. killed while the first model trains
    const child = spawnSweep(args);
    let stderr = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      stderr += decoder.decode(chunk, { stream: true });
      if (stderr.includes("predictor/TO done")) {
        child.kill("SIGTERM");
        break;
      }
    }
    await child.stdout.cancel();
    const killed = await child.status;
    equal(killed.code, 1, stderr);
    ok(!(await Deno.stat(join(out, "models/TO/summary.json")).catch(() => null)), "TO not finished yet");
    const predictorDone = await mtime(join(out, "predictors/TO/summary.json"));

    // 2. resumed: finishes, without retraining the predictor
    const resumed = await runSweep(args);
    equal(resumed.code, 0, resumed.stderr);
    ok(resumed.stderr.includes("1 of 4 jobs already finished"), resumed.stderr);
    equal(await mtime(join(out, "predictors/TO/summary.json")), predictorDone);
    for (const model of ["None", "TO"]) {
      const summary = JSON.parse(await Deno.readTextFile(join(out, `models/${model}/summary.json`)));
      equal(summary.roi, model.toLowerCase() === "none" ? "none" : "TO");
      const attack = JSON.parse(await Deno.readTextFile(join(out, `attacks/${model}/pgd.json`)));
      equal(attack.rows.length, 2, "one row per ε");
    }
    const report = await Deno.readTextFile(join(out, "report.md"));
    ok(report.includes("| None |") && report.includes("| TO |") && report.includes("### pgd"), report);
    ok((await Deno.stat(join(out, "figures/robust_pgd.png"))).size > 1000);
    // the eval set interleaves classes, so the attacked first N cover every class (tiny world: 4 × 4)
    const labels = (await readSafetensors(join(out, "data/eval.safetensors"))).tensors.get("labels")!;
    equal([...labels.data].slice(0, 8).map(Number).join(","), "0,1,2,3,0,1,2,3");

    // 3. everything finished: only the report reruns
    const modelDone = await mtime(join(out, "models/TO/summary.json"));
    const again = await runSweep(args);
    equal(again.code, 0, again.stderr);
    ok(again.stdout.includes("1 steps run, 3 jobs already finished"), again.stdout);
    equal(await mtime(join(out, "models/TO/summary.json")), modelDone);

    // a different setting in the same folder is refused, not mixed in
    const changed = await runSweep([...args, "--lr", "0.01"]);
    equal(changed.code, 1);
    ok(changed.stderr.includes("other settings (lr)"), changed.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sweep --executor local: a failing job blocks its dependants and is named with its log", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sweep-local-fail-" });
  try {
    // alpha 2 passes the grid schema but deno task train rejects it at once (exit 2)
    const args = await tinySweepArgs(dir, [{ name: "bad", roi: "none", alpha: 2 }], ["--attacks", "none"]);
    const { code, stderr } = await runSweep(args);
    equal(code, 1, stderr);
    const last = stderr.trim().split("\n").at(-1)!;
    ok(last.startsWith("sweep: 2 job(s) did not finish: model/bad: deno task train exited with 2"), last);
    ok(last.includes("logs/model_bad.log") && last.includes("report: not run (a dependency failed)"), last);
    ok((await Deno.readTextFile(join(dir, "out/logs/model_bad.log"))).includes("--alpha"), "log kept");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("interleaveClasses: one image per class in turn, classes of unequal size", () => {
  equal(interleaveClasses([1, 1, 1, 0, 2, 0]).join(","), "3,0,4,5,1,2");
});
