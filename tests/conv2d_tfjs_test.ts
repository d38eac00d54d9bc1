/**
 * Second oracle, slower: TensorFlow.js on its CPU backend (float32) computes the same convolutions, their input
 * and weight gradients (`tf.grads`) and a transposed matmul, independently of our float64 reference.
 */
import * as tf from "./reference/tfjs.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { Conv2d } from "../lib/ops/conv2d.ts";
import { Matmul } from "../lib/ops/matmul.ts";
import { Random } from "../lib/random.ts";
import { assertClose } from "../lib/testing/assert.ts";
import { randomTensor, runAndRead, sumTolerance } from "./harness.ts";
import { convOut, type ConvShape } from "./reference/conv.ts";

await tf.setBackend("cpu");

/** NCHW data as a tfjs NHWC tensor, and back. */
const toNhwc = (data: Float32Array, [n, c, h, w]: number[]) =>
  tf.tensor4d(data, [n, c, h, w]).transpose([0, 2, 3, 1]);
const fromNhwc = async (t: tf.Tensor) => new Float32Array(await t.transpose([0, 3, 1, 2]).data());

Deno.test("conv2d vs tfjs-cpu: forward, dx and dW (stride 1 and 2, padding 0, 1, 3)", async () => {
  const gpu = await getGpu();
  const random = new Random(21);
  const shapes: ConvShape[] = [
    { batch: 2, inChannels: 5, height: 9, width: 10, outChannels: 7, kernel: 3, stride: 1, padding: 1 },
    { batch: 3, inChannels: 4, height: 11, width: 9, outChannels: 6, kernel: 3, stride: 2, padding: 1 },
    { batch: 1, inChannels: 3, height: 15, width: 15, outChannels: 8, kernel: 7, stride: 2, padding: 3 },
    { batch: 2, inChannels: 8, height: 7, width: 7, outChannels: 5, kernel: 1, stride: 2, padding: 0 },
  ];
  for (const s of shapes) {
    const [oh, ow] = convOut(s);
    const x = randomTensor(random, s.batch * s.inChannels * s.height * s.width);
    const w = randomTensor(random, s.outChannels * s.inChannels * s.kernel ** 2);
    const dy = randomTensor(random, s.batch * s.outChannels * oh * ow);
    const conv = await Conv2d.create(gpu, { ...s, bias: false });
    const [xb, wb, dyb] = [x, w, dy].map((t) => gpu.upload(t));
    const y = gpu.buffer(dy.byteLength), dx = gpu.buffer(x.byteLength), dWeight = gpu.buffer(w.byteLength);
    const label = JSON.stringify(s);

    const xt = toNhwc(x, [s.batch, s.inChannels, s.height, s.width]);
    const wt = tf.tensor4d(w, [s.outChannels, s.inChannels, s.kernel, s.kernel]).transpose([
      2,
      3,
      1,
      0,
    ]) as tf.Tensor4D;
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s.stride, s.padding);
    const [dxT, dwT] = tf.grads(f)([xt, wt], toNhwc(dy, [s.batch, s.outChannels, oh, ow]));

    const taps = s.inChannels * s.kernel ** 2;
    assertClose(
      await runAndRead(gpu, conv.forward({ x: xb, weight: wb, y }), y, dy.length),
      await fromNhwc(f(xt, wt)),
      {
        ...sumTolerance(taps),
        label: `${label} y`,
      },
    );
    assertClose(
      await runAndRead(gpu, conv.backwardInput({ dy: dyb, weight: wb, dx }), dx, x.length),
      await fromNhwc(dxT),
      {
        ...sumTolerance(s.outChannels * s.kernel ** 2),
        label: `${label} dx`,
      },
    );
    const dwWant = new Float32Array(await dwT.transpose([3, 2, 0, 1]).data());
    assertClose(
      await runAndRead(gpu, conv.backwardParams({ x: xb, dy: dyb, dWeight }), dWeight, w.length),
      dwWant,
      {
        ...sumTolerance(s.batch * oh * ow),
        label: `${label} dW`,
      },
    );
  }
});

Deno.test("matmul vs tfjs-cpu: transposed operands", async () => {
  const gpu = await getGpu();
  const random = new Random(22);
  const [m, n, k] = [19, 23, 37];
  const a = randomTensor(random, m * k), b = randomTensor(random, k * n);
  const mm = await Matmul.create(gpu, { m, n, k, transA: true, transB: true });
  const c = gpu.buffer(m * n * 4);
  const got = await runAndRead(gpu, mm.run({ a: gpu.upload(a), b: gpu.upload(b), c }), c, m * n);
  const want = tf.matMul(tf.tensor2d(a, [k, m]), tf.tensor2d(b, [n, k]), true, true);
  assertClose(got, await want.data(), { ...sumTolerance(k), label: "matmul Aᵀ·Bᵀ" });
});
