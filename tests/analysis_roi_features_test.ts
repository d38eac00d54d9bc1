/**
 * `analyze features --stimuli ROI.h5` on the tiny simulated world: features of the ROI file's validation
 * stimuli, in its val_ids order, that `analyze rsa --roi` then compares with the ROI.
 */
import { join } from "node:path";
import { main } from "../tasks/analyze.ts";
import { analysisHeadline } from "../lib/analysis/headline.ts";
import { saveCheckpoint } from "../lib/nn/checkpoint.ts";
import { IMAGENET_MEAN, IMAGENET_STD, modelConfig } from "../lib/nn/models.ts";
import { readPreparedTargets } from "../lib/data/nsd/prepared.ts";
import { readStimuli } from "../lib/data/nsd/stimuli.ts";
import { nsdPaths } from "../lib/data/nsd/paths.ts";
import { readSafetensors } from "../lib/io/safetensors.ts";
import { Random } from "../lib/random.ts";
import { assertClose, deepStrictEqual, equal, ok } from "../lib/testing/assert.ts";
import { tinyPrepared, tinyWorld } from "./fixtures/world.ts";

Deno.test("analyze features --stimuli: the ROI file's validation images, in order, ready for rsa --roi", async () => {
  const world = await tinyWorld(), roiFile = await tinyPrepared();
  const dir = await Deno.makeTempDir({ prefix: "roi-features-" });
  try {
    // A linear classifier on 16-px images: its logits can be recomputed by hand from the stimuli.
    const config = modelConfig("linear", { classes: 4, imageSize: 16 });
    const random = new Random(3);
    const weight = Float32Array.from({ length: 4 * 768 }, () => random.normal() * 0.05);
    const bias = Float32Array.from({ length: 4 }, () => random.normal());
    const model = join(dir, "model.safetensors");
    await saveCheckpoint(model, config, new Map([["fc.weight", weight], ["fc.bias", bias]]));
    const features = join(dir, "features.safetensors");
    await main(["features", "--model", model, "--stimuli", roiFile, "--nsd", world, "--out", features]);

    const prepared = await readPreparedTargets(roiFile);
    const { tensors } = await readSafetensors(features);
    deepStrictEqual([...tensors.get("stimulus_ids")!.data as Int32Array], [...prepared.valIds]);
    const logits = tensors.get("logits")!;
    equal(logits.shape[0], prepared.valIds.length);
    // The last validation stimulus, normalised and multiplied out in float64.
    const last = prepared.valIds.length - 1;
    const { data: image } = await readStimuli(nsdPaths(world, 1).stimuli, [prepared.valIds[last]], {
      size: 16,
    });
    const expected = Array.from({ length: 4 }, (_, k) => {
      let sum = bias[k];
      for (let i = 0; i < 768; i++) {
        const c = Math.floor(i / 256);
        sum += weight[k * 768 + i] * (image[i] - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
      }
      return sum;
    });
    assertClose((logits.data as Float32Array).subarray(last * 4, last * 4 + 4), expected, {
      rtol: 1e-4,
      atol: 1e-5,
      label: "logits of the last validation stimulus",
    });

    const rsa = join(dir, "rsa.json");
    await main(["rsa", "--features", `${features}:logits`, "--roi", roiFile, "--out", rsa]);
    const result = JSON.parse(await Deno.readTextFile(rsa));
    equal(result.modelByRoi.rows.length, 1);
    const value = result.modelByRoi.values[0][0];
    ok(value >= -1 && value <= 1, `model × ROI ${value}`);
    equal(
      analysisHeadline("rsa", result),
      `model × ROI RDM spearman: highest ${value.toFixed(3)} (${result.modelByRoi.rows[0]} vs ${
        result.modelByRoi.columns[0]
      })`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
