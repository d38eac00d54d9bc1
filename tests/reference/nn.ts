/**
 * Float64 plain-TypeScript references for the non-GEMM ops (NCHW, PyTorch semantics). Written for clarity, not
 * speed; their gradients are themselves checked against finite differences in the tests.
 * @module
 */

/** NCHW shape. */
export interface Shape4 {
  n: number;
  c: number;
  h: number;
  w: number;
}

const at = (s: Shape4, n: number, c: number, h: number, w: number) => ((n * s.c + c) * s.h + h) * s.w + w;

/** Per-channel mean and biased / unbiased variance over (n, h, w). */
export function channelStats(
  x: ArrayLike<number>,
  s: Shape4,
): { mean: number[]; varBiased: number[]; varUnbiased: number[] } {
  const m = s.n * s.h * s.w;
  const mean = [], varBiased = [], varUnbiased = [];
  for (let c = 0; c < s.c; c++) {
    let sum = 0;
    for (let n = 0; n < s.n; n++) for (let i = 0; i < s.h * s.w; i++) sum += x[at(s, n, c, 0, 0) + i];
    const mu = sum / m;
    let sq = 0;
    for (let n = 0; n < s.n; n++) {
      for (let i = 0; i < s.h * s.w; i++) sq += (x[at(s, n, c, 0, 0) + i] - mu) ** 2;
    }
    mean.push(mu);
    varBiased.push(sq / m);
    varUnbiased.push(sq / (m - 1));
  }
  return { mean, varBiased, varUnbiased };
}

/** `y = (x − mean_c)·scale_c + shift_c` over NCHW. */
export function channelAffine(
  x: ArrayLike<number>,
  s: Shape4,
  mean: ArrayLike<number>,
  scale: ArrayLike<number>,
  shift: ArrayLike<number>,
): Float64Array {
  const plane = s.h * s.w;
  return Float64Array.from(x, (v, i) => {
    const c = Math.floor(i / plane) % s.c;
    return (v - mean[c]) * scale[c] + shift[c];
  });
}

/** BatchNorm2d train forward: output, saved mean / invstd, and the updated running statistics. */
export function batchNormTrain(
  x: ArrayLike<number>,
  s: Shape4,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  runningMean: ArrayLike<number>,
  runningVar: ArrayLike<number>,
  eps = 1e-5,
  momentum = 0.1,
) {
  const { mean, varBiased, varUnbiased } = channelStats(x, s);
  const invstd = varBiased.map((v) => 1 / Math.sqrt(v + eps));
  const scale = invstd.map((v, c) => v * weight[c]);
  return {
    y: channelAffine(x, s, mean, scale, bias),
    mean,
    invstd,
    runningMean: mean.map((m, c) => (1 - momentum) * runningMean[c] + momentum * m),
    runningVar: varUnbiased.map((v, c) => (1 - momentum) * runningVar[c] + momentum * v),
  };
}

/** BatchNorm2d train backward (the textbook formula; checked by finite differences). */
export function batchNormTrainBackward(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  s: Shape4,
  weight: ArrayLike<number>,
  eps = 1e-5,
) {
  const { mean, varBiased } = channelStats(x, s);
  const invstd = varBiased.map((v) => 1 / Math.sqrt(v + eps));
  const plane = s.h * s.w, m = s.n * plane;
  const dWeight = new Float64Array(s.c), dBias = new Float64Array(s.c);
  const xhat = Float64Array.from(x, (v, i) => {
    const c = Math.floor(i / plane) % s.c;
    return (v - mean[c]) * invstd[c];
  });
  xhat.forEach((v, i) => {
    const c = Math.floor(i / plane) % s.c;
    dBias[c] += dy[i];
    dWeight[c] += dy[i] * v;
  });
  const dx = xhat.map((v, i) => {
    const c = Math.floor(i / plane) % s.c;
    return weight[c] * invstd[c] * (dy[i] - (dBias[c] + v * dWeight[c]) / m);
  });
  return { dx, dWeight, dBias };
}

/** BatchNorm2d eval forward (running statistics). */
export function batchNormEval(
  x: ArrayLike<number>,
  s: Shape4,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  runningMean: ArrayLike<number>,
  runningVar: ArrayLike<number>,
  eps = 1e-5,
): Float64Array {
  const scale = Array.from(weight, (w, c) => w / Math.sqrt(runningVar[c] + eps));
  return channelAffine(x, s, runningMean, scale, bias);
}

/** MaxPool2d pooling geometry (floor mode). */
export function poolOut(size: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((size + 2 * padding - kernel) / stride) + 1;
}

/**
 * MaxPool2d forward with -inf padding; argmax is the index within the input plane (first maximum wins, NaN
 * propagates).
 */
export function maxPool(x: ArrayLike<number>, s: Shape4, kernel: number, stride: number, padding: number) {
  const oh = poolOut(s.h, kernel, stride, padding), ow = poolOut(s.w, kernel, stride, padding);
  const y = new Float64Array(s.n * s.c * oh * ow), argmax = new Uint32Array(y.length);
  let o = 0;
  for (let nc = 0; nc < s.n * s.c; nc++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++, o++) {
        let best = -Infinity, arg = -1;
        for (let a = 0; a < kernel; a++) {
          for (let b = 0; b < kernel; b++) {
            const h = i * stride - padding + a, w = j * stride - padding + b;
            if (h < 0 || w < 0 || h >= s.h || w >= s.w) continue;
            const v = x[nc * s.h * s.w + h * s.w + w];
            if (arg < 0 || v > best || Number.isNaN(v)) [best, arg] = [v, h * s.w + w];
          }
        }
        y[o] = best;
        argmax[o] = arg;
      }
    }
  }
  return { y, argmax, outHeight: oh, outWidth: ow };
}

/** MaxPool2d backward: scatter-add dy through argmax. */
export function maxPoolBackward(
  dy: ArrayLike<number>,
  argmax: Uint32Array,
  s: Shape4,
  outPlane: number,
): Float64Array {
  const dx = new Float64Array(s.n * s.c * s.h * s.w);
  for (let o = 0; o < dy.length; o++) dx[Math.floor(o / outPlane) * s.h * s.w + argmax[o]] += dy[o];
  return dx;
}

/** Adaptive average pooling to `size`×`size` when height and width divide evenly. */
export function adaptiveAvgPool(x: ArrayLike<number>, s: Shape4, size: number): Float64Array {
  const bh = s.h / size, bw = s.w / size;
  const y = new Float64Array(s.n * s.c * size * size);
  for (let nc = 0; nc < s.n * s.c; nc++) {
    for (let h = 0; h < s.h; h++) {
      for (let w = 0; w < s.w; w++) {
        y[(nc * size + Math.floor(h / bh)) * size + Math.floor(w / bw)] += x[(nc * s.h + h) * s.w + w] /
          (bh * bw);
      }
    }
  }
  return y;
}

/** Adaptive average pooling backward. */
export function adaptiveAvgPoolBackward(dy: ArrayLike<number>, s: Shape4, size: number): Float64Array {
  const bh = s.h / size, bw = s.w / size;
  return Float64Array.from({ length: s.n * s.c * s.h * s.w }, (_, i) => {
    const w = i % s.w, h = Math.floor(i / s.w) % s.h, nc = Math.floor(i / (s.w * s.h));
    return dy[(nc * size + Math.floor(h / bh)) * size + Math.floor(w / bw)] / (bh * bw);
  });
}

/** Mean softmax cross-entropy over a batch, count of correct argmax (first maximum), and dLogits. */
export function softmaxCrossEntropy(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number) {
  const batch = labels.length;
  const dLogits = new Float64Array(batch * classes);
  let loss = 0, correct = 0;
  for (let r = 0; r < batch; r++) {
    const row = Array.from({ length: classes }, (_, k) => logits[r * classes + k]);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    loss += (lse - row[labels[r]]) / batch;
    if (row.indexOf(max) === labels[r]) correct++;
    row.forEach((v, k) => dLogits[r * classes + k] = (Math.exp(v - lse) - (k === labels[r] ? 1 : 0)) / batch);
  }
  return { loss, correct, dLogits };
}

/** Mean squared error over all elements and its gradients. */
export function mse(pred: ArrayLike<number>, target: ArrayLike<number>) {
  const m = pred.length;
  const dPred = Float64Array.from(pred, (p, i) => 2 * (p - target[i]) / m);
  let loss = 0;
  for (let i = 0; i < m; i++) loss += (pred[i] - target[i]) ** 2 / m;
  return { loss, dPred, dTarget: dPred.map((v) => -v) };
}

/** `(1 − α)·CE + α·MSE`, its parts, and the gradients times `scale`. */
export function guidanceLoss(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
  head: ArrayLike<number>,
  target: ArrayLike<number>,
  alpha: number,
  scale = 1,
) {
  const ce = softmaxCrossEntropy(logits, labels, classes);
  const m = mse(head, target);
  return {
    total: (1 - alpha) * ce.loss + alpha * m.loss,
    ce: ce.loss,
    mse: m.loss,
    correct: ce.correct,
    dLogits: ce.dLogits.map((v) => v * (1 - alpha) * scale),
    dHead: m.dPred.map((v) => v * alpha * scale),
  };
}
