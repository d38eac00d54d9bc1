import { getGpu } from "../lib/gpu/device.ts";
import { type ModelConfig, modelConfig } from "../lib/nn/models.ts";
import { Plan } from "../lib/nn/plan.ts";
import { NonFiniteLossError, TrainStep } from "../lib/nn/train_step.ts";
import { Random } from "../lib/random.ts";
import { assertClose, ok, rejects } from "../lib/testing/assert.ts";

const gpu = await getGpu();

Deno.test("train step: a small ResNet overfits 64 random-labelled images (≥ 95% train accuracy)", async () => {
  const random = new Random(5);
  const batch = 64, classes = 4, size = 8;
  const base = modelConfig("resnet-tiny", { classes, imageSize: size });
  const config = { ...base, widths: [8, 16, 16, 32] } as ModelConfig;
  const plan = await Plan.create(gpu, config, batch);
  plan.initialize(0);
  const step = await TrainStep.create(gpu, plan, { kind: "adam" }, { kind: "guide", alpha: 0 });
  plan.setInput(Float32Array.from({ length: batch * 3 * size * size }, () => random.next()));
  gpu.write(step.labels, Uint32Array.from({ length: batch }, () => random.int(classes)));
  let last = { correct: 0, total: Infinity };
  for (let i = 0; i < 150 && last.correct < batch; i++) {
    await step.run(i < 100 ? 3e-3 : 1e-3);
    if (i % 10 === 9) last = (await step.flush()).at(-1)!;
  }
  const final = (await step.flush()).at(-1) ?? last;
  ok(final.correct / batch >= 0.95, `train accuracy ${final.correct / batch} (loss ${final.total})`);
});

Deno.test("train step: regression loss is Σ(pred − target)²/batch and SGD moves fc.bias by −lr·∂L/∂b", async () => {
  const random = new Random(9);
  const batch = 3, k = 5;
  const config = modelConfig("linear", { classes: k, imageSize: 4, channels: 1 });
  const plan = await Plan.create(gpu, config, batch);
  plan.initialize(2);
  const step = await TrainStep.create(gpu, plan, { kind: "sgd" }, { kind: "regress" });
  const target = Float32Array.from({ length: batch * k }, () => random.normal());
  plan.setInput(Float32Array.from({ length: batch * 16 }, () => random.next()));
  gpu.write(step.target, target);
  gpu.submit(plan.forward("train"));
  const pred = await plan.read(plan.model.logits);
  const biasBefore = (await plan.stateDict()).get("fc.bias")!;
  const lr = 0.05;
  await step.run(lr);
  const [losses] = await step.flush();
  let expected = 0;
  const biasGrad = new Float64Array(k);
  for (let i = 0; i < batch * k; i++) {
    const d = pred[i] - target[i];
    expected += d * d / batch;
    biasGrad[i % k] += 2 * d / batch;
  }
  assertClose([losses.total], [expected], { rtol: 1e-5, label: "loss" });
  assertClose([losses.mse], [expected / k], { rtol: 1e-5, label: "per-element mse" });
  const biasAfter = (await plan.stateDict()).get("fc.bias")!;
  assertClose(biasAfter, biasBefore.map((b, i) => b - lr * biasGrad[i]), {
    rtol: 1e-5,
    atol: 1e-6,
    label: "fc.bias",
  });
});

Deno.test("train step: a non-finite loss stops training and names the step", async () => {
  const batch = 2;
  const config = modelConfig("mlp", { classes: 3, imageSize: 4, channels: 1, neuralDim: 2 });
  const plan = await Plan.create(gpu, config, batch);
  plan.initialize(1);
  const step = await TrainStep.create(gpu, plan, { kind: "sgd", momentum: 0.9 }, {
    kind: "guide",
    alpha: 0.5,
  });
  const images = new Float32Array(batch * 16).fill(0.5);
  plan.setInput(images);
  for (let i = 0; i < 3; i++) await step.run(0.01);
  images[7] = NaN;
  plan.setInput(images);
  await step.run(0.01);
  await rejects(step.flush(), (e: Error) => e instanceof NonFiniteLossError && /at step 4\b/.test(e.message));
});
