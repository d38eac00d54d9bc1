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

Deno.test("train step: two views of a batch, CE on x and MSE on x′, update by (1 − α)·∇CE(x) + α·∇MSE(x′)", async () => {
  // the reference: the same start trained one pass on each view alone (α 0: CE only; α 1: MSE only)
  const random = new Random(13);
  const batch = 4, alpha = 0.3, lr = 0.1;
  const config = modelConfig("mlp", { classes: 3, imageSize: 2, channels: 1, neuralDim: 2 });
  const image = () => Float32Array.from({ length: batch * 4 }, () => random.next());
  const x = image(), perturbed = image();
  const labels = Uint32Array.from({ length: batch }, () => random.int(3));
  const target = Float32Array.from({ length: batch * 2 }, () => random.normal());
  const trained = async (views: number, setup: (step: TrainStep, plan: Plan) => (view: number) => void) => {
    const plan = await Plan.create(gpu, config, batch);
    plan.initialize(4);
    const step = await TrainStep.create(
      gpu,
      plan,
      { kind: "sgd" },
      { kind: "guide", alpha },
      undefined,
      views,
      views,
    );
    gpu.write(step.labels, labels);
    gpu.write(step.target, target);
    const before = await plan.stateDict();
    await step.run(lr, setup(step, plan));
    const [losses] = await step.flush();
    const after = await plan.stateDict();
    return {
      step,
      losses,
      delta: new Map([...after].map(([k, v]) => [k, v.map((a, i) => a - before.get(k)![i])])),
    };
  };
  const single = (a: number, input: Float32Array) =>
    trained(1, (step, plan) => {
      step.setAlpha(a);
      return () => plan.setInput(input);
    });
  const ce = await single(0, x), mse = await single(1, perturbed);
  const both = await trained(2, (step, plan) => (view) => {
    plan.setInput(view === 0 ? x : perturbed);
    step.setPassLoss(view === 0 ? 0 : 1, 2 * (view === 0 ? 1 - alpha : alpha));
  });
  for (const [name, delta] of both.delta) {
    const expected = delta.map((_, i) =>
      (1 - alpha) * ce.delta.get(name)![i] + alpha * mse.delta.get(name)![i]
    );
    assertClose(delta, expected, { rtol: 1e-4, atol: 1e-7, label: name });
  }
  ok([...ce.delta.values()].some((d) => d.some((v) => v !== 0)), "the reference steps move the weights");
  // the logged step: the views' mean loss and accuracy, over the batch's images (not twice as many)
  assertClose([both.losses.total], [(ce.losses.total + mse.losses.total) / 2], {
    rtol: 1e-5,
    label: "total",
  });
  assertClose([both.losses.correct], [(ce.losses.correct + mse.losses.correct) / 2], { label: "correct" });
  ok(both.step.batch === batch, `batch ${both.step.batch}`);
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
