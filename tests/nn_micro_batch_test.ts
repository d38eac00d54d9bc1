import { getGpu } from "../lib/gpu/device.ts";
import { largestFittingBatch, microBatching } from "../lib/nn/micro_batch.ts";
import { type ModelConfig, modelConfig } from "../lib/nn/models.ts";
import { Plan } from "../lib/nn/plan.ts";
import { type StepLosses, TrainStep } from "../lib/nn/train_step.ts";
import { Random } from "../lib/random.ts";
import { assertClose, deepStrictEqual, equal, throws } from "../lib/testing/assert.ts";

const gpu = await getGpu();

Deno.test("micro-batch: the paper's ResNet-18 at 224 px, batch 256, on a 128 MiB binding runs 8 × 32", () => {
  // The largest tensor is conv1's output, 64 × 112 × 112 floats = 3 211 264 bytes per image; 128 MiB holds 41
  // images, and the largest divisor of 256 up to 41 is 32.
  const config = modelConfig("resnet18", { classes: 1000, imageSize: 224 });
  equal(largestFittingBatch([config], 134217728), 41);
  deepStrictEqual(microBatching([config], 256, 134217728), { size: 32, count: 8 });
  // A batch that fits is not split.
  deepStrictEqual(microBatching([config], 40, 134217728), { size: 40, count: 1 });
  // An MLP's largest tensor is its 256-wide hidden layer (1 KiB per image): 5 KiB holds 5, 12 splits 3 × 4.
  const mlp = modelConfig("mlp", { classes: 3, imageSize: 4, channels: 1 });
  deepStrictEqual(microBatching([mlp], 12, 5 * 1024), { size: 4, count: 3 });
  throws(() => microBatching([mlp], 12, 1000), /storage binding limit of 1000 bytes; use a smaller --size/);
});

/** Writes `images`/`labels`/`targets` rows [micro·m, (micro+1)·m) into the step's buffers. */
function loader(plan: Plan, step: TrainStep, data: Batch) {
  const m = plan.batch, perImage = data.images.length / data.labels.length;
  const k = data.targets.length / data.labels.length;
  return (micro: number) => {
    plan.setInput(data.images.subarray(micro * m * perImage, (micro + 1) * m * perImage));
    gpu.write(step.labels, data.labels.subarray(micro * m, (micro + 1) * m));
    gpu.write(step.target, data.targets.subarray(micro * m * k, (micro + 1) * m * k));
  };
}

interface Batch {
  images: Float32Array;
  labels: Uint32Array;
  targets: Float32Array;
}

function randomBatch(seed: number, batch: number, perImage: number, classes: number, k: number): Batch {
  const random = new Random(seed);
  return {
    images: Float32Array.from({ length: batch * perImage }, () => random.next()),
    labels: Uint32Array.from({ length: batch }, () => random.int(classes)),
    targets: Float32Array.from({ length: batch * k }, () => random.normal()),
  };
}

Deno.test("micro-batch: without BatchNorm, a step of 2 micro-batches equals the full-batch step", async () => {
  // Guided objective (CE + MSE to a target) with SGD momentum and weight decay, two steps so the momentum buffer
  // carries the accumulated gradient. Every loss is a mean over rows, so the mean of the two micro-batch
  // gradients is the full-batch gradient: the parameters must agree to float rounding.
  const batch = 8, classes = 3, k = 2;
  const config = modelConfig("mlp", { classes, imageSize: 2, channels: 1, neuralDim: k });
  const optimizer = { kind: "sgd", momentum: 0.9, weightDecay: 1e-3 } as const;
  const objective = { kind: "guide", alpha: 0.5 } as const;
  const data = [randomBatch(1, batch, 4, classes, k), randomBatch(2, batch, 4, classes, k)];

  const full = await Plan.create(gpu, config, batch);
  full.initialize(3);
  const fullStep = await TrainStep.create(gpu, full, optimizer, objective);
  for (const d of data) await fullStep.run(0.1, loader(full, fullStep, d));
  const fullLosses = await fullStep.flush();

  // The test hook lowers the binding limit batches are planned for, so that only 4 images fit (256 hidden
  // floats per image).
  gpu.limitBindings(4 * 256 * 4);
  try {
    const micro = microBatching([config], batch, gpu.bindingLimit);
    deepStrictEqual(micro, { size: 4, count: 2 });
    const split = await Plan.create(gpu, config, micro.size);
    split.initialize(3);
    const splitStep = await TrainStep.create(gpu, split, optimizer, objective, undefined, micro.count);
    equal(splitStep.batch, batch);
    for (const d of data) await splitStep.run(0.1, loader(split, splitStep, d));
    const splitLosses = await splitStep.flush();
    const fields = (l: StepLosses[]) => l.flatMap((s) => [s.total, s.ce, s.mse, s.correct]);
    assertClose(fields(splitLosses), fields(fullLosses), { rtol: 1e-5, label: "losses" });
    const expected = await full.stateDict();
    for (const [name, values] of await split.stateDict()) {
      assertClose(values, expected.get(name)!, { rtol: 1e-4, atol: 1e-6, label: name });
    }
  } finally {
    gpu.limitBindings(null);
  }
});

Deno.test("micro-batch: with BatchNorm, the step applies the mean of per-micro-batch gradients (float64 reference)", async () => {
  // Train-mode BatchNorm normalises each micro-batch with its own statistics (PyTorch's gradient accumulation
  // does the same), so the reference is not the full-batch step: it is two independent batch-4 backward passes,
  // their gradients averaged in float64 on the CPU, applied by plain SGD.
  const micro = 4, classes = 3, size = 4, lr = 0.1;
  const config = {
    ...modelConfig("resnet-tiny", { classes, imageSize: size }),
    widths: [4, 4, 4, 4],
  } as ModelConfig;
  const data = randomBatch(7, 2 * micro, 3 * size * size, classes, 1);
  const objective = { kind: "guide", alpha: 0 } as const;

  const reference = await Plan.create(gpu, config, micro);
  reference.initialize(11);
  const initial = await reference.stateDict();
  // lr 0: the passes leave the weights alone; each run leaves that micro-batch's gradient in paramGrads.
  const probe = await TrainStep.create(gpu, reference, { kind: "sgd" }, objective);
  const load = loader(reference, probe, data);
  const mean = new Map<string, Float64Array>();
  for (const m of [0, 1]) {
    await probe.run(0, () => load(m));
    for (const [name, buffer] of reference.paramGrads) {
      const grad = await gpu.readF32(buffer, initial.get(name)!.length);
      const sum = mean.get(name) ?? new Float64Array(grad.length);
      grad.forEach((g, i) => sum[i] += g / 2);
      mean.set(name, sum);
    }
  }
  const referenceState = await reference.stateDict();

  const split = await Plan.create(gpu, config, micro);
  split.initialize(11);
  const step = await TrainStep.create(gpu, split, { kind: "sgd" }, objective, undefined, 2);
  await step.run(lr, loader(split, step, data));
  await step.flush();
  const after = await split.stateDict();
  for (const [name, values] of after) {
    const grad = mean.get(name);
    // Trainable tensors moved by −lr·mean gradient; BN running statistics took one momentum update per
    // micro-batch, as the reference's two forwards did.
    const expected = grad ? initial.get(name)!.map((p, i) => p - lr * grad[i]) : referenceState.get(name)!;
    assertClose(values, expected, { rtol: 1e-4, atol: 1e-6, label: name });
  }
  let norm = 0;
  for (const g of mean.values()) for (const v of g) norm += v * v;
  assertClose([await step.gradientNorm()], [Math.sqrt(norm)], { rtol: 1e-4, label: "gradient norm" });
});
