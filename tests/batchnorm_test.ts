import { getGpu } from "../lib/gpu/device.ts";
import { BatchNorm2d } from "../lib/ops/batchnorm.ts";
import { ShapeError } from "../lib/ops/shape.ts";
import { assertClose, rejects, throws } from "../lib/testing/assert.ts";
import { dot, f32, finiteDifference, random, run, zeros } from "./reference/numeric.ts";
import { batchNormEval, batchNormTrain, batchNormTrainBackward, type Shape4 } from "./reference/nn.ts";

// fp32 sums of ≤ a few hundred O(1) values, then a division by a standard deviation: 1e-4 relative; atol
// covers outputs that are near zero after normalisation.
const TOL = { rtol: 1e-4, atol: 1e-5 };

function inputs(s: Shape4, seed: number) {
  const count = s.n * s.c * s.h * s.w;
  return {
    count,
    // an offset mean makes the variance computation actually have to cancel
    x: random(count, seed, 2, 5),
    dy: random(count, seed + 1),
    weight: random(s.c, seed + 2, 0.5, 1.5),
    bias: random(s.c, seed + 3),
    runningMean: random(s.c, seed + 4),
    runningVar: random(s.c, seed + 5, 0.5, 2),
    prior: random(count, seed + 6),
  };
}

// chunk 16 forces several partial runs per channel (and a short last run); 1024 gives one run.
for (
  const [s, chunk] of [[{ n: 1, c: 3, h: 5, w: 3 }, 1024], [{ n: 3, c: 5, h: 7, w: 5 }, 16], [{
    n: 2,
    c: 2,
    h: 1,
    w: 1,
  }, 1]] as const
) {
  Deno.test(`batchnorm train: forward, running stats, backward (x ${s.n}×${s.c}×${s.h}×${s.w}, chunk ${chunk})`, async () => {
    const gpu = await getGpu();
    const v = inputs(s, 100 + s.n);
    const bn = await BatchNorm2d.create(gpu, { batch: s.n, channels: s.c, height: s.h, width: s.w, chunk });
    const b = {
      x: f32(gpu, v.x),
      dy: f32(gpu, v.dy),
      weight: f32(gpu, v.weight),
      bias: f32(gpu, v.bias),
      runningMean: f32(gpu, v.runningMean),
      runningVar: f32(gpu, v.runningVar),
      y: zeros(gpu, v.count),
      saveMean: zeros(gpu, s.c),
      saveInvStd: zeros(gpu, s.c),
      dx: zeros(gpu, v.count),
      dxAcc: f32(gpu, v.prior),
      dWeight: zeros(gpu, s.c),
      dBias: zeros(gpu, s.c),
    };
    const [y, mean, invstd, rm, rv, dx, dxAcc, dW, dB] = await run(
      gpu,
      [...bn.forwardTrain(b), ...bn.backwardTrain(b), ...bn.backwardTrain({ ...b, dx: b.dxAcc }, true)],
      [b.y, v.count],
      [b.saveMean, s.c],
      [b.saveInvStd, s.c],
      [b.runningMean, s.c],
      [b.runningVar, s.c],
      [b.dx, v.count],
      [b.dxAcc, v.count],
      [b.dWeight, s.c],
      [b.dBias, s.c],
    );
    const ref = batchNormTrain(v.x, s, v.weight, v.bias, v.runningMean, v.runningVar);
    const grad = batchNormTrainBackward(v.x, v.dy, s, v.weight);
    assertClose(y, ref.y, { ...TOL, label: "y" });
    assertClose(mean, ref.mean, { ...TOL, label: "saveMean" });
    assertClose(invstd, ref.invstd, { ...TOL, label: "saveInvStd" });
    assertClose(rm, ref.runningMean, { ...TOL, label: "runningMean" });
    assertClose(rv, ref.runningVar, { ...TOL, label: "runningVar" });
    assertClose(dx, grad.dx, { ...TOL, label: "dx" });
    assertClose(dxAcc, grad.dx.map((g, i) => g + v.prior[i]), { ...TOL, label: "dx accumulated" });
    assertClose(dW, grad.dWeight, { ...TOL, label: "dWeight" });
    assertClose(dB, grad.dBias, { ...TOL, label: "dBias" });
  });
}

Deno.test("batchnorm reference: train gradients match central differences", () => {
  const s = { n: 2, c: 2, h: 3, w: 1 };
  const v = inputs(s, 7);
  const loss = (x: Float64Array, w: ArrayLike<number>, b: ArrayLike<number>) =>
    dot(batchNormTrain(x, s, w, b, v.runningMean, v.runningVar).y, v.dy);
  const grad = batchNormTrainBackward(v.x, v.dy, s, v.weight);
  const fd = { rtol: 1e-5, atol: 1e-6 };
  assertClose(grad.dx, finiteDifference((x) => loss(x, v.weight, v.bias), v.x), { ...fd, label: "dx" });
  assertClose(grad.dWeight, finiteDifference((w) => loss(v.x, w, v.bias), Float64Array.from(v.weight)), fd);
  assertClose(grad.dBias, finiteDifference((b) => loss(v.x, v.weight, b), Float64Array.from(v.bias)), fd);
});

Deno.test("batchnorm eval: forward and input gradient (batch 1 and 4), gradient checked by differences", async () => {
  const gpu = await getGpu();
  for (const s of [{ n: 1, c: 3, h: 3, w: 5 }, { n: 4, c: 2, h: 5, w: 3 }]) {
    const v = inputs(s, 40 + s.n);
    const bn = await BatchNorm2d.create(gpu, { batch: s.n, channels: s.c, height: s.h, width: s.w });
    const b = {
      x: f32(gpu, v.x),
      dy: f32(gpu, v.dy),
      weight: f32(gpu, v.weight),
      bias: f32(gpu, v.bias),
      runningMean: f32(gpu, v.runningMean),
      runningVar: f32(gpu, v.runningVar),
      y: zeros(gpu, v.count),
      dx: f32(gpu, v.prior),
    };
    const [y, dx] = await run(gpu, [...bn.forwardEval(b), ...bn.backwardEval(b, true)], [b.y, v.count], [
      b.dx,
      v.count,
    ]);
    const ref = (x: Float64Array) => batchNormEval(x, s, v.weight, v.bias, v.runningMean, v.runningVar);
    const grad = finiteDifference((x) => dot(ref(x), v.dy), v.x);
    assertClose(y, ref(v.x), { ...TOL, label: "y" });
    assertClose(dx, grad.map((g, i) => g + v.prior[i]), { ...TOL, label: "dx accumulated (vs differences)" });
  }
});

Deno.test("batchnorm: bad shapes are ShapeErrors naming the op and the input shape", async () => {
  const gpu = await getGpu();
  await rejects(BatchNorm2d.create(gpu, { batch: 2, channels: 0, height: 3, width: 3 }), ShapeError);
  const bn = await BatchNorm2d.create(gpu, { batch: 1, channels: 2, height: 1, width: 1 });
  const buf = zeros(gpu, 2);
  throws(
    () =>
      bn.forwardTrain({
        x: buf,
        weight: buf,
        bias: buf,
        runningMean: buf,
        runningVar: buf,
        y: buf,
        saveMean: buf,
        saveInvStd: buf,
      }),
    (e: Error) =>
      e instanceof ShapeError && /BatchNorm2d/.test(e.message) && /\[1, 2, 1, 1\]/.test(e.message),
  );
});

Deno.test("batchnorm: a buffer smaller than its operand is a ShapeError naming the shape and the size", async () => {
  const gpu = await getGpu();
  const bn = await BatchNorm2d.create(gpu, { batch: 2, channels: 3, height: 4, width: 5 });
  const vec = zeros(gpu, 3), full = zeros(gpu, 120);
  throws(
    () =>
      bn.forwardEval({
        x: zeros(gpu, 100),
        weight: vec,
        bias: vec,
        runningMean: vec,
        runningVar: vec,
        y: full,
      }),
    (e: Error) =>
      e instanceof ShapeError &&
      /BatchNorm2d: x must hold \[2, 3, 4, 5\] \(480 bytes\).* has 400/.test(e.message),
  );
  throws(
    () => bn.backwardEval({ dy: zeros(gpu, 100), weight: vec, runningVar: vec, dx: full }),
    /BatchNorm2d: dy must hold \[2, 3, 4, 5\]/,
  );
});
