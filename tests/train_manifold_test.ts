import { getGpu } from "../lib/gpu/device.ts";
import { type DimSign, ManifoldLoss, type ManifoldTargets } from "../lib/ops/manifold_loss.ts";
import { assertClose, equal, ok } from "../lib/testing/assert.ts";
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
 * method.md §7 written out directly in float64: L_rad = mean over classes present of ReLU(RMS‖h − μ_c‖ − r_c);
 * L_dim = mean over classes with ≥ 2 rows of the class mean of ±‖x̃ − Px̃‖/‖x̃‖ (x̃ centred on the class's batch
 * mean, P = Σ u uᵀ over the class's basis rows).
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
