/**
 * The local executor end to end on the tiny world (grid: None + TO, so nsd-prep → predictor → two models →
 * PGD → every analysis → transfer, representations → report): killed with SIGTERM after the predictor job,
 * resumed to completion without redoing the predictor, then a third invocation that skips every finished
 * job, a fourth that redoes only the analysis outputs deleted before it, and a fifth on a folder whose weights
 * were not kept (only the model with an unfinished attack is trained again, to the same bytes), then a changed
 * setting and a different world, both refused. Also the plan's analysis steps for a subset of --analyses,
 * without running anything.
 */
import { join } from "node:path";
import { readSafetensors } from "../lib/io/safetensors.ts";
import { folderFingerprint } from "../lib/io/fingerprint.ts";
import { interleaveClasses } from "../lib/sweep/eval_data.ts";
import { ANALYSES, type Analysis, buildPlan, type SweepPlan, type SweepSettings } from "../lib/sweep/plan.ts";
import { deepStrictEqual, equal, ok } from "../lib/testing/assert.ts";
import { runSweep, spawnSweep, tinySweepArgs } from "./fixtures/sweep.ts";

/** Files under OUT/analyses/ for the grid None + TO (the layout agreed with the notebooks). */
const EXPECTED_ANALYSES = [
  "brain_rsa.csv",
  "brain_rsa.json",
  "cka.csv",
  "cka.json",
  "features/None.safetensors",
  "features/TO.safetensors",
  "landscape/None.csv",
  "landscape/None.json",
  "landscape/TO.csv",
  "landscape/TO.json",
  "manifold.csv",
  "manifold.json",
  "roi_features/None.safetensors",
  "roi_features/TO.safetensors",
  "rsa.csv",
  "rsa.json",
  "shape_bias/None.csv",
  "shape_bias/None.json",
  "shape_bias/TO.csv",
  "shape_bias/TO.json",
  "smoothness/None.csv",
  "smoothness/None.json",
  "smoothness/TO.csv",
  "smoothness/TO.json",
  "transfer/None.csv",
  "transfer/None.json",
  "transfer/TO.csv",
  "transfer/TO.json",
];

/** Every file under `dir`, relative and sorted. */
async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    files.push(...(entry.isDirectory ? await listTree(dir, path) : [path]));
  }
  return files.sort();
}

const mtime = async (path: string) => (await Deno.stat(path)).mtime?.getTime();

Deno.test("sweep --executor local: kill after the predictor, resume, then skip everything finished", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sweep-local-" });
  try {
    const args = await tinySweepArgs(dir, [{ name: "None", roi: "none" }, { name: "TO", roi: "TO" }], [
      ...["--attacks", "pgd", "--analysis-n", "4"],
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
    ok(resumed.stderr.includes("2 of 9 jobs already finished"), resumed.stderr);
    equal(await mtime(join(out, "predictors/TO/summary.json")), predictorDone);
    for (const model of ["None", "TO"]) {
      const summary = JSON.parse(await Deno.readTextFile(join(out, `models/${model}/summary.json`)));
      equal(summary.roi, model.toLowerCase() === "none" ? "none" : "TO");
      const attack = JSON.parse(await Deno.readTextFile(join(out, `attacks/${model}/pgd.json`)));
      equal(attack.rows.length, 2, "one row per ε");
    }
    // exactly the agreed layout under analyses/, nothing elsewhere
    equal((await listTree(join(out, "analyses"))).join("\n"), EXPECTED_ANALYSES.join("\n"));
    const features = (await readSafetensors(join(out, "analyses/features/TO.safetensors"))).tensors;
    equal([...features.keys()].sort().join(","), "avgpool,labels,logits,neural_head");
    const smooth = JSON.parse(await Deno.readTextFile(join(out, "analyses/smoothness/TO.json")));
    equal(smooth.smoothness.map((r: { eps: number }) => r.eps).join(","), "0.08,0.12,0.18,0.26,0.38");
    equal(smooth.n, 4, "--analysis-n images");
    const transfer = JSON.parse(await Deno.readTextFile(join(out, "analyses/transfer/TO.json")));
    equal(transfer.transfer.targets.join(","), join(out, "models/None"), "scored on every other model");
    const rsa = JSON.parse(await Deno.readTextFile(join(out, "analyses/rsa.json")));
    equal(rsa.modelByModel.rows.join(","), "None:avgpool,TO:avgpool,TO:neural_head");
    const manifold = JSON.parse(await Deno.readTextFile(join(out, "analyses/manifold.json")));
    equal(Object.keys(manifold.inputs).join(","), "None:avgpool,TO:avgpool");
    const report = await Deno.readTextFile(join(out, "report.md"));
    ok(report.includes("| None |") && report.includes("| TO |") && report.includes("### pgd"), report);
    // the gate ran before TO (the fixture's --ungated let TO train whatever it decided); a failure is loud
    const gate = JSON.parse(await Deno.readTextFile(join(out, "gate.json")));
    equal(gate.rois.map((r: { roi: string }) => r.roi).join(","), "TO");
    equal(report.includes("THE HIERARCHY TEST IS UNINTERPRETABLE"), !gate.pass, report);
    ok(!report.includes("_not available: no analyses"), `every analysis section has data:\n${report}`);
    ok((await Deno.stat(join(out, "figures/transfer.png"))).size > 1000);
    ok((await Deno.stat(join(out, "figures/robust_pgd.png"))).size > 1000);
    // the eval set interleaves classes, so the attacked first N cover every class (tiny world: 4 × 4)
    const labels = (await readSafetensors(join(out, "data/eval.safetensors"))).tensors.get("labels")!;
    equal([...labels.data].slice(0, 8).map(Number).join(","), "0,1,2,3,0,1,2,3");

    // 3. everything finished: only the report reruns
    const modelDone = await mtime(join(out, "models/TO/summary.json"));
    const analysesTimes = async () =>
      (await Promise.all(EXPECTED_ANALYSES.map((f) => mtime(join(out, "analyses", f))))).join(",");
    const analysesDone = await analysesTimes();
    const again = await runSweep(args);
    equal(again.code, 0, again.stderr);
    ok(again.stdout.includes("1 steps run, 8 jobs already finished"), again.stdout);
    equal(await mtime(join(out, "models/TO/summary.json")), modelDone);
    equal(await analysesTimes(), analysesDone, "no finished analysis reran");

    // 4. two analysis outputs lost: only their steps (and the report) rerun, the rest of their jobs is kept
    await Deno.remove(join(out, "analyses/smoothness/TO.json"));
    await Deno.remove(join(out, "analyses/cka.json"));
    const landscapeDone = await mtime(join(out, "analyses/landscape/TO.json"));
    const rsaDone = await mtime(join(out, "analyses/rsa.json"));
    const redo = await runSweep(args);
    equal(redo.code, 0, redo.stderr);
    ok(redo.stdout.includes("3 steps run, 6 jobs already finished"), redo.stdout);
    ok(
      await Deno.stat(join(out, "analyses/smoothness/TO.json")) &&
        await Deno.stat(join(out, "analyses/cka.json")),
    );
    equal(await mtime(join(out, "analyses/landscape/TO.json")), landscapeDone);
    equal(await mtime(join(out, "analyses/rsa.json")), rsaDone);

    // 5. a results folder kept without the models' weights (README, "Continuing a grid elsewhere"): a finished
    // model needs none; one whose attack is unfinished is trained again, to the same bytes
    const weights = join(out, "models/TO/model.safetensors");
    const trained = await Deno.readFile(weights);
    for (const file of ["None/model.safetensors", "TO/model.safetensors", "TO/checkpoint.safetensors"]) {
      await Deno.remove(join(out, "models", file));
    }
    await Deno.remove(join(out, "attacks/TO/pgd.json"));
    const kept = await runSweep(args);
    equal(kept.code, 0, kept.stderr);
    ok(kept.stdout.includes("3 steps run, 7 jobs already finished"), kept.stdout);
    deepStrictEqual(await Deno.readFile(weights), trained);
    ok(
      !(await Deno.stat(join(out, "models/None/model.safetensors")).catch(() => null)),
      "None not retrained",
    );

    // a different setting in the same folder is refused, not mixed in
    const changed = await runSweep([...args, "--lr", "0.01"]);
    equal(changed.code, 1);
    ok(changed.stderr.includes("other settings (lr)"), changed.stderr);

    // the plan names the world its jobs read; a regenerated world that differs is refused, not mixed in
    const planFile = join(out, "plan.json");
    const plan: SweepPlan = JSON.parse(await Deno.readTextFile(planFile));
    equal(plan.world, await folderFingerprint(plan.settings.sim));
    await Deno.writeTextFile(planFile, JSON.stringify({ ...plan, world: "sha256:0" }));
    const retrained = await mtime(join(out, "models/TO/summary.json"));
    const otherWorld = await runSweep(args);
    equal(otherWorld.code, 1);
    const line = otherWorld.stderr.trim().split("\n").at(-1)!;
    ok(
      line.includes(`plan.json: the finished jobs here read a simulated world with fingerprint sha256:0`),
      line,
    );
    ok(line.includes(`the world now has ${plan.world}; regenerate it`), line);
    equal(await mtime(join(out, "models/TO/summary.json")), retrained, "nothing reran");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sweep --executor local: a failing job blocks its dependants and is named with its log", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sweep-local-fail-" });
  try {
    // the whole plan is valid, but a file where the model's run folder goes makes deno task train refuse its
    // --out at once (exit 2)
    const args = await tinySweepArgs(dir, [{ name: "bad", roi: "none" }], ["--attacks", "none"]);
    await Deno.mkdir(join(dir, "out/models"), { recursive: true });
    await Deno.writeTextFile(join(dir, "out/models/bad"), "in the way\n");
    const { code, stderr } = await runSweep(args);
    equal(code, 1, stderr);
    const last = stderr.trim().split("\n").at(-1)!;
    ok(last.startsWith("sweep: 3 job(s) did not finish: model/bad: deno task train exited with 2"), last);
    ok(last.includes("logs/model_bad.log") && last.includes("report: not run (a dependency failed)"), last);
    ok(last.includes("representations: not run (a dependency failed)"), last);
    ok((await Deno.readTextFile(join(dir, "out/logs/model_bad.log"))).includes("--alpha"), "log kept");

    // analyses may be added to an existing folder (finished work is kept); their image count may not change
    const plan = join(dir, "out/plan.json");
    const old = JSON.parse(await Deno.readTextFile(plan));
    delete old.settings.transferEps; // a plan written before that setting existed
    await Deno.writeTextFile(plan, JSON.stringify({ ...old, settings: { ...old.settings, analyses: [] } }));
    const added = await runSweep(args);
    ok(added.stderr.includes("model/bad: deno task train exited with 2"), added.stderr);
    const changed = await runSweep([...args, "--analysis-n", "5"]);
    equal(changed.code, 1);
    ok(changed.stderr.includes("other settings (analysisN)"), changed.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("buildPlan: --analyses picks the steps; cross-model ones bring the features step along", () => {
  const out = "/r";
  const models = [{ name: "None", roi: "none", shuffle: false }, { name: "V1", roi: "V1", shuffle: false }];
  const settings = (analyses: Analysis[]): SweepSettings => ({
    ...{ sim: "/sim", subject: 1, arch: "resnet-tiny", size: 16, batch: 8, epochs: 1, predictorEpochs: 1 },
    cropScale: 0.35,
    ...{ lr: 0.05, alpha: 0.9, wd: 0, seed: 0, attacks: ["pgd"], eps: "0.001,0.01", epsUnits: "normalized" },
    ...{ attackN: 8, analyses, analysisN: 6, transferEps: "0.001,0.01" },
  });
  const outputs = (plan: SweepPlan, id: string) =>
    plan.jobs.find((j) => j.id === id)?.steps.map((s) => s.done?.replace(`${out}/`, "")) ?? [];

  const subset = buildPlan(out, settings(["smoothness", "cka"]), models);
  equal(
    outputs(subset, "model/V1").join(" "),
    [
      "models/V1/summary.json",
      "attacks/V1/pgd.json",
      "analyses/features/V1.safetensors",
      "analyses/smoothness/V1.json",
    ].join(" "),
  );
  equal(outputs(subset, "representations").join(" "), "analyses/cka.json");
  const train = subset.jobs.find((j) => j.id === "model/V1")!.steps[0];
  ok(
    train.args.join(" ").includes("--crop-scale 0.35"),
    `train step passes the crop scale: ${train.args.join(" ")}`,
  );
  ok(!subset.jobs.some((j) => j.stage === "transfer"), "no transfer jobs");
  equal(
    subset.skipped.join(" | "),
    "analyses not run: features, landscape, shape-bias, transfer, rsa, manifold, brain-rsa (--analyses)",
  );
  const smoothness = subset.jobs.find((j) => j.id === "model/V1")!.steps[3];
  // the GPU batch (8) shrinks to the 6 images, so attack steps do not run padding
  ok(smoothness.args.join(" ").includes("--n 6 --batch 6"), "--analysis-n reaches the step");

  const all = buildPlan(out, settings([...ANALYSES]), models);
  equal(
    outputs(all, "model/None").slice(2).join(" "),
    [
      "analyses/features/None.safetensors",
      "analyses/smoothness/None.json",
      "analyses/landscape/None.json",
      "analyses/shape_bias/None.json",
    ].join(" "),
  );
  equal(outputs(all, "transfer/V1").join(" "), "analyses/transfer/V1.json");
  const transfer = all.jobs.find((j) => j.id === "transfer/V1")!;
  equal(transfer.deps.join(","), "model/None,model/V1");
  ok(transfer.steps[0].args.join(" ").includes("--eps 0.001,0.01 --eps-units normalized --n 6"));
  ok(transfer.steps[0].args.join(" ").includes(`--transfer ${out}/models/None --check-n 0`));
  equal(
    outputs(all, "representations").join(" "),
    [
      "analyses/rsa.json analyses/cka.json analyses/manifold.json",
      "analyses/roi_features/None.safetensors analyses/roi_features/V1.safetensors analyses/brain_rsa.json",
    ].join(" "),
  );
  // model × ROI RSA reads the ROI files: it waits for the prep jobs that write them
  const representations = all.jobs.find((j) => j.id === "representations")!;
  equal(representations.deps.join(","), "model/None,model/V1,prep/V1");
  ok(representations.steps.at(-1)!.args.join(" ").includes(`--roi ${out}/prep/V1.h5`));
  ok(representations.steps[3].args.join(" ").includes(`--stimuli ${out}/prep/V1.h5 --nsd /sim`));
  equal(
    all.jobs.find((j) => j.id === "report")!.deps.join(","),
    "model/None,model/V1,transfer/None,transfer/V1,representations",
  );
  equal(
    buildPlan(out, settings([]), models).jobs.map((j) => j.id).join(","),
    "prep/V1,predictor/V1,gate,model/None,model/V1,report",
  );
});

Deno.test("interleaveClasses: one image per class in turn, classes of unequal size", () => {
  equal(interleaveClasses([1, 1, 1, 0, 2, 0]).join(","), "3,0,4,5,1,2");
});
