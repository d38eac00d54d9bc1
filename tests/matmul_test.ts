import { getGpu } from "../lib/gpu/device.ts";
import { Linear } from "../lib/ops/linear.ts";
import { Matmul } from "../lib/ops/matmul.ts";
import { ShapeError } from "../lib/ops/shape.ts";
import { Random } from "../lib/random.ts";
import { assertClose, rejects, throws } from "../lib/testing/assert.ts";
import { checkFiniteDifferences, randomTensor, runAndRead, sumTolerance } from "./harness.ts";
import { gemmRef, linearGradRef, linearRef } from "./reference/gemm.ts";

const VARIANTS = ["cpu", "gpu"] as const;

Deno.test("matmul: both kernel variants match the float64 reference (odd sizes, transposes, accumulate, alpha)", async () => {
  const gpu = await getGpu();
  const random = new Random(7);
  const cases = [
    { m: 1, n: 1, k: 1 },
    { m: 5, n: 7, k: 9 },
    { m: 33, n: 17, k: 45, transA: true },
    { m: 20, n: 41, k: 13, transB: true },
    { m: 9, n: 70, k: 67, transA: true, transB: true, accumulate: true, alpha: -0.5 },
    { m: 16, n: 24, k: 36 }, // aligned: the unmasked fast path
    { m: 8, n: 136, k: 12, transA: true, transB: true },
    { m: 70, n: 130, k: 20, accumulate: true },
  ];
  // every case on the cpu variant, a few on the gpu one (each specialisation costs a pipeline compile)
  for (const variant of VARIANTS) {
    for (const c of variant === "cpu" ? cases : [cases[1], cases[4], cases[5]]) {
      const a = randomTensor(random, c.m * c.k), b = randomTensor(random, c.k * c.n);
      const c0 = randomTensor(random, c.m * c.n);
      const out = gpu.upload(c0);
      const mm = await Matmul.create(gpu, { ...c, variant });
      const got = await runAndRead(
        gpu,
        mm.run({ a: gpu.upload(a), b: gpu.upload(b), c: out }),
        out,
        c.m * c.n,
      );
      const want = gemmRef(a, b, { ...c, c0: c.accumulate ? c0 : undefined });
      assertClose(got, want, { ...sumTolerance(c.k), label: `${variant} ${JSON.stringify(c)}` });
    }
  }
});

Deno.test("linear: forward and both backward passes match the reference on both variants", async () => {
  const gpu = await getGpu();
  const random = new Random(11);
  const shapes = [[1, 13, 5, true], [6, 32, 10, false], [37, 9, 21, true]] as const;
  for (const variant of VARIANTS) {
    for (const [batch, inFeatures, outFeatures, bias] of variant === "cpu" ? shapes : [shapes[2]]) {
      const x = randomTensor(random, batch * inFeatures), w = randomTensor(random, outFeatures * inFeatures);
      const b = randomTensor(random, outFeatures), dy = randomTensor(random, batch * outFeatures);
      const dx0 = randomTensor(random, batch * inFeatures);
      const fc = await Linear.create(gpu, { batch, inFeatures, outFeatures, bias, variant });
      const [xb, wb, bb, dyb] = [x, w, b, dy].map((t) => gpu.upload(t));
      const label = `${variant} linear ${batch}×${inFeatures}→${outFeatures}`;
      const y = gpu.buffer(batch * outFeatures * 4);
      const yGot = await runAndRead(
        gpu,
        fc.forward({ x: xb, weight: wb, bias: bias ? bb : undefined, y }),
        y,
        batch * outFeatures,
      );
      assertClose(yGot, linearRef(x, w, bias ? b : undefined, batch, inFeatures, outFeatures), {
        ...sumTolerance(inFeatures),
        label,
      });

      const want = linearGradRef(x, w, dy, batch, inFeatures, outFeatures);
      const dx = gpu.upload(dx0);
      const dxGot = await runAndRead(
        gpu,
        fc.backwardInput({ dy: dyb, weight: wb, dx }, true),
        dx,
        dx0.length,
      );
      assertClose(dxGot, want.dx.map((v, i) => v + dx0[i]), {
        ...sumTolerance(outFeatures),
        label: `${label} dx += `,
      });
      const dxSet = await runAndRead(gpu, fc.backwardInput({ dy: dyb, weight: wb, dx }), dx, dx0.length);
      assertClose(dxSet, want.dx, { ...sumTolerance(outFeatures), label: `${label} dx` });

      const dWeight = gpu.buffer(w.byteLength), dBias = gpu.buffer(b.byteLength);
      const dwGot = await runAndRead(
        gpu,
        fc.backwardParams({ x: xb, dy: dyb, dWeight, dBias: bias ? dBias : undefined }),
        dWeight,
        w.length,
      );
      assertClose(dwGot, want.dWeight, { ...sumTolerance(batch), label: `${label} dW` });
      if (bias) {
        assertClose(await gpu.readF32(dBias, outFeatures), want.dBias, {
          ...sumTolerance(batch),
          label: `${label} dBias`,
        });
      }
    }
  }
});

Deno.test("linear reference: gradients agree with central finite differences", () => {
  const random = new Random(3);
  const [batch, inFeatures, outFeatures] = [3, 7, 4];
  const x = randomTensor(random, batch * inFeatures), w = randomTensor(random, outFeatures * inFeatures);
  const b = randomTensor(random, outFeatures), r = randomTensor(random, batch * outFeatures);
  const loss = (xx: ArrayLike<number>, ww: ArrayLike<number>, bb: ArrayLike<number>) =>
    linearRef(xx, ww, bb, batch, inFeatures, outFeatures).reduce((s, v, i) => s + v * r[i], 0);
  const grad = linearGradRef(x, w, r, batch, inFeatures, outFeatures);
  checkFiniteDifferences((p) => loss(p, w, b), x, grad.dx, { label: "dx" });
  checkFiniteDifferences((p) => loss(x, p, b), w, grad.dWeight, { label: "dW" });
  checkFiniteDifferences((p) => loss(x, w, p), b, grad.dBias, { label: "dBias" });
});

Deno.test("matmul: bad shapes and short buffers are ShapeErrors naming the op", async () => {
  const gpu = await getGpu();
  await rejects(
    Matmul.create(gpu, { m: 0, n: 3, k: 3 }),
    (e: Error) => e instanceof ShapeError && /matmul: m/.test(e.message),
  );
  await rejects(
    Linear.create(gpu, { batch: 2, inFeatures: 3.5, outFeatures: 2, bias: false }),
    (e: Error) => e instanceof ShapeError && /linear: inFeatures/.test(e.message),
  );
  await rejects(
    Matmul.create(gpu, { m: 2 ** 14, n: 2 ** 14, k: 4 }),
    (e: Error) => e instanceof ShapeError && /\[16384, 16384\].*storage binding limit/.test(e.message),
  );
  const mm = await Matmul.create(gpu, { m: 8, n: 8, k: 8 });
  const small = gpu.buffer(16);
  throws(
    () => mm.run({ a: small, b: small, c: small }),
    (e: Error) => e instanceof ShapeError && /A buffer.*\[8, 8\]/.test(e.message),
  );
});
