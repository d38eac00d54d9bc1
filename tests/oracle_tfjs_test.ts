/**
 * Second oracle (slower: loads TensorFlow.js): BatchNorm train forward / backward, max-pool backward and
 * softmax cross-entropy against tfjs's cpu backend and its autodiff (`tf.grads`), independent of our
 * hand-derived references. tfjs computes in float32 too, so: rtol 1e-4, atol 1e-5 (values cancelling to ~0).
 */
import * as tf from "./reference/tfjs.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { BatchNorm2d } from "../lib/ops/batchnorm.ts";
import { SoftmaxCrossEntropy } from "../lib/ops/loss.ts";
import { MaxPool2d } from "../lib/ops/pool.ts";
import { assertClose, equal } from "../lib/testing/assert.ts";
import { f32, random, run, zeros } from "./reference/numeric.ts";

const TOL = { rtol: 1e-4, atol: 1e-5 };

async function cpuBackend(): Promise<void> {
  await tf.setBackend("cpu");
  await tf.ready();
}

const values = (t: tf.Tensor) => t.dataSync() as Float32Array;

Deno.test("tfjs oracle: batchnorm train forward and gradients (x 3×4×5×3)", async () => {
  await cpuBackend();
  const gpu = await getGpu();
  const [n, c, h, w] = [3, 4, 5, 3], count = n * c * h * w, eps = 1e-5;
  const x = random(count, 1, -1, 3),
    dy = random(count, 2),
    weight = random(c, 3, 0.5, 1.5),
    bias = random(c, 4);
  const bnTf = (xt: tf.Tensor, wt: tf.Tensor, bt: tf.Tensor) => {
    const { mean, variance } = tf.moments(xt, [0, 2, 3], true);
    const normalised = tf.div(tf.sub(xt, mean), tf.sqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(normalised, wt.reshape([1, c, 1, 1])), bt.reshape([1, c, 1, 1]));
  };
  const inputs = [
    tf.tensor4d(Float32Array.from(x), [n, c, h, w]),
    tf.tensor1d(Float32Array.from(weight)),
    tf.tensor1d(Float32Array.from(bias)),
  ];
  const yTf = bnTf(inputs[0], inputs[1], inputs[2]);
  const [dxTf, dwTf, dbTf] = tf.grads((a, b, d) => bnTf(a, b, d))(
    inputs,
    tf.tensor4d(Float32Array.from(dy), [n, c, h, w]),
  );

  const bn = await BatchNorm2d.create(gpu, { batch: n, channels: c, height: h, width: w, chunk: 8 });
  const b = {
    x: f32(gpu, x),
    dy: f32(gpu, dy),
    weight: f32(gpu, weight),
    bias: f32(gpu, bias),
    runningMean: zeros(gpu, c),
    runningVar: f32(gpu, Array(c).fill(1)),
    y: zeros(gpu, count),
    saveMean: zeros(gpu, c),
    saveInvStd: zeros(gpu, c),
    dx: zeros(gpu, count),
    dWeight: zeros(gpu, c),
    dBias: zeros(gpu, c),
  };
  const [y, dx, dW, dB] = await run(gpu, [...bn.forwardTrain(b), ...bn.backwardTrain(b)], [b.y, count], [
    b.dx,
    count,
  ], [
    b.dWeight,
    c,
  ], [b.dBias, c]);
  assertClose(y, values(yTf), { ...TOL, label: "y" });
  assertClose(dx, values(dxTf), { ...TOL, label: "dx" });
  assertClose(dW, values(dwTf), { ...TOL, label: "dWeight" });
  assertClose(dB, values(dbTf), { ...TOL, label: "dBias" });
});

Deno.test("tfjs oracle: maxpool 3×3 stride 2 pad 1 forward and backward (x 2×3×7×9)", async () => {
  await cpuBackend();
  const gpu = await getGpu();
  const [n, c, h, w] = [2, 3, 7, 9], count = n * c * h * w;
  const x = random(count, 5);
  const pool = await MaxPool2d.create(gpu, {
    batch: n,
    channels: c,
    height: h,
    width: w,
    kernel: 3,
    stride: 2,
    padding: 1,
  });
  const dy = random(pool.outCount, 6);
  // tfjs pools NHWC; a numeric pad is symmetric and skipped (−inf) like PyTorch's
  const toNhwc = (t: tf.Tensor4D) => tf.transpose(t, [0, 2, 3, 1]);
  const pooled = (t: tf.Tensor4D) => tf.transpose(tf.maxPool(toNhwc(t), 3, 2, 1), [0, 3, 1, 2]);
  const xt = tf.tensor4d(Float32Array.from(x), [n, c, h, w]);
  const yTf = pooled(xt);
  equal(yTf.shape.join(), [n, c, pool.outHeight, pool.outWidth].join());
  const dxTf = tf.grad((t) => pooled(t as tf.Tensor4D))(xt, tf.tensor(Float32Array.from(dy), yTf.shape));
  const b = {
    x: f32(gpu, x),
    y: zeros(gpu, pool.outCount),
    argmax: zeros(gpu, pool.outCount),
    dy: f32(gpu, dy),
    dx: zeros(gpu, count),
  };
  const [y, dx] = await run(gpu, [...pool.forward(b), ...pool.backward(b)], [b.y, pool.outCount], [
    b.dx,
    count,
  ]);
  assertClose(y, values(yTf), { ...TOL, label: "y" });
  assertClose(dx, values(dxTf), { ...TOL, label: "dx" });
});

Deno.test("tfjs oracle: softmax cross-entropy loss and dLogits (batch 7, classes 10)", async () => {
  await cpuBackend();
  const gpu = await getGpu();
  const [batch, classes] = [7, 10];
  const logits = random(batch * classes, 7, -4, 4);
  const labels = Uint32Array.from(random(batch, 8, 0, classes), Math.floor);
  const onehot = tf.oneHot(tf.tensor1d(Int32Array.from(labels), "int32"), classes);
  const lossTf = (z: tf.Tensor) => tf.losses.softmaxCrossEntropy(onehot, z, undefined, 0, tf.Reduction.MEAN);
  const zt = tf.tensor2d(Float32Array.from(logits), [batch, classes]);
  const ce = await SoftmaxCrossEntropy.create(gpu, { batch, classes });
  const b = {
    logits: f32(gpu, logits),
    labels: gpu.upload(labels),
    out: zeros(gpu, 2),
    dLogits: zeros(gpu, batch * classes),
  };
  const [out, dLogits] = await run(gpu, [...ce.forward(b), ...ce.backward(b)], [b.out, 2], [
    b.dLogits,
    batch * classes,
  ]);
  assertClose([out[0]], values(lossTf(zt)), { ...TOL, label: "loss" });
  assertClose(dLogits, values(tf.grad(lossTf)(zt)), { ...TOL, label: "dLogits" });
  const predicted = values(tf.argMax(zt, 1).cast("float32"));
  equal(out[1], Array.from(predicted).filter((k, r) => k === labels[r]).length);
});
