/**
 * The GPU Gram path against the float64 CPU product (itself checked by the RSA/CKA test vectors). fp32
 * accumulation over k terms: tolerance 1e-5 relative to the largest entry.
 */
import { cka, fromRows, gram, gramCpu, type Matrix, rdm } from "../lib/analysis/mod.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { Random } from "../lib/random.ts";
import { assertClose } from "../lib/testing/assert.ts";

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const random = new Random(seed);
  return fromRows(
    Array.from({ length: rows }, () => Array.from({ length: cols }, () => random.normal() + 0.5)),
  );
}

Deno.test("gram: CPU product equals X Xᵀ written out", () => {
  assertClose(gramCpu(fromRows([[1, 2], [3, 4], [0, -1]])), [5, 11, -2, 11, 25, -4, -2, -4, 1], {
    atol: 0,
    rtol: 0,
  });
});

Deno.test("gram: the GPU path (odd shape) matches the float64 product; RDM and CKA follow", async () => {
  const gpu = await getGpu();
  const x = randomMatrix(37, 203, 1), y = randomMatrix(37, 29, 2);
  const onGpu = { gpu, minGpuWork: 0 };
  const expected = gramCpu(x);
  const scale = Math.max(...expected.map(Math.abs));
  assertClose(await gram(x, onGpu), expected, { atol: 1e-5 * scale, rtol: 0, label: "gram" });
  assertClose(await rdm(x, "correlation", onGpu), await rdm(x, "correlation"), {
    atol: 1e-5,
    rtol: 0,
    label: "rdm",
  });
  assertClose([await cka(x, y, onGpu)], [await cka(x, y)], { atol: 1e-5, rtol: 0, label: "cka" });
});
