import { join } from "node:path";
import { getGpu } from "../lib/gpu/device.ts";
import { readSafetensors } from "../lib/io/safetensors.ts";
import { type DimSign, ManifoldLoss, type ManifoldTargets } from "../lib/ops/manifold_loss.ts";
import { type GuidedRunOptions, MANIFOLD_STATS_FILE, trainGuidedRun } from "../lib/train/guided_run.ts";
import { manifoldTargets } from "../lib/train/manifold_stats.ts";
import { assertClose, deepStrictEqual, equal, ok } from "../lib/testing/assert.ts";
import { killAndResume, runTask } from "./fixtures/run_task.ts";
import { TINY_GUIDED, tinyClassificationData, tinyPredictor, tinyWorld } from "./fixtures/world.ts";
import { f32, finiteDifference, random, run, zeros } from "./reference/numeric.ts";
import { softmaxCrossEntropy } from "./reference/nn.ts";

const gpu = await getGpu();

/** Orthonormal rows by Gram–Schmidt of seeded random vectors (float64). */
function orthonormalRows(count: number, dim: number, seed: number): Float64Array[] {
  const rows: Float64Array[] = [];
  for (let r = 0; r < count; r++) {
    const v = random(dim, seed + r).slice();
    for (const u of rows) {
      const d = u.reduce((s, x, k) => s + x * v[k], 0);
      u.forEach((x, k) => v[k] -= d * x);
    }
    const norm = Math.hypot(...v);
    rows.push(v.map((x) => x / norm));
  }
  return rows;
}

const EPS = 1e-6;
const normEps = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0) + EPS * EPS);

/**
 * docs/method.md#manifold-guidance written out directly in float64: L_rad = mean over classes present of
 * ReLU(RMS‖h − μ_c‖ − r_c); L_dim = mean over classes with ≥ 2 rows of the class mean of ±‖x̃ − Px̃‖/‖x̃‖ (x̃
 * centred on the class's batch mean, P = Σ u uᵀ over the class's basis rows).
 */
function manifoldReference(
  head: Float64Array,
  labels: Uint32Array,
  t: { centres: Float64Array; radii: Float64Array; bases: Float64Array[][]; dim: number; classes: number },
  sign: number,
) {
  const { dim } = t;
  let rad = 0, present = 0, dimTerm = 0, spread = 0;
  for (let c = 0; c < t.classes; c++) {
    const rows = [...labels.keys()].filter((i) => labels[i] === c);
    if (rows.length === 0) continue;
    present++;
    const h = rows.map((i) => head.subarray(i * dim, i * dim + dim));
    const meanSq = h.reduce((s, x) =>
      s + x.reduce((a, v, k) => a + (v - t.centres[c * dim + k]) ** 2, 0), 0) /
      rows.length;
    rad += Math.max(Math.sqrt(meanSq) - t.radii[c], 0);
    if (rows.length < 2) continue;
    spread++;
    const mean = Array.from({ length: dim }, (_, k) => h.reduce((s, x) => s + x[k], 0) / rows.length);
    let ratio = 0;
    for (const x of h) {
      const centred = x.map((v, k) => v - mean[k]);
      const residual = centred.slice();
      for (const u of t.bases[c]) {
        const z = u.reduce((s, v, k) => s + v * centred[k], 0);
        u.forEach((v, k) => residual[k] -= z * v);
      }
      ratio += normEps(residual) / normEps(centred);
    }
    dimTerm += sign * ratio / rows.length;
  }
  return { rad: rad / Math.max(present, 1), dim: dimTerm / Math.max(spread, 1) };
}

/** Packs per-class bases (ragged) into the loss's zero-padded [classes, rank, dim] layout. */
function packTargets(
  centres: Float64Array,
  radii: Float64Array,
  bases: Float64Array[][],
  dim: number,
): ManifoldTargets {
  const classes = bases.length, rank = Math.max(...bases.map((b) => b.length));
  const basis = new Float32Array(classes * rank * dim);
  bases.forEach((rows, c) => rows.forEach((u, d) => basis.set(u, (c * rank + d) * dim)));
  return {
    classes,
    dim,
    rank,
    centres: Float32Array.from(centres),
    radii: Float32Array.from(radii),
    basis,
    dims: Int32Array.from(bases, (b) => b.length),
  };
}

for (const dimSign of ["raise-vaf", "lower-vaf"] as DimSign[]) {
  Deno.test(`manifold loss (${dimSign}): value, dLogits and dHead against a float64 reference and differences`, async () => {
    const batch = 12, classes = 4, dim = 6;
    // Class 0: 6 rows, class 1: 5, class 2: 1 (radius term only), class 3 absent from the batch.
    const labels = Uint32Array.from([0, 1, 0, 2, 1, 0, 1, 0, 1, 0, 0, 1]);
    const bases = [orthonormalRows(3, dim, 10), orthonormalRows(2, dim, 20), orthonormalRows(3, dim, 30), [
      ...orthonormalRows(1, dim, 40),
    ]];
    const centres = random(classes * dim, 5, -0.5, 0.5);
    // Class 0's hinge is active, class 1's is not (large radius), class 2's is.
    const radii = Float64Array.from([0.2, 5, 0.1, 1]);
    const head = random(batch * dim, 7, -1.5, 1.5);
    const logits = random(batch * classes, 8, -2, 2);
    const weights = { ce: 0.7, rad: 0.15, dim: 0.15, dimSign };
    const scale = 2;
    const loss = await ManifoldLoss.create(gpu, {
      batch,
      logitClasses: classes,
      targets: packTargets(centres, radii, bases, dim),
      weights,
      scale,
    });
    const b = {
      logits: f32(gpu, logits),
      labels: gpu.upload(labels),
      head: f32(gpu, head),
      out: zeros(gpu, 5),
      dLogits: zeros(gpu, batch * classes),
      dHead: zeros(gpu, batch * dim),
    };
    const [out, dLogits, dHead] = await run(
      gpu,
      [...loss.forward(b), ...loss.backward(b)],
      [b.out, 5],
      [b.dLogits, batch * classes],
      [b.dHead, batch * dim],
    );
    const sign = dimSign === "raise-vaf" ? 1 : -1;
    const targets = { centres, radii, bases, dim, classes };
    const ref = manifoldReference(head, labels, targets, sign);
    const ce = softmaxCrossEntropy(logits, labels, classes);
    ok(ref.rad > 0.05 && Math.abs(ref.dim) > 0.1, `the terms are not trivially zero: ${JSON.stringify(ref)}`);
    const tol = { rtol: 1e-4, atol: 1e-5 };
    assertClose(
      Array.from(out),
      [0.7 * ce.loss + 0.15 * ref.rad + 0.15 * ref.dim, ce.loss, ref.rad, ref.dim, ce.correct],
      { ...tol, label: "[total, ce, rad, dim, correct]" },
    );
    assertClose(dLogits, ce.dLogits.map((g) => scale * 0.7 * g), { ...tol, label: "dLogits" });
    const total = (h: Float64Array) => {
      const r = manifoldReference(h, labels, targets, sign);
      return scale * (0.15 * r.rad + 0.15 * r.dim);
    };
    assertClose(dHead, finiteDifference(total, head), {
      rtol: 2e-3,
      atol: 2e-5,
      label: "dHead vs differences",
    });
    // Class 3 is absent and class 2 alone contributes no subspace term: its rows feel only the radius pull.
    const row2 = labels.indexOf(2);
    const expected = Array.from(
      { length: dim },
      (_, k) =>
        scale * 0.15 * (head[row2 * dim + k] - centres[2 * dim + k]) /
        Math.sqrt(
          head.subarray(row2 * dim, row2 * dim + dim).reduce(
            (s, v, j) => s + (v - centres[2 * dim + j]) ** 2,
            0,
          ),
        ) /
        3,
    );
    assertClose(dHead.subarray(row2 * dim, row2 * dim + dim), expected, {
      ...tol,
      label: "single-row class",
    });
    equal(labels.includes(3), false);
  });
}

Deno.test("manifold statistics: centre, radius and basis of points on known planes (closed form)", () => {
  const dim = 5, classes = 3;
  // Class c: centre m_c + 3a·v1 + b·v2 for (a, b) ∈ {±1}²: mean m_c, RMS radius √(9 + 1), variance 9 : 1
  // along v1, v2, so 95 % keeps both directions and 85 % keeps v1 only.
  const planes = [0, 1, 2].map((c) => orthonormalRows(2, dim, 100 + 10 * c));
  const centres = random(classes * dim, 3, -2, 2);
  const points: number[] = [], labels: number[] = [];
  for (let c = 0; c < classes; c++) {
    const [v1, v2] = planes[c];
    for (const [a, b] of [[1, 1], [1, -1], [-1, 1], [-1, -1]]) {
      for (let k = 0; k < dim; k++) points.push(centres[c * dim + k] + 3 * a * v1[k] + b * v2[k]);
      labels.push(c);
    }
  }
  const fit = (basis: { variance: number } | { k: number }) =>
    manifoldTargets(Float32Array.from(points), Uint32Array.from(labels), labels.length, dim, classes, basis);
  const projector = (rows: ArrayLike<number>[]) =>
    Array.from(
      { length: dim * dim },
      (_, e) => rows.reduce((s, u) => s + u[Math.floor(e / dim)] * u[e % dim], 0),
    );
  const tol = { rtol: 1e-5, atol: 1e-5 };
  const both = fit({ variance: 0.95 }), top = fit({ variance: 0.85 }), one = fit({ k: 1 });
  deepStrictEqual([...both.dims, ...top.dims, ...one.dims], [2, 2, 2, 1, 1, 1, 1, 1, 1]);
  assertClose(both.centres, centres, { ...tol, label: "centres" });
  assertClose(both.radii, [Math.sqrt(10), Math.sqrt(10), Math.sqrt(10)], { ...tol, label: "radii" });
  for (let c = 0; c < classes; c++) {
    const rows = (t: ManifoldTargets) =>
      Array.from(
        { length: t.dims[c] },
        (_, d) => t.basis.subarray((c * t.rank + d) * dim, (c * t.rank + d + 1) * dim),
      );
    assertClose(projector(rows(both)), projector(planes[c]), { ...tol, label: `class ${c} plane` });
    assertClose(projector(rows(top)), projector([planes[c][0]]), {
      ...tol,
      label: `class ${c} top direction`,
    });
    deepStrictEqual(projector(rows(one)), projector(rows(top)));
  }
});

Deno.test("train task --guidance manifold: a tiny run writes the statistics, metrics and summary", async () => {
  const np = await tinyPredictor(gpu), world = await tinyWorld();
  const out = join(await Deno.makeTempDir(), "manifold");
  const args = [
    "--guidance",
    "manifold",
    "--predictor",
    np,
    "--sim",
    world,
    "--arch",
    "resnet-tiny",
    "--size",
    "32",
  ];
  const run = await runTask("train", [...args, "--batch", "8", "--epochs", "1", "--out", out, "--quiet"]);
  equal(run.code, 0, run.stderr);
  ok(/manifold guidance from ROI TO/.test(run.stdout), run.stdout);
  const stats = await readSafetensors(join(out, MANIFOLD_STATS_FILE));
  deepStrictEqual(stats.tensors.get("centres")!.shape, [4, 6]); // 4 classes, the predictor's K = 6
  ok(Array.from(stats.tensors.get("radii")!.data as Float32Array).every((r) => r > 0), "radii are positive");
  equal(stats.metadata.roi, "TO");
  const summary = JSON.parse(await Deno.readTextFile(join(out, "summary.json")));
  equal(summary.guidance, "manifold");
  deepStrictEqual(summary.manifold.weights, { ce: 0.7, rad: 0.15, dim: 0.15, dimSign: "raise-vaf" });
  for (const key of ["train_rad", "train_dim", "train_ce", "val_acc", "val_rad", "val_dim"]) {
    ok(Number.isFinite(summary.final[key]), `${key}: ${summary.final[key]}`);
  }
  // 1 − VAF lies in [0, 1].
  for (const key of ["train_dim", "val_dim"]) {
    ok(summary.final[key] >= 0 && summary.final[key] <= 1, `${key} ${summary.final[key]}`);
  }

  const cases: [string[], RegExp, number][] = [
    [["--guidance", "manifold"], /--guidance manifold needs --predictor RUN/, 2],
    [
      ["--guidance", "manifold", "--predictor", np, "--manifold-weights", "0.7,0.3"],
      /--manifold-weights: expected three/,
      2,
    ],
    [["--guidance", "manifold", "--predictor", np, "--manifold-weights", "1,-1,0"], /--manifold-weights/, 2],
    [["--guidance", "manifold", "--predictor", np, "--alpha", "0.5"], /--alpha does not apply/, 2],
    [["--manifold-var", "0.9"], /--manifold-var applies to --guidance manifold/, 2],
    [
      ["--guidance", "manifold", "--predictor", np, "--manifold-dim-sign", "up"],
      /--manifold-dim-sign: expected/,
      2,
    ],
    [
      [
        "--guidance",
        "manifold",
        "--predictor",
        join(out, "missing"),
        "--sim",
        world,
        "--out",
        join(out, "x"),
      ],
      /missing/,
      2, // a --predictor path that does not exist is a bad flag value
    ],
  ];
  for (const [argv, message, code] of cases) {
    const result = await runTask("train", [...argv, "--quiet"]);
    equal(result.code, code, `${argv.join(" ")}: ${result.stderr}`);
    ok(message.test(result.stderr), `${argv.join(" ")}: ${result.stderr}`);
    equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  }
});

/** A library-level manifold run on the tiny world; returns the per-epoch metrics. */
async function manifoldRun(
  overrides: Partial<GuidedRunOptions>,
  weights = { ce: 0.7, rad: 0.15, dim: 0.15 },
) {
  const data = await tinyClassificationData();
  const out = join(await Deno.makeTempDir(), "m");
  try {
    await trainGuidedRun(gpu, data, {
      ...TINY_GUIDED,
      out,
      epochs: 3,
      lr: 0.05,
      predictor: await tinyPredictor(gpu),
      alpha: 0,
      manifold: { weights: { ...weights, dimSign: "raise-vaf" }, basis: { variance: 0.95 } },
      ...overrides,
    });
  } finally {
    data.close();
  }
  const lines = (await Deno.readTextFile(join(out, "metrics.jsonl"))).trim().split("\n");
  return lines.map((l) => JSON.parse(l) as Record<string, number>);
}

Deno.test("manifold guidance: each term pulls the head towards its target; CE alone does not", async () => {
  const lr = { lr: 0.01 };
  const ceOnly = await manifoldRun(lr, { ce: 1, rad: 0, dim: 0 });
  const radOnly = await manifoldRun(lr, { ce: 0, rad: 1, dim: 0 });
  const dimOnly = await manifoldRun(lr, { ce: 0, rad: 0, dim: 1 });
  const show = (m: Record<string, number>[], key: string) => m.map((e) => e[key].toFixed(3)).join(" ");
  console.log(
    `L_rad per epoch: radius term only ${show(radOnly, "train_rad")}, CE only ${show(ceOnly, "train_rad")}`,
  );
  console.log(
    `L_dim per epoch: subspace term only ${show(dimOnly, "train_dim")}, CE only ${show(ceOnly, "train_dim")}`,
  );
  const last = (m: Record<string, number>[], key: string) => m.at(-1)![key];
  ok(last(radOnly, "train_rad") < 0.5 * last(ceOnly, "train_rad"), "the radius hinge shrinks L_rad");
  ok(last(dimOnly, "train_dim") < last(ceOnly, "train_dim") - 0.05, "the subspace term shrinks 1 − VAF");
  ok(last(dimOnly, "train_dim") < dimOnly[0].train_dim - 0.1, "L_dim falls over training");
});

Deno.test("train task --guidance manifold: killed mid-run and resumed, it ends with the uninterrupted run's metrics", async () => {
  const np = await tinyPredictor(gpu), world = await tinyWorld();
  const dir = await Deno.makeTempDir();
  const args = (out: string) => [
    ...["--guidance", "manifold", "--predictor", np, "--sim", world, "--arch", "resnet-tiny", "--size", "16"],
    ...["--batch", "8", "--epochs", "3", "--checkpoint-every", "1", "--out", out, "--quiet"],
  ];
  const r = await killAndResume("train", args, join(dir, "whole"), join(dir, "resumed"));
  ok(r.killedEarly, "the killed run must not look finished");
  deepStrictEqual(r.after.final, r.whole.final);
  deepStrictEqual(r.epochs, [1, 2, 3]);
});
