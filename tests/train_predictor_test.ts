import { join } from "node:path";
import { loadCheckpoint } from "../lib/nn/checkpoint.ts";
import { deepStrictEqual, equal, ok } from "../lib/testing/assert.ts";
import { tinyPrepared, tinyWorld } from "./fixtures/world.ts";
import { killAndResume, runTask } from "./fixtures/run_task.ts";

const predictorArgs = async (out: string, epochs: number) => [
  "--prepared",
  await tinyPrepared(),
  "--nsd",
  await tinyWorld(),
  "--arch",
  "resnet-tiny",
  "--size",
  "16",
  "--batch",
  "8",
  "--epochs",
  String(epochs),
  "--checkpoint-every",
  "1",
  "--out",
  out,
  "--quiet",
];

Deno.test("predictor task: run folder with per-epoch metrics, summary and a checkpoint carrying the ROI", async () => {
  const out = join(await Deno.makeTempDir(), "np");
  const { code, stdout, stderr } = await runTask("predictor", await predictorArgs(out, 2));
  equal(code, 0, stderr);
  ok(stdout.includes("validation r per image"), stdout);
  const lines = (await Deno.readTextFile(join(out, "metrics.jsonl"))).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  deepStrictEqual(lines.map((l) => l.epoch), [1, 2]);
  ok(lines.every((l) => Number.isFinite(l.val_r_mean) && Number.isFinite(l.train_loss)));
  const summary = JSON.parse(await Deno.readTextFile(join(out, "summary.json")));
  equal(summary.roi, "TO");
  equal(summary.k, 6);
  equal(summary.componentR.length, 6);
  const checkpoint = await loadCheckpoint(join(out, "predictor.safetensors"));
  equal(checkpoint.metadata.roi, "TO");
  equal(checkpoint.config.classes, 6);
});

Deno.test("predictor task: killed mid-run and resumed, it ends with the uninterrupted run's metrics", async () => {
  const dir = await Deno.makeTempDir();
  const prefix = await predictorArgs("", 3);
  const args = (out: string) => prefix.map((a, i) => prefix[i - 1] === "--out" ? out : a);
  const r = await killAndResume("predictor", args, join(dir, "whole"), join(dir, "resumed"));
  ok(r.killedEarly, "the killed run must not look finished");
  deepStrictEqual(r.after.final, r.whole.final);
  deepStrictEqual(r.after.componentR, r.whole.componentR);
  deepStrictEqual(r.epochs, [1, 2, 3]);
});

Deno.test("predictor task: bad flags and missing files are one-line errors with stable exit codes", async () => {
  const usage = await runTask("predictor", ["--epochs", "two"]);
  equal(usage.code, 2);
  ok(/--epochs: expected a number, got 'two'/.test(usage.stderr), usage.stderr);
  const missing = await runTask("predictor", [
    "--prepared",
    "/nonexistent/x.h5",
    "--nsd",
    await tinyWorld(),
    "--out",
    join(await Deno.makeTempDir(), "m"),
  ]);
  equal(missing.code, 1);
  ok(
    /\/nonexistent\/x\.h5/.test(missing.stderr) && missing.stderr.trim().split("\n").length === 1,
    missing.stderr,
  );
  const noResume = await runTask("predictor", [
    ...await predictorArgs(join(await Deno.makeTempDir(), "n"), 1),
    "--resume",
  ]);
  equal(noResume.code, 1);
  ok(/nothing to resume/.test(noResume.stderr), noResume.stderr);
});
