import { getGpu } from "../lib/gpu/device.ts";
import { ElementwiseKernel } from "../lib/gpu/expr.ts";
import { Add, Copy, Relu, Scale } from "../lib/ops/elementwise.ts";
import { Normalize } from "../lib/ops/normalize.ts";
import { ShapeError } from "../lib/ops/shape.ts";
import { assertClose, equal, rejects, throws } from "../lib/testing/assert.ts";
import { dot, f32, finiteDifference, random, run, zeros } from "./reference/numeric.ts";
import { channelAffine } from "./reference/nn.ts";

// Elementwise results are single float32 operations on float32 inputs: exact up to rounding.
const TOL = { rtol: 1e-5, atol: 1e-6 };

Deno.test("relu: forward, backward (overwrite and accumulate) against reference; zero gets zero gradient", async () => {
  const gpu = await getGpu();
  const count = 301;
  const x = random(count, 1);
  x[0] = 0;
  const dy = random(count, 2), prior = random(count, 3);
  const relu = await Relu.create(gpu, { count });
  const [xb, yb, dyb, dxb, accb] = [
    f32(gpu, x),
    zeros(gpu, count),
    f32(gpu, dy),
    zeros(gpu, count),
    f32(gpu, prior),
  ];
  const [y, dx, acc] = await run(
    gpu,
    [
      ...relu.forward({ x: xb, y: yb }),
      ...relu.backward({ y: yb, dy: dyb, dx: dxb }),
      ...relu.backward({ y: yb, dy: dyb, dx: accb }, true),
    ],
    [yb, count],
    [dxb, count],
    [accb, count],
  );
  const ref = x.map((v) => Math.max(v, 0));
  const dref = x.map((v, i) => (v > 0 ? dy[i] : 0));
  assertClose(y, ref, { ...TOL, label: "y" });
  assertClose(dx, dref, { ...TOL, label: "dx" });
  assertClose(acc, dref.map((v, i) => v + prior[i]), { ...TOL, label: "dx accumulated" });
  equal(dx[0], 0);
});

Deno.test("add / copy / add-into / scale: forward and gradient routing", async () => {
  const gpu = await getGpu();
  const count = 77;
  const a = random(count, 4), b = random(count, 5), prior = random(count, 6);
  const [ab, bb, yb, pb, cb] = [
    f32(gpu, a),
    f32(gpu, b),
    zeros(gpu, count),
    f32(gpu, prior),
    zeros(gpu, count),
  ];
  const [add, copy, scale] = await Promise.all([
    Add.create(gpu, { count }),
    Copy.create(gpu, { count }),
    Scale.create(gpu, { count, factor: -2.5 }),
  ]);
  const [da, db, sb, sdb] = [zeros(gpu, count), f32(gpu, prior), zeros(gpu, count), zeros(gpu, count)];
  const [y, copied, added, gradA, gradB, scaled, dscaled] = await run(
    gpu,
    [
      ...add.forward({ a: ab, b: bb, y: yb }),
      ...copy.forward({ x: ab, y: cb }),
      ...copy.forward({ x: ab, y: pb }, true),
      ...add.backward({ dy: bb, da, db }, false),
      ...add.backward({ dy: ab, da, db }, true),
      ...scale.forward({ x: ab, y: sb }),
      ...scale.backward({ dy: bb, dx: sdb }),
    ],
    [yb, count],
    [cb, count],
    [pb, count],
    [da, count],
    [db, count],
    [sb, count],
    [sdb, count],
  );
  assertClose(y, a.map((v, i) => v + b[i]), { ...TOL, label: "a+b" });
  assertClose(copied, a, { ...TOL, label: "copy" });
  assertClose(added, a.map((v, i) => v + prior[i]), { ...TOL, label: "add-into" });
  assertClose(gradA, a.map((v, i) => v + b[i]), { ...TOL, label: "da (overwrite then accumulate)" });
  assertClose(gradB, a.map((v, i) => v + b[i]), { ...TOL, label: "db (overwrite then accumulate)" });
  assertClose(scaled, a.map((v) => -2.5 * v), { ...TOL, label: "scale" });
  assertClose(dscaled, b.map((v) => -2.5 * v), { ...TOL, label: "scale backward" });
});

Deno.test("normalize: per-channel forward and input gradient (batch 1 and 3), gradient checked by differences", async () => {
  const gpu = await getGpu();
  const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
  for (const n of [1, 3]) {
    const s = { n, c: 3, h: 5, w: 7 };
    const count = n * 3 * 35;
    const x = random(count, 10 + n, 0, 1), dy = random(count, 20 + n);
    const op = await Normalize.create(gpu, { batch: n, channels: 3, height: 5, width: 7, mean, std });
    const [xb, yb, dyb, dxb] = [f32(gpu, x), zeros(gpu, count), f32(gpu, dy), zeros(gpu, count)];
    const [y, dx] = await run(gpu, [...op.forward({ x: xb, y: yb }), ...op.backward({ dy: dyb, dx: dxb })], [
      yb,
      count,
    ], [dxb, count]);
    const invstd = std.map((v) => 1 / v);
    const ref = (v: Float64Array) => channelAffine(v, s, mean, invstd, [0, 0, 0]);
    const dref = channelAffine(dy, s, [0, 0, 0], invstd, [0, 0, 0]);
    assertClose(y, ref(x), { ...TOL, label: `y (n=${n})` });
    assertClose(dx, dref, { ...TOL, label: `dx (n=${n})` });
    assertClose(dref, finiteDifference((v) => dot(ref(v), dy), x), { rtol: 1e-6, atol: 1e-6, label: "fd" });
  }
});

Deno.test("expr: channel broadcast, f32 scalars, and only the operands the expression reads are bound", async () => {
  const gpu = await getGpu();
  const a = await ElementwiseKernel.create(
    gpu,
    "probe",
    { u: "elem", v: "channel", w: "elem" },
    ["k"],
    "k * v + u",
  );
  const b = await ElementwiseKernel.create(
    gpu,
    "probe",
    { u: "elem", v: "channel", w: "elem" },
    ["k"],
    "k * v + u",
  );
  equal(a.operands.map(([id]) => id).join(","), "u,v");
  const out = zeros(gpu, 12);
  const [r] = await run(
    gpu,
    [b.bind({ u: f32(gpu, Array(12).fill(1)), v: f32(gpu, [10, 20, 30]) }, out, {
      count: 12,
      channels: 3,
      plane: 2,
    }, { k: 2 })],
    [out, 12],
  );
  assertClose(r, [21, 21, 41, 41, 61, 61, 21, 21, 41, 41, 61, 61], TOL);
});

Deno.test("elementwise ops reject bad shapes with ShapeError naming the op and shapes", async () => {
  const gpu = await getGpu();
  await rejects(
    Relu.create(gpu, { count: 0 }),
    (e: Error) => e instanceof ShapeError && /Relu/.test(e.message),
  );
  await rejects(
    Normalize.create(gpu, { batch: 1, channels: 3, height: 2, width: 2, mean: [0, 0], std: [1, 1, 1] }),
    (e: Error) =>
      e instanceof ShapeError && /Normalize/.test(e.message) && /\[2\]/.test(e.message) &&
      /\[3\]/.test(e.message),
  );
});

Deno.test("elementwise: a buffer smaller than its operand is a ShapeError naming the shape", async () => {
  const gpu = await getGpu();
  const relu = await Relu.create(gpu, { count: 40 });
  throws(
    () => relu.backward({ y: zeros(gpu, 40), dy: zeros(gpu, 36), dx: zeros(gpu, 40) }),
    (e: Error) => e instanceof ShapeError && /Relu\.dx: dy must hold \[40\]/.test(e.message),
  );
});
