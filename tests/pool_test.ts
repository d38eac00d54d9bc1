import { getGpu } from "../lib/gpu/device.ts";
import { AdaptiveAvgPool2d, GlobalAvgPool, MaxPool2d } from "../lib/ops/pool.ts";
import { ShapeError } from "../lib/ops/shape.ts";
import { assertClose, deepStrictEqual, equal, rejects, throws } from "../lib/testing/assert.ts";
import { dot, f32, finiteDifference, random, run, zeros } from "./reference/numeric.ts";
import {
  adaptiveAvgPool,
  adaptiveAvgPoolBackward,
  maxPool,
  maxPoolBackward,
  type Shape4,
} from "./reference/nn.ts";

// Max pooling selects and gathers: exact except for the fp32 sum of overlapping windows' dy; means divide
// fp32 sums of a few values.
const TOL = { rtol: 1e-5, atol: 1e-6 };

const CASES: [Shape4, number, number, number][] = [
  [{ n: 1, c: 2, h: 7, w: 5 }, 3, 2, 1], // ResNet stem geometry: overlapping windows
  [{ n: 3, c: 3, h: 9, w: 7 }, 3, 2, 1],
  [{ n: 2, c: 1, h: 6, w: 6 }, 2, 2, 0],
  [{ n: 2, c: 2, h: 5, w: 6 }, 3, 1, 1],
];

for (const [s, kernel, stride, padding] of CASES) {
  Deno.test(`maxpool: forward, argmax, backward (x ${s.n}×${s.c}×${s.h}×${s.w}, k${kernel} s${stride} p${padding}, ties)`, async () => {
    const gpu = await getGpu();
    const count = s.n * s.c * s.h * s.w;
    // quantised values make ties common; the first maximum in window order must win
    const x = random(count, kernel * 10 + s.n, -2, 2).map((v) => Math.round(v * 2) / 2);
    const pool = await MaxPool2d.create(gpu, {
      batch: s.n,
      channels: s.c,
      height: s.h,
      width: s.w,
      kernel,
      stride,
      padding,
    });
    const ref = maxPool(x, s, kernel, stride, padding);
    equal(pool.outHeight, ref.outHeight);
    equal(pool.outWidth, ref.outWidth);
    const dy = random(pool.outCount, 3), prior = random(count, 4);
    const b = {
      x: f32(gpu, x),
      y: zeros(gpu, pool.outCount),
      argmax: zeros(gpu, pool.outCount),
      dy: f32(gpu, dy),
    };
    const dx = zeros(gpu, count), dxAcc = f32(gpu, prior);
    gpu.submit([
      ...pool.forward(b),
      ...pool.backward({ ...b, dx }),
      ...pool.backward({ ...b, dx: dxAcc }, true),
    ]);
    const y = await gpu.readF32(b.y, pool.outCount);
    const argmax = new Uint32Array(await gpu.read(b.argmax, pool.outCount * 4));
    const [grad, gradAcc] = [await gpu.readF32(dx, count), await gpu.readF32(dxAcc, count)];
    assertClose(y, ref.y, { ...TOL, label: "y" });
    deepStrictEqual(Array.from(argmax), Array.from(ref.argmax));
    const dref = maxPoolBackward(dy, ref.argmax, s, ref.outHeight * ref.outWidth);
    assertClose(grad, dref, { ...TOL, label: "dx" });
    assertClose(gradAcc, dref.map((v, i) => v + prior[i]), { ...TOL, label: "dx accumulated" });
  });
}

Deno.test("maxpool: NaN propagates to every window that covers it, as in PyTorch", async () => {
  const gpu = await getGpu();
  const s = { n: 1, c: 1, h: 5, w: 5 };
  const x = random(25, 11);
  x[6] = NaN; // (1, 1): inside 4 overlapping windows
  const pool = await MaxPool2d.create(gpu, {
    batch: 1,
    channels: 1,
    height: 5,
    width: 5,
    kernel: 3,
    stride: 2,
    padding: 1,
  });
  const y = zeros(gpu, pool.outCount), argmax = zeros(gpu, pool.outCount);
  const [out] = await run(gpu, pool.forward({ x: f32(gpu, x), y, argmax }), [y, pool.outCount]);
  const ref = maxPool(x, s, 3, 2, 1).y;
  deepStrictEqual(Array.from(out, Number.isNaN), Array.from(ref, Number.isNaN));
  equal(Array.from(ref, Number.isNaN).filter(Boolean).length, 4);
});

Deno.test("maxpool reference: backward matches central differences (distinct values)", () => {
  const s = { n: 2, c: 1, h: 5, w: 5 };
  const x = random(50, 9); // distinct values, so the max is differentiable
  const ref = maxPool(x, s, 3, 2, 1);
  const dy = random(ref.y.length, 10);
  const grad = maxPoolBackward(dy, ref.argmax, s, ref.outHeight * ref.outWidth);
  assertClose(grad, finiteDifference((v) => dot(maxPool(v, s, 3, 2, 1).y, dy), x), {
    rtol: 1e-6,
    atol: 1e-6,
  });
});

for (
  const [s, size] of [[{ n: 1, c: 3, h: 4, w: 8 }, 2], [{ n: 3, c: 2, h: 8, w: 8 }, 4], [{
    n: 2,
    c: 3,
    h: 3,
    w: 5,
  }, 1]] as const
) {
  Deno.test(`avgpool: adaptive ${size}×${size} forward and backward (x ${s.n}×${s.c}×${s.h}×${s.w}), checked by differences`, async () => {
    const gpu = await getGpu();
    const count = s.n * s.c * s.h * s.w;
    const x = random(count, 20 + size), options = { batch: s.n, channels: s.c, height: s.h, width: s.w };
    const pool = size === 1
      ? await GlobalAvgPool.create(gpu, options)
      : await AdaptiveAvgPool2d.create(gpu, { ...options, size });
    const dy = random(pool.outCount, 21), prior = random(count, 22);
    const b = { x: f32(gpu, x), y: zeros(gpu, pool.outCount), dy: f32(gpu, dy) };
    const dx = zeros(gpu, count), dxAcc = f32(gpu, prior);
    const [y, grad, gradAcc] = await run(
      gpu,
      [...pool.forward(b), ...pool.backward({ ...b, dx }), ...pool.backward({ ...b, dx: dxAcc }, true)],
      [b.y, pool.outCount],
      [dx, count],
      [dxAcc, count],
    );
    const dref = adaptiveAvgPoolBackward(dy, s, size);
    assertClose(y, adaptiveAvgPool(x, s, size), { ...TOL, label: "y" });
    assertClose(grad, dref, { ...TOL, label: "dx" });
    assertClose(gradAcc, dref.map((v, i) => v + prior[i]), { ...TOL, label: "dx accumulated" });
    assertClose(dref, finiteDifference((v) => dot(adaptiveAvgPool(v, s, size), dy), x), {
      rtol: 1e-6,
      atol: 1e-6,
    });
  });
}

Deno.test("pooling: bad geometry is a ShapeError naming the op and the shapes", async () => {
  const gpu = await getGpu();
  const base = { batch: 1, channels: 2, height: 6, width: 5 };
  await rejects(
    AdaptiveAvgPool2d.create(gpu, { ...base, size: 4 }),
    (e: Error) =>
      e instanceof ShapeError && /AdaptiveAvgPool2d/.test(e.message) && /\[4, 4\]/.test(e.message) &&
      /\[1, 2, 6, 5\]/.test(e.message),
  );
  await rejects(MaxPool2d.create(gpu, { ...base, kernel: 3, stride: 2, padding: 2 }), /MaxPool2d.*padding 2/);
  await rejects(
    MaxPool2d.create(gpu, { ...base, kernel: 9, stride: 1, padding: 1 }),
    /MaxPool2d.*\[1, 2, 6, 5\]/,
  );
});

Deno.test("pooling: a buffer smaller than its operand is a ShapeError naming the shape", async () => {
  const gpu = await getGpu();
  const pool = await MaxPool2d.create(gpu, {
    batch: 1,
    channels: 2,
    height: 6,
    width: 5,
    kernel: 3,
    stride: 2,
    padding: 1,
  });
  throws(
    () => pool.forward({ x: zeros(gpu, 60), y: zeros(gpu, 18), argmax: zeros(gpu, 4) }),
    (e: Error) => e instanceof ShapeError && /MaxPool2d: argmax must hold \[1, 2, 3, 3\]/.test(e.message),
  );
});
