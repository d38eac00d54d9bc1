/**
 * CKA against the reference's test vector (`docs/attacks-and-analyses.md#test-vectors`, printed to 6
 * decimals, so 1e-6 absolute) and its invariances, which hold exactly in exact arithmetic (1e-12 here).
 */
import { cka, ckaFromGrams, fromRows, gramCpu, type Matrix } from "../lib/analysis/mod.ts";
import { Random } from "../lib/random.ts";
import { assertClose, ok, rejects } from "../lib/testing/assert.ts";

const X = fromRows([[1, 2, 3], [2, 0, 1], [0, 1, 4], [3, 3, 0], [1, 1, 1]]);
const Y = fromRows([[0.5, 1], [1, -1], [2, 0], [0, 3], [1, 1]]);
const EXACT = { atol: 1e-12, rtol: 0 };

Deno.test("cka: linear and unbiased CKA equal the reference test vector", async () => {
  assertClose([await cka(X, Y)], [0.570177], { atol: 1e-6, rtol: 0, label: "linear" });
  assertClose([await cka(X, Y, { unbiased: true })], [-0.047425], { atol: 1e-6, rtol: 0, label: "unbiased" });
});

Deno.test("cka: the unbiased value needs no feature centring (HSIC_u is shift invariant)", () => {
  // Raw (uncentred) Grams, exactly as the reference formula states it.
  assertClose([ckaFromGrams(gramCpu(X), gramCpu(Y), 5, true)], [-0.047425], { atol: 1e-6, rtol: 0 });
});

/** Y = s·X·Q + shift with Q a random orthogonal matrix (Gram–Schmidt of a seeded Gaussian matrix). */
function transformed(x: Matrix, scale: number, shift: number, seed: number): Matrix {
  const p = x.cols, random = new Random(seed);
  const q: number[][] = [];
  while (q.length < p) {
    const v = Array.from({ length: p }, () => random.normal());
    for (const u of q) {
      const d = u.reduce((s, ui, i) => s + ui * v[i], 0);
      u.forEach((ui, i) => (v[i] -= d * ui));
    }
    const norm = Math.hypot(...v);
    q.push(v.map((vi) => vi / norm));
  }
  const rows: number[][] = [];
  for (let r = 0; r < x.rows; r++) {
    rows.push(q.map((_, c) => scale * q.reduce((s, qk, k) => s + x.data[r * p + k] * qk[c], 0) + shift));
  }
  return fromRows(rows);
}

Deno.test("cka: invariant to orthogonal rotation, isotropic scale and feature shift", async () => {
  const random = new Random(7);
  const a = fromRows(Array.from({ length: 12 }, () => Array.from({ length: 6 }, () => random.normal())));
  const b = fromRows(Array.from({ length: 12 }, () => Array.from({ length: 4 }, () => random.normal())));
  for (const unbiased of [false, true]) {
    const base = await cka(a, b, { unbiased });
    const moved = transformed(a, 2, 5, 3);
    assertClose([await cka(moved, b, { unbiased })], [base], { ...EXACT, label: `unbiased=${unbiased}` });
    assertClose([await cka(a, moved, { unbiased })], [1], { ...EXACT, label: `self, unbiased=${unbiased}` });
  }
});

Deno.test("cka: not invariant to a general (anisotropic) linear map", async () => {
  const random = new Random(11);
  const a = fromRows(Array.from({ length: 12 }, () => Array.from({ length: 3 }, () => random.normal())));
  const stretched = fromRows(
    Array.from({ length: 12 }, (_, r) => [10 * a.data[r * 3], a.data[r * 3 + 1], a.data[r * 3 + 2]]),
  );
  ok(await cka(a, stretched) < 0.99);
});

Deno.test("cka: mismatched stimuli and too few for the unbiased estimate are errors", async () => {
  await rejects(() => cka(X, fromRows([[1], [2]])), /5 and 2 stimuli/);
  const three = fromRows([[1], [2], [4]]);
  await rejects(() => cka(three, three, { unbiased: true }), /at least 4 stimuli/);
});
