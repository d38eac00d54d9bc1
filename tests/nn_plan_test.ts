import { getGpu } from "../lib/gpu/device.ts";
import { type ModelConfig, modelConfig } from "../lib/nn/models.ts";
import { Plan } from "../lib/nn/plan.ts";
import { Random } from "../lib/random.ts";
import { tf, tfForward, tfWeights } from "./reference/tf_model.ts";
import { assertClose, deepStrictEqual, throws } from "../lib/testing/assert.ts";

const gpu = await getGpu();

function randomArray(random: Random, n: number, scale = 1, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, () => offset + scale * random.next());
}

/** Non-trivial BN statistics and affine parameters, so eval mode is not the identity. */
function perturbBatchNorm(weights: Map<string, Float32Array>, random: Random): void {
  for (const [name, data] of weights) {
    if (name.endsWith("running_mean")) data.forEach((_, i) => data[i] = 0.2 * (random.next() - 0.5));
    if (name.endsWith("running_var")) data.forEach((_, i) => data[i] = 0.5 + random.next());
    if (/bn\d\.weight|downsample\.1\.weight/.test(name)) {
      data.forEach((_, i) => data[i] = 0.5 + random.next());
    }
    if (/bn\d\.bias|downsample\.1\.bias/.test(name)) {
      data.forEach((_, i) => data[i] = 0.2 * (random.next() - 0.5));
    }
  }
}

async function compareWithTf(config: ModelConfig, batch: number, mode: "train" | "eval", tol: number) {
  const random = new Random(11);
  const plan = await Plan.create(gpu, config, batch, { inputGrad: true });
  plan.initialize(3);
  const weights = await plan.stateDict();
  perturbBatchNorm(weights, random);
  plan.loadStateDict(weights);
  const [, c, h, w] = plan.model.graph.input.shape;
  const images = randomArray(random, batch * c * h * w);
  const seed = randomArray(random, batch * config.classes, 2, -1); // dLoss/dLogits for loss = Σ logits·seed
  plan.setInput(images);
  gpu.write(plan.grad(plan.model.logits), seed);
  if (plan.model.neural) gpu.write(plan.grad(plan.model.neural), new Float32Array(batch * config.neuralDim!));
  gpu.submit([...plan.forward(mode), ...plan.backward(mode)]);
  const logits = await plan.read(plan.model.logits);
  const inputGrad = await gpu.readF32(plan.inputGrad, images.length);
  const weightName = config.arch === "resnet" ? "layer2.0.conv1.weight" : "fc.weight";
  const weightGrad = await gpu.readF32(plan.paramGrads.get(weightName)!);

  const shapes = new Map(plan.specs.map((s) => [s.name, s.shape]));
  const tw = tfWeights(weights, shapes);
  const x = tf.tensor4d(images, [batch, c, h, w]);
  const seedT = tf.tensor2d(seed, [batch, config.classes]);
  const loss = (xi: tf.Tensor4D, wi: tf.Tensor) => {
    const local = new Map(tw).set(weightName, wi);
    return tfForward(config, local, xi, mode).logits.mul(seedT).sum() as tf.Scalar;
  };
  const [gx, gw] = tf.grads((xi: tf.Tensor, wi: tf.Tensor) => loss(xi as tf.Tensor4D, wi))([
    x,
    tw.get(weightName)!,
  ]);
  assertClose(logits, tfForward(config, tw, x, mode).logits.dataSync(), {
    rtol: tol,
    atol: tol,
    label: "logits",
  });
  assertClose(inputGrad, gx.dataSync(), { rtol: tol, atol: tol, label: "input gradient" });
  assertClose(weightGrad.subarray(0, gw.size), gw.dataSync(), {
    rtol: tol,
    atol: tol,
    label: `${weightName} gradient`,
  });
}

// fp32 on both sides, sums of a few hundred terms and batch statistics: 1e-3 absolute/relative is the stated bound.
for (const mode of ["train", "eval"] as const) {
  Deno.test(`plan: linear model logits and gradients match tfjs (${mode})`, async () => {
    await compareWithTf(modelConfig("linear", { classes: 5, imageSize: 7, channels: 3 }), 3, mode, 1e-4);
  });
  Deno.test(`plan: mlp logits and gradients match tfjs (${mode})`, async () => {
    await compareWithTf(modelConfig("mlp", { classes: 4, imageSize: 6, channels: 2 }), 2, mode, 1e-4);
  });
  Deno.test(`plan: small ResNet (cifar stem) logits and gradients match tfjs (${mode})`, async () => {
    const config = modelConfig("resnet-tiny", { classes: 6, imageSize: 16, neuralDim: 3 });
    await compareWithTf({ ...config, widths: [4, 8, 8, 16] } as ModelConfig, 3, mode, 1e-3);
  });
}

Deno.test("plan: ResNet with the ImageNet stem (7×7/2 conv + max-pool) matches tfjs in train mode", async () => {
  const config = modelConfig("resnet18", { classes: 3, imageSize: 32 });
  await compareWithTf(
    { ...config, widths: [4, 4, 8, 8], blocks: [1, 1, 1, 1] } as ModelConfig,
    2,
    "train",
    1e-3,
  );
});

Deno.test("plan: state dict round trip and clear load errors", async () => {
  const config = modelConfig("mlp", { classes: 3, imageSize: 4, channels: 1 });
  const plan = await Plan.create(gpu, config, 2);
  plan.initialize(1);
  const state = await plan.stateDict();
  const other = await Plan.create(gpu, config, 2);
  other.loadStateDict(state);
  deepStrictEqual(await other.stateDict(), state);
  throws(
    () => other.loadStateDict(new Map([...state].filter(([n]) => n !== "fc.bias"))),
    /missing tensor 'fc.bias'/,
  );
  throws(
    () => other.loadStateDict(new Map(state).set("fc.bias", new Float32Array(2))),
    /'fc.bias' has 2 values/,
  );
  throws(
    () => other.loadStateDict(new Map(state).set("extra", new Float32Array(1))),
    /unexpected tensor 'extra'/,
  );
  throws(() => other.setInput(new Float32Array(5)), /got 5 values, the model takes \[2,1,4,4\]/);
});
