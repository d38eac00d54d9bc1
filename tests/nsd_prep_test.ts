/**
 * Preparation numerics against independent derivations: hand-computed small cases, closed-form PCA on
 * constructed data, a Jacobi eigensolver, and the NSD noise-ceiling formula on constructed data.
 */
import { assertClose, deepStrictEqual, equal, ok } from "../lib/testing/assert.ts";
import {
  averageRepeats,
  fitPca,
  noiseCeilingPerVoxel,
  pcaTransform,
  prepareRoi,
  productABt,
  shufflePairing,
  signalEigenvalueFloor,
  splitRows,
  symmetricEigen,
  zscoreWithTrainStats,
} from "../lib/data/nsd/mod.ts";
import { jacobiEigen } from "./reference/jacobi.ts";
import { Random } from "../lib/random.ts";
import {
  buildTinyNsd,
  TINY_MASTERORDERING,
  TINY_SHARED,
  tinySubjectImage,
} from "./reference/nsd_fixtures.ts";

/** Absolute-value comparison: eigenvectors and components are defined up to sign. */
function assertCloseUpToSign(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  label: string,
  atol = 1e-9,
) {
  const sign = Math.sign(Array.from(actual).reduce((s, a, i) => s + a * expected[i], 0)) || 1;
  assertClose(Array.from(actual, (a) => sign * a), expected, { atol, rtol: 0, label });
}

/** Deterministic pseudo-random numbers in [-1, 1) (LCG) for matrices whose values do not matter. */
function noise(count: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: count }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 1073741824) - 1);
}

Deno.test("symmetricEigen: closed form A = Q diag(λ) Qᵀ with a Householder Q", () => {
  // Q = I − 2uuᵀ/uᵀu is orthogonal and symmetric; its columns are A's eigenvectors for λ = 5, 3, 2, −1.
  const u = [1, 2, -1, 3], uu = 15, n = 4, lambda = [5, 3, 2, -1];
  const q = (i: number, j: number) => (i === j ? 1 : 0) - 2 * u[i] * u[j] / uu;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += q(i, k) * lambda[k] * q(j, k);
  }
  const { values, vectors } = symmetricEigen(a, n);
  assertClose(values, lambda, { atol: 1e-12, rtol: 0, label: "eigenvalues" });
  for (let k = 0; k < n; k++) {
    assertCloseUpToSign(vectors.subarray(k * n, k * n + n), [0, 1, 2, 3].map((i) => q(i, k)), `vector ${k}`);
  }
});

Deno.test("symmetricEigen: agrees with Jacobi on random symmetric matrices, including repeated eigenvalues", () => {
  for (const [n, seed] of [[7, 1], [12, 2], [1, 3]]) {
    const r = noise(n * n, seed);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = r[i * n + j] + r[j * n + i];
    const mine = symmetricEigen(a, n), ref = jacobiEigen(a, n);
    assertClose(mine.values, ref.values, { atol: 1e-10, rtol: 0, label: `n=${n} values` });
    for (let k = 0; k < n; k++) {
      assertCloseUpToSign(
        mine.vectors.subarray(k * n, k * n + n),
        ref.vectors[k],
        `n=${n} vector ${k}`,
        1e-8,
      );
    }
  }
  // Identity-like spectrum: every unit vector is an eigenvector; check A v = λ v and orthonormality.
  const n = 5, a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = i < 3 ? 2 : 7;
  const { values, vectors } = symmetricEigen(a, n);
  assertClose(values, [7, 7, 2, 2, 2], { atol: 1e-12, rtol: 0, label: "repeated" });
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let d = 0;
      for (let k = 0; k < n; k++) d += vectors[i * n + k] * vectors[j * n + k];
      ok(Math.abs(d - (i === j ? 1 : 0)) < 1e-12, `orthonormal ${i},${j}`);
    }
  }
});

Deno.test("productABt: tiled A·Bᵀ equals the naive triple loop on ragged shapes, symmetric and not", () => {
  const naive = (a: number[], m: number, b: number[], n: number, len: number) =>
    Array.from({ length: m * n }, (_, ij) => {
      let s = 0;
      for (let t = 0; t < len; t++) s += a[Math.floor(ij / n) * len + t] * b[(ij % n) * len + t];
      return 2 * s;
    });
  for (const [m, n, len] of [[7, 5, 3], [1, 9, 40000], [6, 6, 1]]) {
    const a = noise(m * len, m), b = noise(n * len, n + 1);
    assertClose(
      productABt(Float64Array.from(a), m, Float64Array.from(b), n, len, 2),
      naive(a, m, b, n, len),
      {
        rtol: 1e-12,
        atol: 1e-12,
        label: `${m}x${n}x${len}`,
      },
    );
  }
  const a = noise(11 * 13, 5);
  assertClose(
    productABt(Float64Array.from(a), 11, Float64Array.from(a), 11, 13, 2, true),
    naive(a, 11, a, 11, 13),
    {
      rtol: 1e-12,
      atol: 1e-12,
      label: "symmetric",
    },
  );
});

/** Rows a·s1·u1 + b·s2·u2 (+ c·s3·u3) for sign patterns that sum to zero and are mutually orthogonal. */
function constructed(signs: number[][], scales: number[], dirs: number[][], offset: number[]) {
  const v = offset.length, n = signs.length;
  const x = new Float64Array(n * v);
  signs.forEach((row, r) => {
    for (let c = 0; c < v; c++) {
      x[r * v + c] = offset[c] + row.reduce((s, a, k) => s + a * scales[k] * dirs[k][c], 0);
    }
  });
  return x;
}

Deno.test("PCA: closed form on constructed data (covariance route, n > v), sklearn K rule and sign rule", () => {
  // Orthonormal directions in R^3; 8 rows with the ±1 patterns of a 2^3 factorial design: each column of
  // signs sums to 0 and the columns are orthogonal, so cov = (8/7)·Σ s_k² d_k d_kᵀ exactly.
  const dirs = [[0.6, -0.8, 0], [0, 0, -1], [0.8, 0.6, 0]];
  const signs = [];
  for (const a of [1, -1]) for (const b of [1, -1]) for (const c of [1, -1]) signs.push([a, b, c]);
  const scales = [Math.sqrt(6), Math.sqrt(3), 1];
  const x = constructed(signs, scales, dirs, [10, -2, 0.5]);
  const total = (8 / 7) * 10;
  const full = fitPca(x, 8, 3, { k: 3 });
  assertClose(full.explainedVariance, [6, 3, 1].map((e) => e * 8 / 7), {
    atol: 1e-12,
    rtol: 0,
    label: "variances",
  });
  assertClose(full.explainedVarianceRatio, [0.6, 0.3, 0.1], { atol: 1e-12, rtol: 0, label: "ratios" });
  assertClose(full.mean, [10, -2, 0.5], { atol: 1e-12, rtol: 0, label: "mean" });
  // Sign rule: the largest-|entry| of each component is made positive: d1 and d2 flip, d3 stays.
  assertClose(full.components, [-0.6, 0.8, 0, 0, 0, 1, 0.8, 0.6, 0], {
    atol: 1e-12,
    rtol: 0,
    label: "components",
  });
  // Cumulative ratios 0.6, 0.9, 1.0: K is the first count whose cumulative ratio exceeds the threshold.
  equal(fitPca(x, 8, 3, { variance: 0.5 }).k, 1);
  equal(fitPca(x, 8, 3, { variance: 0.85 }).k, 2);
  equal(fitPca(x, 8, 3, { variance: 0.95 }).k, 3);
  // Eigenvalues 24/7·(0.6, 0.3, 0.1) of the unit-ratio matrix above: a floor between the 2nd and 3rd keeps 2.
  equal(fitPca(x, 8, 3, { minEigenvalue: 0.2 * fitPca(x, 8, 3, { k: 3 }).explainedVariance[0] }).k, 2);
  // Scores: row r's first score is −a·√6 (component 1 was flipped).
  const scores = pcaTransform(x, 8, full);
  assertClose(
    Array.from({ length: 8 }, (_, r) => scores[r * 3]),
    signs.map((g) => -g[0] * Math.sqrt(6)),
    { atol: 1e-6, rtol: 0, label: "scores" },
  );
  ok(Math.abs(total - full.explainedVariance.reduce((a, b) => a + b, 0)) < 1e-12);
});

Deno.test("PCA: Gram route (n ≤ v) gives the closed-form components of wide data", () => {
  // 4 rows in R^6, two orthonormal directions, patterns (±1, ±1): cov = (4/3)(4 d1d1ᵀ + d2d2ᵀ).
  const d1 = [0.5, 0.5, 0.5, 0.5, 0, 0], d2 = [0, 0, 0, 0, 0.6, -0.8];
  const signs = [[1, 1], [1, -1], [-1, 1], [-1, -1]];
  const x = constructed(signs, [2, 1], [d1, d2], [1, 2, 3, 4, 5, 6]);
  const fit = fitPca(x, 4, 6, { variance: 0.9 }); // ratios 0.8, 0.2 → K = 2
  equal(fit.k, 2);
  assertClose(fit.explainedVariance, [16 / 3, 4 / 3], { atol: 1e-12, rtol: 0, label: "variances" });
  assertClose(fit.components.subarray(0, 6), d1, { atol: 1e-12, rtol: 0, label: "component 1" });
  assertClose(fit.components.subarray(6, 12), [0, 0, 0, 0, -0.6, 0.8], {
    atol: 1e-12,
    rtol: 0,
    label: "component 2",
  });
});

Deno.test("averaging, split and z-score on a hand-computed case", () => {
  // 5 trials × 2 voxels; images 7, 3, 7, 9, 3 → rows in first-appearance order 7, 3, 9.
  const x = Float32Array.from([1, 10, 2, 20, 3, 30, 5, 50, 4, 40]);
  const avg = averageRepeats(x, 5, 2, Int32Array.from([7, 3, 7, 9, 3]));
  deepStrictEqual(Array.from(avg.ids), [7, 3, 9]);
  deepStrictEqual(Array.from(avg.counts), [2, 2, 1]);
  deepStrictEqual(Array.from(avg.mean), [2, 20, 3, 30, 5, 50]);
  const split = splitRows(avg, 2, [0, 1, 0]); // image 3 is a validation image
  deepStrictEqual(Array.from(split.trainIds), [7, 9]);
  deepStrictEqual(Array.from(split.valIds), [3]);
  // Training voxel 0: values 2, 5 → μ 3.5, population σ 1.5; voxel 1: 20, 50 → μ 35, σ 15.
  const stats = zscoreWithTrainStats(split.train, split.val, 2);
  assertClose(stats.mean, [3.5, 35], { label: "μ" });
  assertClose(stats.std, [1.5, 15], { label: "σ" });
  assertClose(split.train, [-1.5 / (1.5 + 1e-6), -15 / (15 + 1e-6), 1.5 / (1.5 + 1e-6), 15 / (15 + 1e-6)], {
    rtol: 1e-12,
    label: "train z",
  });
  assertClose(split.val, [-0.5 / (1.5 + 1e-6), -5 / (15 + 1e-6)], { rtol: 1e-12, label: "val z" });
  // A constant voxel has σ = 0: z = 0/(1e-6) = 0; NaN input becomes 0.
  const t = Float64Array.from([4, NaN, 4, 1]), v = Float64Array.from([4, 2]);
  zscoreWithTrainStats(t, v, 2);
  deepStrictEqual(Array.from(t), [0, 0, 0, 0]);
});

Deno.test("noise ceiling: NSD formula on constructed data", () => {
  // One session, 2 images × 3 repeats, one voxel: values 2, 4, 6 and −2, −4, −6. Session mean 0, population
  // variance 56/3. Per-image variance (ddof 1) = 4 → 3/14 in z units = σ²_noise; σ²_signal = 11/14;
  // ncsnr² = 11/3; NC = 100·(11/3)/(11/3 + 1/3) = 1100/12.
  // Voxel 2 is constant (σ = 0) → NaN. An image with 2 repeats (id 5) is ignored by the ceiling.
  const ids = Int32Array.from([1, 2, 1, 2, 1, 2, 5, 5]);
  const v0 = [2, -2, 4, -4, 6, -6, 0, 0];
  const x = new Float32Array(16);
  v0.forEach((value, t) => (x[2 * t] = value, x[2 * t + 1] = 3));
  // The repeats of id 5 change the session statistics, so compute the expectation from those exactly:
  const mean = 0, variance = v0.reduce((s, a) => s + (a - mean) ** 2, 0) / 8; // 112/8 = 14
  const noiseVar = 4 / variance, signalVar = 1 - noiseVar;
  const nc = noiseCeilingPerVoxel(x, 8, 2, [0], ids);
  assertClose([nc[0]], [100 * (signalVar / noiseVar) / (signalVar / noiseVar + 1 / 3)], {
    rtol: 1e-6,
    label: "NC",
  });
  ok(Number.isNaN(nc[1]), "constant voxel → NaN");
  // Without the extra trials the closed form 1100/12 holds exactly.
  const nc2 = noiseCeilingPerVoxel(Float32Array.from(v0.slice(0, 6)), 6, 1, [0], ids.subarray(0, 6));
  assertClose([nc2[0]], [1100 / 12], { rtol: 1e-6, label: "NC closed form" });
  // Per-session z-scoring: the same data in two sessions with different offsets and scales gives the same NC.
  const twoSessions = Float32Array.from([...v0.slice(0, 6), ...v0.slice(0, 6).map((a) => 10 + 3 * a)]);
  const idsTwo = Int32Array.from([1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
  assertClose(noiseCeilingPerVoxel(twoSessions, 12, 1, [0, 6], idsTwo), [1100 / 12], {
    rtol: 1e-6,
    label: "2 sessions",
  });
});

Deno.test("shuffled pairing: a seeded permutation of train+val ids; reproducible", () => {
  const train = Int32Array.from([1, 2, 3, 4, 5, 6]), val = Int32Array.from([7, 8]);
  const a = shufflePairing(train, val, 1024),
    b = shufflePairing(train, val, 1024),
    c = shufflePairing(train, val, 7);
  deepStrictEqual(a, b);
  ok(JSON.stringify(a) !== JSON.stringify(c), "another seed, another permutation");
  deepStrictEqual([...a.trainIds, ...a.valIds].sort(), [1, 2, 3, 4, 5, 6, 7, 8]);
  equal(a.trainIds.length, 6);
});

Deno.test("prepareRoi end to end on a tiny NSD download: HDF5 = NIfTI betas, mat = csv design, invariants", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nsd-prep-" });
  try {
    await buildTinyNsd(dir);
    const base = { nsd: dir, subject: 1, roi: "V1" } as const;
    const h5 = await prepareRoi({ ...base, format: "hdf5", design: "mat", pca: null });
    const nii = await prepareRoi({ ...base, format: "nifti", design: "csv", pca: null });
    deepStrictEqual(nii.train, h5.train);
    deepStrictEqual(nii.trainIds, h5.trainIds);
    // Validation = the 4 shared images, rows in first-appearance order of the design.
    const firstSeen = [...new Set(TINY_MASTERORDERING)];
    deepStrictEqual(
      Array.from(h5.valIds),
      firstSeen.filter((m) => m <= TINY_SHARED).map((m) => tinySubjectImage(1, m - 1) - 1),
    );
    deepStrictEqual(
      Array.from(h5.trainIds),
      firstSeen.filter((m) => m > TINY_SHARED).map((m) => tinySubjectImage(1, m - 1) - 1),
    );
    // z-scored training voxels: mean 0, population SD 1 (0 for the constant voxel 1).
    const V = h5.voxelIndex.length, n = h5.trainIds.length;
    for (let v = 0; v < V; v++) {
      let m = 0, q = 0;
      for (let r = 0; r < n; r++) m += h5.train[r * V + v] / n;
      for (let r = 0; r < n; r++) q += (h5.train[r * V + v] - m) ** 2 / n;
      ok(
        Math.abs(m) < 1e-6 && Math.abs(Math.sqrt(q) - (h5.voxelIndex[v] === 1 ? 0 : 1)) < 1e-5,
        `voxel ${v}`,
      );
    }
    ok(Number.isNaN(h5.noiseCeiling[Array.from(h5.voxelIndex).indexOf(1)]), "constant voxel has NaN NC");
    // PCA: 8 training images → at most 7 components; scores are uncorrelated with variances = eigenvalues.
    const p = await prepareRoi({ ...base, pca: { variance: 0.95 }, sessions: [1, 2, 3] });
    const k = p.k;
    ok(k >= 1 && k <= 7, `K = ${k}`);
    ok(p.pca!.explainedVarianceRatio.reduce((a, b) => a + b, 0) > 0.95);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        let c = 0;
        for (let r = 0; r < n; r++) c += p.train[r * k + i] * p.train[r * k + j] / (n - 1);
        ok(Math.abs(c - (i === j ? p.pca!.explainedVariance[i] : 0)) < 1e-4, `score covariance ${i},${j}`);
      }
    }
    // A subset of sessions finds its own trials: session 2 alone holds trials 8..15.
    const s2 = await prepareRoi({ ...base, sessions: [2], pca: null });
    deepStrictEqual(
      Array.from(s2.valIds),
      [...new Set(TINY_MASTERORDERING.slice(8, 16))].filter((m) => m <= TINY_SHARED).map((m) =>
        tinySubjectImage(1, m - 1) - 1
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("PCA 'signal' rule: the Marchenko–Pastur edge of the noise-ceiling noise keeps the signal's rank", () => {
  // n images × V voxels: rank-3 signal (scores of SD 3 along near-unit random directions, so component
  // variances ≈ 9) plus independent noise of variance 0.5.
  const n = 400, V = 60, rank = 3, rng = new Random("mp-edge");
  const directions = Array.from(
    { length: rank },
    () => Float64Array.from({ length: V }, () => rng.normal() / Math.sqrt(V)),
  );
  const x = new Float64Array(n * V);
  for (let i = 0; i < n; i++) {
    const scores = directions.map(() => 3 * rng.normal());
    for (let v = 0; v < V; v++) {
      let signal = 0;
      for (let r = 0; r < rank; r++) signal += scores[r] * directions[r][v];
      x[i * V + v] = signal + Math.sqrt(0.5) * rng.normal();
    }
  }
  // NC = 50 % for every voxel → noise variance 0.5 → edge 0.5·(1 + √(60/400))².
  const floor = signalEigenvalueFloor(new Float32Array(V).fill(50), n);
  assertClose([floor], [0.5 * (1 + Math.sqrt(V / n)) ** 2], { atol: 1e-6, rtol: 0, label: "edge" });
  equal(fitPca(x, n, V, { minEigenvalue: floor }).k, rank);
  // Pure noise stays below the edge: only the one component the rule always keeps.
  const noise = Float64Array.from({ length: n * V }, () => Math.sqrt(0.5) * rng.normal());
  equal(fitPca(noise, n, V, { minEigenvalue: floor }).k, 1);
  // A voxel without a noise ceiling counts as pure noise.
  assertClose([signalEigenvalueFloor(Float32Array.of(NaN, 100), 8)], [0.5 * (1 + Math.sqrt(2 / 8)) ** 2], {
    atol: 1e-9,
    rtol: 0,
    label: "NaN voxel",
  });
});
