import { getGpu } from "../lib/gpu/device.ts";
import { GuidanceLoss, Mse, SoftmaxCrossEntropy } from "../lib/ops/loss.ts";
import { ShapeError } from "../lib/ops/shape.ts";
import { assertClose, equal, ok, rejects, throws } from "../lib/testing/assert.ts";
import { f32, finiteDifference, random, run, zeros } from "./reference/numeric.ts";
import { guidanceLoss, mse, softmaxCrossEntropy } from "./reference/nn.ts";

// fp32 exp/log and sums over ≤ a few hundred terms: 1e-4 relative; atol for gradients near zero.
const TOL = { rtol: 1e-4, atol: 1e-6 };
const FD = { rtol: 1e-6, atol: 1e-7 };

function labelsFor(batch: number, classes: number, seed: number): Uint32Array {
  return Uint32Array.from(random(batch, seed, 0, classes), Math.floor);
}

for (const [batch, classes] of [[1, 7], [5, 3], [13, 11]]) {
  Deno.test(`softmax-ce: loss, correct count, dLogits (batch ${batch}, classes ${classes})`, async () => {
    const gpu = await getGpu();
    const logits = random(batch * classes, batch, -3, 3), labels = labelsFor(batch, classes, batch + 1);
    logits[0] = logits[1] = 5; // a tie: the first maximum is the prediction
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
    const ref = softmaxCrossEntropy(logits, labels, classes);
    assertClose([out[0]], [ref.loss], { ...TOL, label: "loss" });
    equal(out[1], ref.correct);
    assertClose(dLogits, ref.dLogits, { ...TOL, label: "dLogits" });
    const fd = finiteDifference((z) => softmaxCrossEntropy(z, labels, classes).loss, logits);
    assertClose(ref.dLogits, fd, { ...FD, label: "reference vs differences" });
  });
}

Deno.test("softmax-ce: an out-of-range label gives a NaN loss, not another row's logit", async () => {
  const gpu = await getGpu();
  const ce = await SoftmaxCrossEntropy.create(gpu, { batch: 2, classes: 3 });
  const b = {
    logits: f32(gpu, random(6, 1)),
    labels: gpu.upload(new Uint32Array([1, 3])),
    out: zeros(gpu, 2),
  };
  const [out] = await run(gpu, ce.forward(b), [b.out, 2]);
  ok(Number.isNaN(out[0]), `loss ${out[0]}`);
});

for (const count of [1, 37, 5000]) {
  Deno.test(`mse: loss and both gradients (count ${count})`, async () => {
    const gpu = await getGpu();
    const pred = random(count, count), target = random(count, count + 1), prior = random(count, 3);
    const op = await Mse.create(gpu, { count });
    const b = {
      pred: f32(gpu, pred),
      target: f32(gpu, target),
      out: zeros(gpu, 1),
      dPred: zeros(gpu, count),
    };
    const dTarget = f32(gpu, prior), dPredOnly = zeros(gpu, count);
    const [out, dPred, dT, dPred2] = await run(
      gpu,
      [
        ...op.forward(b),
        ...op.backward(b),
        ...op.backward({ ...b, dTarget }, true),
        ...op.backward({ ...b, dPred: dPredOnly }),
      ],
      [b.out, 1],
      [b.dPred, count],
      [dTarget, count],
      [dPredOnly, count],
    );
    const ref = mse(pred, target);
    assertClose([out[0]], [ref.loss], { ...TOL, label: "loss" });
    assertClose(dPred, ref.dPred.map((v) => 2 * v), { ...TOL, label: "dPred (overwrite then accumulate)" });
    assertClose(dT, ref.dTarget.map((v, i) => v + prior[i]), { ...TOL, label: "dTarget accumulated" });
    assertClose(dPred2, ref.dPred, { ...TOL, label: "dPred without dTarget" });
    if (count < 100) {
      assertClose(ref.dPred, finiteDifference((p) => mse(p, target).loss, pred), { ...FD, label: "fd pred" });
      assertClose(ref.dTarget, finiteDifference((t) => mse(pred, t).loss, target), {
        ...FD,
        label: "fd target",
      });
    }
  });
}

for (const [batch, classes, neuralDim] of [[6, 5, 9], [1, 4, 3]]) {
  Deno.test(`guidance loss: [total, ce, mse, correct] and gradients; α and scale change without re-creating (batch ${batch}, classes ${classes}, dim ${neuralDim})`, async () => {
    const gpu = await getGpu();
    const logits = random(batch * classes, 1, -2, 2), labels = labelsFor(batch, classes, 2);
    const head = random(batch * neuralDim, 3), target = random(batch * neuralDim, 4);
    const loss = await GuidanceLoss.create(gpu, { batch, classes, neuralDim });
    const b = {
      logits: f32(gpu, logits),
      labels: gpu.upload(labels),
      head: f32(gpu, head),
      target: f32(gpu, target),
      out: zeros(gpu, 4),
      dLogits: zeros(gpu, batch * classes),
      dHead: zeros(gpu, batch * neuralDim),
    };
    const forward = loss.forward(b), backward = loss.backward(b); // bound once
    for (const [alpha, scale] of [[0.3, 1], [0, 1], [1, 1], [0.75, 128]]) {
      loss.setAlpha(alpha);
      loss.setScale(scale);
      const [out, dLogits, dHead] = await run(gpu, [...forward, ...backward], [b.out, 4], [
        b.dLogits,
        batch * classes,
      ], [
        b.dHead,
        batch * neuralDim,
      ]);
      const ref = guidanceLoss(logits, labels, classes, head, target, alpha, scale);
      const label = `α=${alpha} scale=${scale}`;
      assertClose(out, [ref.total, ref.ce, ref.mse, ref.correct], { ...TOL, label: `out ${label}` });
      assertClose(dLogits, ref.dLogits, { ...TOL, label: `dLogits ${label}` });
      assertClose(dHead, ref.dHead, { ...TOL, label: `dHead ${label}` });
    }
    const total = (z: Float64Array, h: Float64Array) =>
      guidanceLoss(z, labels, classes, h, target, 0.3).total;
    const ref = guidanceLoss(logits, labels, classes, head, target, 0.3);
    assertClose(ref.dLogits, finiteDifference((z) => total(z, head), logits), { ...FD, label: "fd logits" });
    assertClose(ref.dHead, finiteDifference((h) => total(logits, h), head), { ...FD, label: "fd head" });
  });
}

Deno.test("losses: bad shapes and α are ShapeErrors naming the op", async () => {
  const gpu = await getGpu();
  await rejects(
    SoftmaxCrossEntropy.create(gpu, { batch: 4, classes: 0 }),
    (e: Error) => e instanceof ShapeError && /SoftmaxCrossEntropy/.test(e.message),
  );
  await rejects(GuidanceLoss.create(gpu, { batch: 4, classes: 3, neuralDim: -1 }), /GuidanceLoss.*neuralDim/);
  const loss = await GuidanceLoss.create(gpu, { batch: 1, classes: 2, neuralDim: 1 });
  throws(() => loss.setAlpha(1.5), /GuidanceLoss.*alpha/);
});

Deno.test("losses: a buffer smaller than its operand is a ShapeError naming the shape", async () => {
  const gpu = await getGpu();
  const loss = await GuidanceLoss.create(gpu, { batch: 4, classes: 3, neuralDim: 10 });
  const b = {
    logits: zeros(gpu, 12),
    labels: zeros(gpu, 4),
    head: zeros(gpu, 40),
    target: zeros(gpu, 36),
    out: zeros(gpu, 4),
  };
  throws(
    () => loss.forward(b),
    (e: Error) => e instanceof ShapeError && /GuidanceLoss: target must hold \[4, 10\]/.test(e.message),
  );
});
