import { contextLines } from "../lib/train/context.ts";
import { equal, ok } from "../lib/testing/assert.ts";

Deno.test("context: accuracy against chance and the None baseline, predictor r against its ceiling", () => {
  const lines = contextLines({
    accuracy: 0.285,
    classes: 10,
    baseline: { accuracy: 0.325, source: "runs/demo/guided-none" },
    predictorR: 0.05,
    noiseCeiling: 36,
  });
  equal(lines[0], "chance is 0.100 (10 classes): accuracy 0.285 is 2.85× chance");
  equal(lines[1], "matched None baseline 0.325 (runs/demo/guided-none): this model is −0.040 against it");
  ok(lines[2].startsWith("predictor r 0.050 (mean per held-out image) against about 0.600"), lines[2]);
  ok(lines[2].includes("36.0 %"), lines[2]);
  ok(lines[3].startsWith("the predictor is too weak for guidance to mean anything"), lines[3]);
  equal(lines.length, 4);
});

Deno.test("context: a useful predictor draws no warning; a missing baseline names the command", () => {
  const lines = contextLines({
    accuracy: 0.5,
    classes: 4,
    baselineCommand: "deno task train --roi none",
    predictorR: 0.3,
    noiseCeiling: null,
  });
  equal(lines[0], "chance is 0.250 (4 classes): accuracy 0.500 is 2× chance");
  equal(lines[1], "no matched None baseline to compare with; train one: deno task train --roi none");
  equal(lines[2], "predictor r 0.300 (mean per held-out image; no noise ceiling recorded)");
  equal(lines.length, 3);
});

Deno.test("context: r just above 0.1 is still too weak when it is far below what the noise ceiling allows", () => {
  // The demo's predictor: r 0.101 against √0.427 ≈ 0.654; a quarter of that is 0.163.
  const lines = contextLines({ accuracy: 0.3, classes: 10, predictorR: 0.101, noiseCeiling: 42.7 });
  ok(lines.at(-1)!.includes("under a quarter of the 0.653 the noise ceiling allows"), lines.at(-1));
  // 0.2 is above a quarter of 0.653: no warning.
  const fine = contextLines({ accuracy: 0.3, classes: 10, predictorR: 0.2, noiseCeiling: 42.7 });
  ok(!fine.some((l) => l.includes("too weak")), fine.join("\n"));
});
