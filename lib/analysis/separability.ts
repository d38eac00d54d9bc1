/**
 * Linear separability of classes in a representation: held-out accuracy of a one-vs-rest ridge readout
 * (least squares on one-hot targets, with intercept) on a seeded, stratified train/test split.
 * @module
 */
import { cholesky, choleskySolve } from "../linalg/cholesky.ts";
import { Random } from "../random.ts";
import type { Matrix } from "./matrix.ts";

/** Options for {@link linearSeparability}. */
export interface SeparabilityOptions {
  /** Fraction of each class held out for testing (default 0.25; a class with one sample only trains). */
  testFraction?: number;
  /**
   * Ridge penalty relative to the mean squared norm of a centred training row (default 1e-3): scale-free, so
   * the same value suits any layer.
   */
  ridge?: number;
  /** Seed of the split (default 0). */
  seed?: number;
  /** An explicit split instead of the seeded one: `true` marks a test row. */
  test?: ArrayLike<boolean>;
}

/** Result of {@link linearSeparability}. */
export interface SeparabilityResult {
  /** Held-out accuracy. */
  accuracy: number;
  trainAccuracy: number;
  nTrain: number;
  nTest: number;
  classes: number;
  /** 1 / classes. */
  chance: number;
}

/**
 * Held-out accuracy of a ridge readout from `x` (stimuli × features) to integer `labels`. Solves in the
 * primal (features × features) or dual (train × train) form, whichever is smaller; both give the same
 * predictions.
 *
 * @example
 * ```ts
 * import { fromRows } from "./matrix.ts";
 * const features = fromRows([[0, 0], [0.1, 0.2], [0.2, 0.1], [1, 1], [0.9, 1.1], [1.1, 0.9], [0, 0.1], [1, 1]]);
 * const labels = [0, 0, 0, 1, 1, 1, 0, 1];
 * const { accuracy, chance } = linearSeparability(features, labels, { seed: 0 }); // 1, 0.5
 * ```
 */
export function linearSeparability(
  x: Matrix,
  labels: ArrayLike<number>,
  options: SeparabilityOptions = {},
): SeparabilityResult {
  const { testFraction = 0.25, ridge = 1e-3, seed = 0 } = options;
  const { rows: n, cols: p } = x;
  if (labels.length !== n) throw new RangeError(`separability: ${labels.length} labels for ${n} stimuli`);
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new RangeError(`separability: testFraction ${testFraction} not in (0, 1)`);
  }
  if (!(ridge > 0)) throw new RangeError(`separability: ridge must be > 0, got ${ridge}`);
  const classes = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  if (classes.length < 2) {
    throw new RangeError(`separability: need at least 2 classes, got ${classes.length}`);
  }
  const classOf = new Map(classes.map((label, i) => [label, i]));
  const y = Int32Array.from(labels, (label) => classOf.get(label)!);
  const isTest = options.test
    ? Uint8Array.from(options.test, Number)
    : stratifiedSplit(y, classes.length, testFraction, seed);
  if (isTest.length !== n) {
    throw new RangeError(`separability: test mask has ${isTest.length} entries for ${n} stimuli`);
  }
  const train = [...isTest.keys()].filter((i) => !isTest[i]),
    test = [...isTest.keys()].filter((i) => isTest[i]);
  if (train.length < 2 || test.length < 1) {
    throw new RangeError(`separability: ${train.length} train / ${test.length} test rows are too few`);
  }

  const c = classes.length;
  const mean = new Float64Array(p), yMean = new Float64Array(c);
  for (const r of train) {
    for (let k = 0; k < p; k++) mean[k] += x.data[r * p + k] / train.length;
    yMean[y[r]] += 1 / train.length;
  }
  const row = (r: number) => Float64Array.from(x.data.subarray(r * p, (r + 1) * p), (v, k) => v - mean[k]);
  const xt = train.map(row); // centred training rows
  const targets = new Float64Array(train.length * c);
  train.forEach((r, i) => {
    for (let k = 0; k < c; k++) targets[i * c + k] = (y[r] === k ? 1 : 0) - yMean[k];
  });
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, k) => s + v * b[k], 0);
  let trace = 0;
  for (const v of xt) trace += dot(v, v);
  // All-zero training features make the relative penalty 0; fall back to the absolute value to stay solvable.
  const lambda = (ridge * trace) / train.length || ridge;

  // score(z) = ȳ + Wᵀ(z − μ): W = Xᵀ(XXᵀ + λI)⁻¹Y (dual) or (XᵀX + λI)⁻¹XᵀY (primal).
  let weights: (z: Float64Array) => Float64Array;
  if (p > train.length) {
    const m = train.length;
    const k = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      for (let j = i; j < m; j++) k[i * m + j] = k[j * m + i] = dot(xt[i], xt[j]) + (i === j ? lambda : 0);
    }
    const alpha = choleskySolve(factor(k, m), m, targets, c);
    weights = (z) => {
      const out = new Float64Array(c);
      xt.forEach((v, i) => {
        const s = dot(z, v);
        for (let k2 = 0; k2 < c; k2++) out[k2] += s * alpha[i * c + k2];
      });
      return out;
    };
  } else {
    const a = new Float64Array(p * p), rhs = new Float64Array(p * c);
    xt.forEach((v, i) => {
      for (let j = 0; j < p; j++) {
        for (let k2 = 0; k2 < p; k2++) a[j * p + k2] += v[j] * v[k2];
        for (let k2 = 0; k2 < c; k2++) rhs[j * c + k2] += v[j] * targets[i * c + k2];
      }
    });
    for (let j = 0; j < p; j++) a[j * p + j] += lambda;
    const w = choleskySolve(factor(a, p), p, rhs, c);
    weights = (z) => {
      const out = new Float64Array(c);
      for (let j = 0; j < p; j++) for (let k2 = 0; k2 < c; k2++) out[k2] += z[j] * w[j * c + k2];
      return out;
    };
  }
  const accuracy = (rows: number[]) =>
    rows.filter((r) => {
      const score = weights(row(r)).map((v, k) => v + yMean[k]);
      let best = 0;
      for (let k = 1; k < c; k++) if (score[k] > score[best]) best = k;
      return best === y[r];
    }).length / rows.length;
  return {
    accuracy: accuracy(test),
    trainAccuracy: accuracy(train),
    nTrain: train.length,
    nTest: test.length,
    classes: c,
    chance: 1 / c,
  };
}

/** Per class, a seeded random round(fraction × count) of its rows (none when the class has one row). */
function stratifiedSplit(y: Int32Array, classes: number, fraction: number, seed: number): Uint8Array {
  const random = new Random(seed);
  const isTest = new Uint8Array(y.length);
  for (let k = 0; k < classes; k++) {
    const members = [...y.keys()].filter((i) => y[i] === k);
    if (members.length < 2) continue;
    const take = Math.min(members.length - 1, Math.max(1, Math.round(fraction * members.length)));
    const order = random.permutation(members.length);
    for (let i = 0; i < take; i++) isTest[members[order[i]]] = 1;
  }
  return isTest;
}

/** Cholesky factor of a ridge-regularised (hence positive-definite) matrix. */
function factor(a: Float64Array, n: number): Float64Array {
  const l = cholesky(a, n);
  if (!l) {
    throw new RangeError("separability: the ridge system is not positive definite (non-finite features?)");
  }
  return l;
}
