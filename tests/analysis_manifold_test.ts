/**
 * MFTMA and linear separability on constructed manifolds with closed-form answers.
 *
 * At κ = 0 the reference's per-t term max(t·s̃, 0)²/‖s̃‖² equals ‖Π_C t‖², the squared projection of t onto the
 * cone C spanned by the manifold's points (Moreau decomposition of the QP), so α⁻¹ is the statistical
 * dimension of C. For a point, C is a ray: α⁻¹ = ½ (α = 2). For a segment of half-length R about a unit centre,
 * C is a planar wedge of angle θ = 2·atan R: α⁻¹ = θ/π + ½. The estimate averages nT Gaussian draws, so the
 * tolerance is 4 standard errors (the per-t term is a mixture of χ² variables with variance ≤ 2).
 */
import { fromRows, linearSeparability, manifoldAnalysis, type Matrix } from "../lib/analysis/mod.ts";
import { Random } from "../lib/random.ts";
import { assertClose, equal, ok, throws } from "../lib/testing/assert.ts";

const NT = 20000;
const tolerance = (inverse: number) => (4 * Math.sqrt(2 / NT)) / inverse; // relative, on α = 1/α⁻¹

/** Two manifolds about centres ±e₀ in `dims` dimensions, each made of the given offsets. */
function pair(offsets: number[][], dims: number): Matrix[] {
  return [1, -1].map((sign) =>
    fromRows(offsets.map((o) => Array.from({ length: dims }, (_, c) => (c === 0 ? sign : 0) + (o[c] ?? 0))))
  );
}

Deno.test("manifold: point manifolds have capacity 2, radius 0, dimension 0 at κ = 0", () => {
  const result = manifoldAnalysis(pair([[0]], 4), { nT: NT, seed: 1 });
  assertClose([result.capacity], [2], { rtol: tolerance(0.5), atol: 0 });
  for (const g of result.perManifold) {
    equal(g.radius, 0);
    equal(g.dimension, 0);
  }
});

Deno.test("manifold: a segment's capacity is 1/(½ + 2·atan(R)/π)", () => {
  for (const r of [0.5, 2]) {
    const result = manifoldAnalysis(pair([[0, r], [0, -r]], 5), { nT: NT, seed: 2 });
    const inverse = 0.5 + (2 * Math.atan(r)) / Math.PI;
    for (const g of result.perManifold) {
      assertClose([g.capacity], [1 / inverse], { rtol: tolerance(inverse), atol: 0, label: `R=${r}` });
      // Anchor points lie on the segment, so the anchor radius is at most R.
      ok(g.radius > 0 && g.radius <= r + 1e-12, `radius ${g.radius} for R = ${r}`);
    }
  }
});

Deno.test("manifold: capacity ≤ 2 and falls as the margin κ rises", () => {
  const random = new Random(5);
  const cloud = (centre: number) =>
    fromRows(
      Array.from({ length: 8 }, () =>
        Array.from({ length: 20 }, (_, c) => (c === centre ? 3 : 0) + random.normal())),
    );
  const manifolds = [cloud(0), cloud(1), cloud(2)];
  let previous = Infinity;
  for (const kappa of [0, 0.2, 0.5]) {
    const { capacity, perManifold } = manifoldAnalysis(manifolds, { kappa, nT: 300, seed: 3 });
    ok(perManifold.every((g) => g.capacity <= 2), `κ=${kappa}: capacity above 2`);
    ok(capacity < previous, `κ=${kappa}: capacity ${capacity} did not fall below ${previous}`);
    previous = capacity;
  }
});

Deno.test("manifold: inputs are checked", () => {
  throws(() => manifoldAnalysis([fromRows([[1, 2]])]), /at least 2 manifolds/);
  throws(() => manifoldAnalysis([fromRows([[1, 2]]), fromRows([[1, 2, 3]])]), /manifold 1 has 3 features/);
  throws(
    () => manifoldAnalysis([fromRows([[1, 0]]), fromRows([[1, 0]])]),
    /centre of manifold 0 equals the global mean/,
  );
});

Deno.test("separability: well-separated classes are read out perfectly", () => {
  const random = new Random(9);
  const rows: number[][] = [], labels: number[] = [];
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < 12; i++) {
      rows.push(Array.from({ length: 5 }, (_, c) => (c === k ? 10 : 0) + 0.1 * random.normal()));
      labels.push(k * 7); // arbitrary label values
    }
  }
  const wide = fromRows(rows.map((r) => [...r, ...Array.from({ length: 40 }, () => random.normal() * 0.01)]));
  for (const x of [fromRows(rows), wide]) { // primal (5 features) and dual (45 > 27 train rows) forms
    const result = linearSeparability(x, labels, { seed: 1 });
    equal(result.accuracy, 1);
    equal(result.nTest, 9);
    equal(result.classes, 3);
  }
});

Deno.test("separability: a symmetric 1-D problem thresholds at 0 (accuracy known exactly)", () => {
  // Train: class 0 at −2, −1; class 1 at 1, 2 → boundary at 0 for any ridge. Test: −0.5 and 0.7 land on
  // their class's side, 0.5 (class 0) and −0.3 (class 1) do not: accuracy ½.
  const x = fromRows([[-2], [-1], [1], [2], [-0.5], [0.5], [0.7], [-0.3]]);
  const labels = [0, 0, 1, 1, 0, 0, 1, 1];
  const test = [false, false, false, false, true, true, true, true];
  const result = linearSeparability(x, labels, { test });
  equal(result.accuracy, 0.5);
  equal(result.trainAccuracy, 1);
});
