/**
 * Robustness augmentation of the training batches: FGSM-RS stays inside the ε-ball and the box and raises the
 * model's cross-entropy over its random start (it climbs the loss, computed here on the host from the logits);
 * noise stays inside the ball; whole runs record the augmentation and keep per-epoch weights; bad flags are
 * usage errors.
 */
import { join } from "node:path";
import { readSafetensors } from "../lib/io/safetensors.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { createGuidedTrainer, type LabeledBatch } from "../lib/train/guided.ts";
import { trainGuidedRun } from "../lib/train/guided_run.ts";
import { createAugmenter } from "../lib/train/augment.ts";
import { crossEntropy } from "../lib/train/metrics.ts";
import { equal, ok } from "../lib/testing/assert.ts";
import { TINY_GUIDED, tinyClassificationData } from "./fixtures/world.ts";
import { runTask } from "./fixtures/run_task.ts";

const gpu = await getGpu();
const EPS = 8 / 255;

async function firstBatch(): Promise<LabeledBatch> {
  const data = await tinyClassificationData();
  try {
    for await (const batch of data.train(0, 8)) return batch;
    throw new Error("no training batch");
  } finally {
    data.close();
  }
}

Deno.test("augment: FGSM-RS stays in the ε-ball and the box and raises the loss; noise stays in the ball", async () => {
  const batch = await firstBatch();
  const trainer = await createGuidedTrainer(gpu, {
    arch: "resnet-tiny",
    classes: 4,
    imageSize: 16,
    batch: 8,
    roi: "none",
    alpha: 0,
    shuffle: false,
    predictorBatchNorm: "train",
    optimizer: { kind: "sgd", momentum: 0.9 },
    seed: 3,
    inputGrad: true,
  });
  const plan = trainer.plan;
  const loss = async (images: Float32Array) => {
    plan.setInput(images);
    gpu.submit(plan.forward("train"));
    return crossEntropy(await plan.read(plan.model.logits), batch.labels, 8, 4).sum;
  };
  const maxDelta = (a: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - batch.images[i])), 0);
  const inBox = (a: Float32Array) => a.every((v) => v >= 0 && v <= 1);

  const noise = await createAugmenter(gpu, plan, { kind: "noise", eps: EPS }, 0);
  trainer.load(batch);
  await noise(batch, 0, 0);
  const start = await plan.read(plan.model.graph.input);
  ok(maxDelta(start) <= EPS * (1 + 1e-6) && maxDelta(start) > EPS / 2, `noise: max |δ| ${maxDelta(start)}`);
  ok(inBox(start));

  // same seed, epoch and step: FGSM-RS starts from exactly that noise, then steps up the loss
  const fgsm = await createAugmenter(gpu, plan, { kind: "fgsm-rs", eps: EPS }, 0);
  trainer.load(batch);
  await fgsm(batch, 0, 0);
  const adversarial = await plan.read(plan.model.graph.input);
  ok(maxDelta(adversarial) <= EPS + 1e-6, `fgsm-rs: max |δ| ${maxDelta(adversarial)}`);
  ok(inBox(adversarial));
  const [atStart, atStep] = [await loss(start), await loss(adversarial)];
  ok(atStep > atStart, `CE after the step ${atStep} > at the random start ${atStart}`);
});

Deno.test("augment: a run records its augmentation and keeps every epoch's weights", async () => {
  const data = await tinyClassificationData();
  const out = join(await Deno.makeTempDir(), "fgsm");
  try {
    const { summary } = await trainGuidedRun(gpu, data, {
      ...TINY_GUIDED,
      out,
      epochs: 2,
      wd: 1e-4,
      augment: { kind: "fgsm-rs", eps: EPS },
      keepEpochs: true,
    });
    ok(Number.isFinite(summary.final.val_acc as number));
    equal(summary.augment?.kind, "fgsm-rs");
    const epoch = (k: number) => readSafetensors(join(out, "epochs", `epoch_${k}.safetensors`));
    const [initial, first] = [await epoch(0), await epoch(1)];
    ok(await epoch(2));
    // the ladder's floor: the weights before the first step (the first conv moved in epoch 1)
    equal(initial.metadata.epoch, "0");
    const conv = (f: typeof first) => f.tensors.get("conv1.weight")!.data as Float32Array;
    ok(conv(initial).some((w, i) => w !== conv(first)[i]), "epoch 0 differs from epoch 1");
  } finally {
    data.close();
  }
});

Deno.test("train task: bad --augment / --aug-eps are one-line usage errors", async () => {
  const cases: [string[], RegExp][] = [
    [["--augment", "blur"], /--augment: expected noise or fgsm-rs, got 'blur'/],
    [["--aug-eps", "0.01"], /--aug-eps applies to --augment noise\|fgsm-rs/],
    [["--augment", "noise", "--aug-eps", "2"], /--aug-eps/],
  ];
  for (const [argv, message] of cases) {
    const result = await runTask("train", [...argv, "--quiet"]);
    equal(result.code, 2, `${argv.join(" ")}: ${result.stderr}`);
    ok(message.test(result.stderr), `${argv.join(" ")}: ${result.stderr}`);
    equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  }
});
