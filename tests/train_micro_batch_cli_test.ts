/**
 * The train task splits a batch into micro-batches when the binding limit says so (here lowered by
 * NEUROGUIDE_MAX_BINDING_BYTES), says so once on stderr, and — for a model without BatchNorm — trains to the
 * same metrics as the unsplit run: loader slicing, gradient accumulation and validation in micro-batches.
 */
import { join } from "node:path";
import { assertClose, equal, ok } from "../lib/testing/assert.ts";
import { tinyPrepared, tinyWorld } from "./fixtures/world.ts";

const decoder = new TextDecoder();

async function task(name: string, args: string[], env: Record<string, string> = {}) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `tasks/${name}.ts`, ...args],
    env: { NO_COLOR: "1", ...env },
  }).output();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

async function train(out: string, env: Record<string, string> = {}) {
  const args = ["--roi", "none", "--arch", "mlp", "--sim", await tinyWorld(), "--size", "16", "--batch", "8"];
  return await task("train", [...args, "--epochs", "1", "--lr", "0.05", "--out", out], env);
}

async function predictor(out: string, env: Record<string, string> = {}) {
  const args = [
    "--prepared",
    await tinyPrepared(),
    "--nsd",
    await tinyWorld(),
    "--arch",
    "mlp",
    "--size",
    "16",
  ];
  return await task("predictor", [...args, "--batch", "8", "--epochs", "1", "--out", out], env);
}

/** The MLP's largest per-image tensor is its 3 × 16 × 16 input (3072 bytes): 12 288 bytes hold 4 images. */
const FOUR_IMAGES = { NEUROGUIDE_MAX_BINDING_BYTES: "12288" };

const final = async (dir: string) =>
  JSON.parse(await Deno.readTextFile(join(dir, "summary.json"))).final as Record<string, number>;

/** The split run's final `keys` equal the whole run's (float32 accumulation order aside). */
async function sameFinal(dir: string, keys: string[]) {
  const a = await final(join(dir, "whole")), b = await final(join(dir, "split"));
  assertClose(keys.map((k) => b[k]), keys.map((k) => a[k]), {
    rtol: 1e-4,
    atol: 1e-6,
    label: keys.join(","),
  });
}

Deno.test("train task: micro-batches under a small binding limit, announced once, same metrics (no BatchNorm)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "train-micro-" });
  try {
    const whole = await train(join(dir, "whole"));
    equal(whole.code, 0, whole.stderr);
    ok(!whole.stderr.includes("micro-batches"), whole.stderr);
    const split = await train(join(dir, "split"), FOUR_IMAGES);
    equal(split.code, 0, split.stderr);
    const notices = split.stderr.split("\n").filter((l) => l.includes("micro-batches"));
    equal(notices.length, 1, split.stderr);
    ok(notices[0].startsWith("train: batch 8 runs as 2 micro-batches of 4"), notices[0]);
    await sameFinal(dir, ["train_loss", "train_ce", "train_acc", "val_acc", "val_ce"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("predictor task: micro-batches under a small binding limit give the unsplit run's metrics", async () => {
  const dir = await Deno.makeTempDir({ prefix: "predictor-micro-" });
  try {
    const whole = await predictor(join(dir, "whole"));
    equal(whole.code, 0, whole.stderr);
    const split = await predictor(join(dir, "split"), FOUR_IMAGES);
    equal(split.code, 0, split.stderr);
    ok(split.stderr.includes("predictor: batch 8 runs as 2 micro-batches of 4"), split.stderr);
    await sameFinal(dir, ["train_loss", "val_loss", "val_r_mean", "val_component_r_mean"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
