/**
 * `deno task attack` under a binding limit too small for --batch: it runs smaller GPU batches, says so once,
 * and reports what the unsplit run reports (FGSM and DeepFool are deterministic).
 */
import { join } from "node:path";
import { writeSafetensors } from "../lib/io/safetensors.ts";
import { saveCheckpoint } from "../lib/nn/checkpoint.ts";
import { modelConfig } from "../lib/nn/models.ts";
import { Random } from "../lib/random.ts";
import { deepStrictEqual, equal, ok } from "../lib/testing/assert.ts";

const decoder = new TextDecoder();

Deno.test("attack task: a --batch over the binding limit runs as smaller GPU batches with the same results", async () => {
  const dir = await Deno.makeTempDir({ prefix: "attack-micro-" });
  try {
    const random = new Random(8);
    const config = modelConfig("linear", { classes: 4, imageSize: 4 });
    const model = join(dir, "model.safetensors"), data = join(dir, "data.safetensors");
    await saveCheckpoint(
      model,
      config,
      new Map([
        ["fc.weight", Float32Array.from({ length: 4 * 48 }, () => random.normal())],
        ["fc.bias", new Float32Array(4)],
      ]),
    );
    await writeSafetensors(data, {
      images: { shape: [40, 3, 4, 4], data: Uint8Array.from({ length: 40 * 48 }, () => random.int(256)) },
      labels: { shape: [40], data: Int32Array.from({ length: 40 }, () => random.int(4)) },
    });
    const run = async (out: string, env: Record<string, string> = {}) => {
      const args = ["--model", model, "--data", data, "--attack", "fgsm,deepfool", "--eps", "0.01,0.05,0.2"];
      const result = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "tasks/attack.ts", ...args, "--batch", "32", "--check-n", "0", "--out", out],
        env: { NO_COLOR: "1", ...env },
      }).output();
      equal(result.code, 0, decoder.decode(result.stderr));
      return { stdout: decoder.decode(result.stdout), report: JSON.parse(await Deno.readTextFile(out)) };
    };
    const whole = await run(join(dir, "whole.json"));
    // The linear model's largest per-image tensor is its 3 × 4 × 4 input (192 bytes): 960 bytes hold 5 images.
    const split = await run(join(dir, "split.json"), { NEUROGUIDE_MAX_BINDING_BYTES: "960" });
    ok(split.stdout.includes("attack: --batch 32 runs as GPU batches of 5"), split.stdout);
    ok(!whole.stdout.includes("GPU batches of"), whole.stdout);
    ok(split.report.batch <= 5, `GPU batch ${split.report.batch}`);
    const outcome = (r: { rows: { attack: string; eps: number; robust_points: string }[] }) =>
      r.rows.map((row) => `${row.attack} ${row.eps} ${row.robust_points}`);
    deepStrictEqual(outcome(split.report), outcome(whole.report));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
