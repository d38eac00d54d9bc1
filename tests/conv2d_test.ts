import { getGpu } from "../lib/gpu/device.ts";
import { Conv2d } from "../lib/ops/conv2d.ts";
import { ShapeError } from "../lib/ops/shape.ts";
import { Random } from "../lib/random.ts";
import { assertClose, equal, ok, rejects, throws } from "../lib/testing/assert.ts";
import { checkFiniteDifferences, randomTensor, runAndRead, sumTolerance } from "./harness.ts";
import { conv2dGradRef, conv2dRef, convOut, type ConvShape } from "./reference/conv.ts";

/** Small shapes covering ResNet's kinds of layer: stem, 3×3 stride 1/2, 1×1 stride-2 downsample, odd sizes. */
const SHAPES: (ConvShape & { bias: boolean })[] = [
  {
    batch: 1,
    inChannels: 1,
    height: 1,
    width: 1,
    outChannels: 1,
    kernel: 1,
    stride: 1,
    padding: 0,
    bias: false,
  },
  {
    batch: 2,
    inChannels: 3,
    height: 11,
    width: 13,
    outChannels: 5,
    kernel: 3,
    stride: 1,
    padding: 1,
    bias: true,
  },
  {
    batch: 3,
    inChannels: 6,
    height: 9,
    width: 7,
    outChannels: 10,
    kernel: 3,
    stride: 2,
    padding: 1,
    bias: false,
  },
  {
    batch: 2,
    inChannels: 3,
    height: 19,
    width: 17,
    outChannels: 9,
    kernel: 7,
    stride: 2,
    padding: 3,
    bias: false,
  },
  {
    batch: 2,
    inChannels: 12,
    height: 7,
    width: 9,
    outChannels: 17,
    kernel: 1,
    stride: 2,
    padding: 0,
    bias: true,
  },
  {
    batch: 1,
    inChannels: 5,
    height: 6,
    width: 5,
    outChannels: 3,
    kernel: 3,
    stride: 1,
    padding: 0,
    bias: false,
  },
  {
    batch: 4,
    inChannels: 16,
    height: 8,
    width: 8,
    outChannels: 16,
    kernel: 3,
    stride: 1,
    padding: 1,
    bias: false,
  },
];

async function checkConv(
  variant: "cpu" | "gpu",
  s: ConvShape & { bias: boolean },
  seed: number,
): Promise<void> {
  const gpu = await getGpu();
  const random = new Random(seed);
  const conv = await Conv2d.create(gpu, { ...s, variant });
  const [oh, ow] = convOut(s);
  equal(conv.outHeight, oh);
  equal(conv.outWidth, ow);
  const x = randomTensor(random, s.batch * s.inChannels * s.height * s.width);
  const w = randomTensor(random, s.outChannels * s.inChannels * s.kernel ** 2);
  const b = randomTensor(random, s.outChannels);
  const dy = randomTensor(random, s.batch * s.outChannels * oh * ow);
  const dx0 = randomTensor(random, x.length);
  const [xb, wb, bb, dyb] = [x, w, b, dy].map((t) => gpu.upload(t));
  const label = `${variant} ${JSON.stringify(s)}`;
  const taps = s.inChannels * s.kernel ** 2;

  const y = gpu.buffer(dy.byteLength);
  const yGot = await runAndRead(
    gpu,
    conv.forward({ x: xb, weight: wb, bias: s.bias ? bb : undefined, y }),
    y,
    dy.length,
  );
  assertClose(yGot, conv2dRef(s, x, w, s.bias ? b : undefined), {
    ...sumTolerance(taps),
    label: `${label} y`,
  });

  const want = conv2dGradRef(s, x, w, dy);
  const dxTerms = s.outChannels * s.kernel ** 2;
  const dx = gpu.upload(dx0);
  const dxAdd = await runAndRead(gpu, conv.backwardInput({ dy: dyb, weight: wb, dx }, true), dx, x.length);
  assertClose(dxAdd, want.dx.map((v, i) => v + dx0[i]), {
    ...sumTolerance(dxTerms),
    label: `${label} dx +=`,
  });
  const dxSet = await runAndRead(gpu, conv.backwardInput({ dy: dyb, weight: wb, dx }), dx, x.length);
  assertClose(dxSet, want.dx, { ...sumTolerance(dxTerms), label: `${label} dx` });

  const dWeight = gpu.buffer(w.byteLength), dBias = gpu.buffer(b.byteLength);
  const params = conv.backwardParams({ x: xb, dy: dyb, dWeight, dBias: s.bias ? dBias : undefined });
  const dwGot = await runAndRead(gpu, params, dWeight, w.length);
  const dwTerms = s.batch * oh * ow;
  assertClose(dwGot, want.dw, { ...sumTolerance(dwTerms), label: `${label} dW` });
  if (s.bias) {
    assertClose(await gpu.readF32(dBias, b.length), want.dBias, {
      ...sumTolerance(dwTerms),
      label: `${label} dBias`,
    });
  }
}

Deno.test("conv2d: cpu variant forward, dx (set and +=), dW and dBias match the float64 reference", async () => {
  for (const [i, s] of SHAPES.entries()) await checkConv("cpu", s, i);
});

Deno.test("conv2d: gpu (workgroup-tiled) variant matches the reference too", async () => {
  for (const i of [1, 2, 3, 4]) await checkConv("gpu", SHAPES[i], 100 + i);
});

Deno.test("conv2d: a long weight-gradient reduction is split over z and summed", async () => {
  // batch·oh = 64 rows: enough for the split-K path (several slices) on either variant
  const s = {
    batch: 8,
    inChannels: 4,
    height: 8,
    width: 8,
    outChannels: 8,
    kernel: 3,
    stride: 1,
    padding: 1,
    bias: true,
  };
  await checkConv("cpu", s, 5);
  await checkConv("gpu", s, 6);
});

Deno.test("conv2d reference: gradients agree with central finite differences", () => {
  const random = new Random(9);
  for (const s of [SHAPES[2], SHAPES[3]]) {
    const [oh, ow] = convOut(s);
    const x = randomTensor(random, s.batch * s.inChannels * s.height * s.width);
    const w = randomTensor(random, s.outChannels * s.inChannels * s.kernel ** 2);
    const b = randomTensor(random, s.outChannels);
    const r = randomTensor(random, s.batch * s.outChannels * oh * ow);
    const loss = (xx: ArrayLike<number>, ww: ArrayLike<number>, bb: ArrayLike<number>) =>
      conv2dRef(s, xx, ww, bb).reduce((sum, v, i) => sum + v * r[i], 0);
    const grad = conv2dGradRef(s, x, w, r);
    checkFiniteDifferences((p) => loss(p, w, b), x, grad.dx, { label: "dx" });
    checkFiniteDifferences((p) => loss(x, p, b), w, grad.dw, { label: "dW" });
    checkFiniteDifferences((p) => loss(x, w, p), b, grad.dBias, { label: "dBias" });
  }
});

/** ResNet-18's distinct conv layers at input size `size`: [in, out, kernel, stride, padding, input height]. */
function resnet18Layers(size: number): [number, number, number, number, number, number][] {
  const s = size / 4; // after the stem and max-pool
  return [
    [3, 64, 7, 2, 3, size],
    [64, 64, 3, 1, 1, s],
    [64, 128, 3, 2, 1, s],
    [128, 128, 3, 1, 1, s / 2],
    [64, 128, 1, 2, 0, s],
    [128, 256, 3, 2, 1, s / 2],
    [256, 256, 3, 1, 1, s / 4],
    [128, 256, 1, 2, 0, s / 2],
    [256, 512, 3, 2, 1, s / 4],
    [512, 512, 3, 1, 1, s / 8],
    [256, 512, 1, 2, 0, s / 4],
  ];
}

Deno.test("conv2d: every ResNet-18 layer builds at batch 1 and 256 (32 px) and 32 (224 px); too big is a ShapeError", async () => {
  const gpu = await getGpu();
  // the largest activation: the stem's output at 224 px, batch 32 (98 MiB)
  const big = gpu.buffer(32 * 64 * 112 * 112 * 4, "resnet-big-in");
  const bigOut = gpu.buffer(big.size, "resnet-big-out");
  const weightBuffers = new Map<number, GPUBuffer>();
  const weights = (count: number) => {
    if (!weightBuffers.has(count)) weightBuffers.set(count, gpu.buffer(count * 4));
    return weightBuffers.get(count)!;
  };
  for (const [size, batches] of [[32, [1, 256]], [224, [32]]] as const) {
    for (const batch of batches) {
      for (const [inChannels, outChannels, kernel, stride, padding, height] of resnet18Layers(size)) {
        const conv = await Conv2d.create(gpu, {
          batch,
          inChannels,
          outChannels,
          kernel,
          stride,
          padding,
          height,
          width: height,
          bias: false,
        });
        equal(conv.outHeight, Math.floor((height + 2 * padding - kernel) / stride) + 1);
        // binding checks the grids against the 65535-per-dimension limit (nothing is dispatched)
        const [inMap, outMap] = [inChannels * height ** 2, outChannels * conv.outHeight ** 2].map((n) =>
          batch * n
        );
        ok(inMap * 4 <= big.size && outMap * 4 <= big.size);
        const w = weights(outChannels * inChannels * kernel ** 2);
        conv.forward({ x: big, weight: w, y: bigOut });
        conv.backwardInput({ dy: big, weight: w, dx: bigOut }, true);
        conv.backwardParams({ x: big, dy: bigOut, dWeight: w });
      }
    }
  }
  // the stem's output at 224 px and batch 64 is 64·64·112·112 floats = 196 MiB, over llvmpipe's 128 MiB
  await rejects(
    Conv2d.create(gpu, {
      batch: 64,
      inChannels: 3,
      outChannels: 64,
      kernel: 7,
      stride: 2,
      padding: 3,
      height: 224,
      width: 224,
      bias: false,
    }),
    (e: Error) => e instanceof ShapeError && /output \[64, 64, 112, 112\].*split the batch/.test(e.message),
  );
  big.destroy();
  bigOut.destroy();
  await gpu.sync();
});

Deno.test("conv2d: shape mismatches are ShapeErrors naming both shapes", async () => {
  const gpu = await getGpu();
  const base = {
    batch: 2,
    inChannels: 3,
    height: 8,
    width: 8,
    outChannels: 4,
    kernel: 3,
    stride: 1,
    padding: 1,
    bias: false,
  };
  await rejects(
    Conv2d.create(gpu, { ...base, weightShape: [4, 5, 3, 3] }),
    (e: Error) =>
      e instanceof ShapeError && /weight \[4, 5, 3, 3\]/.test(e.message) &&
      /input \[2, 3, 8, 8\]/.test(e.message),
  );
  await rejects(
    Conv2d.create(gpu, { ...base, height: 2, width: 2, padding: 0 }),
    (e: Error) => e instanceof ShapeError && /\[2, 3, 2, 2\].*3×3 kernel/.test(e.message),
  );
  const conv = await Conv2d.create(gpu, base);
  const x = gpu.buffer(2 * 3 * 64 * 4), y = gpu.buffer(2 * 4 * 64 * 4);
  // a weight buffer made for 2 input channels is too small for this layer's [4, 3, 3, 3]
  throws(
    () => conv.forward({ x, weight: gpu.buffer(4 * 2 * 9 * 4), y }),
    (e: Error) =>
      e instanceof ShapeError && /weight buffer holds 72 floats, too few for \[4, 3, 3, 3\]/.test(e.message),
  );
});
