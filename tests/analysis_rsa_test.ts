/**
 * RSA against rsatoolbox's published values (`docs/attacks-and-analyses.md#test-vectors`) and constructed
 * data with closed-form answers. Tolerance 1e-6 absolute: the reference values are printed to 6 decimals.
 */
import {
  classicalMds,
  compareRdms,
  compareRdmSets,
  crossnobisRdm,
  fromRows,
  rdm,
  squareForm,
} from "../lib/analysis/mod.ts";
import { assertClose, equal, rejects, throws } from "../lib/testing/assert.ts";

const X = fromRows([[1, 2, 3], [2, 0, 1], [0, 1, 4], [3, 3, 0]]);
const EUCLIDEAN = [3, 1, 4.666667, 4.666667, 3.666667, 9.666667];
const CORRELATION = [1.5, 0.039231, 1.866025, 1.240192, 1.0, 1.970725];
const PRINTED = { atol: 1e-6, rtol: 0 };

Deno.test("rsa: euclidean and correlation RDMs equal rsatoolbox's test vector", async () => {
  assertClose(await rdm(X, "euclidean"), EUCLIDEAN, { ...PRINTED, label: "euclidean" });
  assertClose(await rdm(X, "correlation"), CORRELATION, { ...PRINTED, label: "correlation" });
});

Deno.test("rsa: comparisons equal rsatoolbox's values on the test RDMs", async () => {
  const v1 = await rdm(X, "euclidean"), v2 = await rdm(X, "correlation");
  const expected: [Parameters<typeof compareRdms>[2], number][] = [
    ["cosine", 0.945429],
    ["corr", 0.773762],
    ["spearman", 0.782691],
    ["rho-a", 0.771429],
    ["tau-a", 0.666667],
    ["cosine_cov", 0.917375],
    ["corr_cov", 0.828751],
  ];
  for (const [method, value] of expected) {
    assertClose([compareRdms(v1, v2, method)], [value], { ...PRINTED, label: method });
    // Self-comparison is 1 for every method on an RDM without ties (v1 has one, which lowers rho-a and tau-a).
    assertClose([compareRdms(v2, v2, method)], [1], { atol: 1e-12, rtol: 0, label: `${method} self` });
  }
});

Deno.test("rsa: rank comparisons handle ties as rsatoolbox does", () => {
  const t1 = [1, 1, 2, 3, 3, 4], t2 = [1, 2, 3, 4, 5, 6];
  assertClose([compareRdms(t1, t2, "tau-a")], [0.866667], { ...PRINTED, label: "tau-a" });
  assertClose([compareRdms(t1, t2, "rho-a")], [0.942857], { ...PRINTED, label: "rho-a" });
  assertClose([compareRdms(t1, t2, "spearman")], [0.971008], { ...PRINTED, label: "spearman" });
  // Reversed order: every untied pair is discordant, so tau-a = −(15 − 2 ties)/15.
  assertClose([compareRdms(t1, [...t2].reverse(), "tau-a")], [-13 / 15], { atol: 1e-12, rtol: 0 });
});

Deno.test("rsa: comparison matrices are model × model and model × ROI", async () => {
  const v1 = await rdm(X, "euclidean"), v2 = await rdm(X, "correlation");
  const m = compareRdmSets([v1, v2], [v2], "corr");
  equal(m.length, 2);
  equal(m[0].length, 1);
  assertClose([m[0][0], m[1][0]], [0.773762, 1], PRINTED);
});

Deno.test("rsa: crossnobis of two folds x ± e equals ‖Δx‖² − ‖Δe‖² per channel", () => {
  // Folds A = X + E, B = X − E. Leave-one-out with 2 folds averages (ΔA·ΔB + ΔB·ΔA)/p = (‖Δx‖² − ‖Δe‖²)/p.
  const x = [[1, 2, 3], [2, 0, 1], [0, 1, 4]];
  const e = [[0.5, 0, 0], [0, 0.5, 0], [0, 0, 1]];
  const fold = (sign: number) => fromRows(x.map((row, i) => row.map((v, c) => v + sign * e[i][c])));
  const d = crossnobisRdm([fold(1), fold(-1)]);
  // ‖Δx‖²: (0,1): 1+4+4 = 9, (0,2): 1+1+1 = 3, (1,2): 4+1+9 = 14; ‖Δe‖²: 0.5, 1.25, 1.25.
  assertClose(d, [(9 - 0.5) / 3, (3 - 1.25) / 3, (14 - 1.25) / 3], { atol: 1e-12, rtol: 0 });
  // Identical folds: the squared euclidean RDM; a precision of 2·I doubles it.
  const same = fromRows(x);
  assertClose(crossnobisRdm([same, same, same]), [3, 1, 14 / 3], { atol: 1e-12, rtol: 0 });
  const twoI = new Float64Array([2, 0, 0, 0, 2, 0, 0, 0, 2]);
  assertClose(crossnobisRdm([same, same], { precision: twoI }), [6, 2, 28 / 3], { atol: 1e-12, rtol: 0 });
});

Deno.test("rsa: classical MDS recovers a planar configuration up to rotation", async () => {
  // Points of a 3-4-5 right triangle plus one more: MDS of the squared-distance RDM (euclidean × channels)
  // must reproduce every pairwise distance, and B's eigenvalues are those of the centred scatter matrix.
  const points = [[0, 0], [3, 0], [0, 4], [3, 4], [1, 1]];
  const d = (await rdm(fromRows(points), "euclidean")).map((v) => v * 2);
  const { coordinates, eigenvalues } = classicalMds(d, 2);
  const distances = squareForm(d);
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 5; j++) {
      const dx = coordinates[i * 2] - coordinates[j * 2],
        dy = coordinates[i * 2 + 1] - coordinates[j * 2 + 1];
      assertClose([dx * dx + dy * dy], [distances[i * 5 + j]], {
        atol: 1e-9,
        rtol: 0,
        label: `d(${i},${j})`,
      });
    }
  }
  // Centred coordinates: mean (1.4, 1.8); scatter Σx² = 12.8 + ... computed by hand below.
  const xs = [0, 3, 0, 3, 1].map((v) => v - 1.4), ys = [0, 0, 4, 4, 1].map((v) => v - 1.8);
  const sxx = xs.reduce((s, v) => s + v * v, 0), syy = ys.reduce((s, v) => s + v * v, 0);
  const sxy = xs.reduce((s, v, i) => s + v * ys[i], 0);
  const half = (sxx + syy) / 2, root = Math.sqrt(((sxx - syy) / 2) ** 2 + sxy ** 2);
  assertClose(eigenvalues, [half + root, half - root], { atol: 1e-9, rtol: 0 });
});

Deno.test("rsa: bad input is a one-line error", async () => {
  throws(() => compareRdms([1, 2, 3], [1, 2], "corr"), /3 and 2 entries/);
  throws(() => compareRdms([1, 2, NaN], [1, 2, 3], "corr"), /not finite/);
  await rejects(() => rdm(fromRows([[1, 1, 1], [1, 2, 3]]), "correlation"), /stimulus 0 is constant/);
  throws(() => squareForm([1, 2]), /not n\(n-1\)\/2/);
});
