import { equal, ok } from "../lib/testing/assert.ts";
import { forwardMacsPerImage, softwareAdapterWarning } from "../lib/nn/cost.ts";
import { modelConfig } from "../lib/nn/models.ts";

Deno.test("cost: ResNet-18 at 224 px is torchvision's published 1.81 GFLOPS (multiply–accumulates)", () => {
  // torchvision's model table lists ResNet18_Weights.IMAGENET1K_V1 at 1.81 "GFLOPS", counted as MACs.
  const macs = forwardMacsPerImage(modelConfig("resnet18", { classes: 1000, imageSize: 224 }));
  ok(Math.abs(macs / 1e9 - 1.814) < 0.005, `${macs}`);
});

Deno.test("cost: a linear model's MACs are inputs × classes", () => {
  equal(forwardMacsPerImage(modelConfig("linear", { classes: 3, imageSize: 4, channels: 1 })), 16 * 3);
});

Deno.test("cost: the software-adapter warning gives the step cost and the run's range, only for long runs", () => {
  const paper = modelConfig("resnet18", { classes: 50, imageSize: 224 });
  const stepTflop = (6 * forwardMacsPerImage(paper) * 256) / 1e12; // forward + backward ≈ 3 forward passes
  const line = softwareAdapterWarning("cpu", "resnet18", paper, 256, 60 * 234);
  equal(softwareAdapterWarning("gpu", "resnet18", paper, 256, 60 * 234), undefined, "a GPU: no warning");
  ok(line?.includes(`${stepTflop.toFixed(2)} TFLOP per step of 256 images`), line);
  // 2.79 TFLOP at 0.6 and 0.2 GFLOP/s: 77 min and 3.9 h a step; the 14,040 steps: 2.1 and 6.2 years
  ok(line?.includes("77 min–4 h per step and 2.1 years–6.2 years for the 14040 steps"), line);
  // The controls grid's 2,511 small steps take hours here too, but they are this machine's work: no warning.
  equal(
    softwareAdapterWarning(
      "cpu",
      "resnet-tiny",
      modelConfig("resnet-tiny", { classes: 10, imageSize: 32 }),
      32,
      2511,
    ),
    undefined,
  );
});
