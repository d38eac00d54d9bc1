import { getGpu } from "../lib/gpu/device.ts";
import { Reduce } from "../lib/ops/reduction.ts";
import { ShapeError } from "../lib/ops/shape.ts";
import { assertClose, deepStrictEqual, rejects, throws } from "../lib/testing/assert.ts";
import { f32, random, run, zeros } from "./reference/numeric.ts";

// fp32 sums of up to 3·10⁵ positive terms in ≤ 4096 partials, then a sum of the partials: error ≲ 1e-5 relative.
const TOL = { rtol: 1e-4, atol: 0 };

// 300 007 values exceed 64 · 4096, so the default cap on partials applies and each strides ~73 times;
// partials 3 forces long strides on a small buffer; count 1 is the degenerate case.
for (const [count, partials] of [[1, undefined], [1001, 3], [300_007, undefined]] as const) {
  Deno.test(`reduce: sum of squares, accumulated, and squared difference (count ${count}, partials ${partials ?? "default"})`, async () => {
    const gpu = await getGpu();
    const x = random(count, count), y = random(count, count + 1);
    const reduce = await Reduce.create(gpu, { count, partials });
    const [xb, yb, out, acc, diff] = [
      f32(gpu, x),
      f32(gpu, y),
      zeros(gpu, 1),
      f32(gpu, [0.5]),
      zeros(gpu, 1),
    ];
    const [sum, accumulated, scaled] = await run(
      gpu,
      [
        ...reduce.sumOfSquares({ x: xb, out }),
        ...reduce.sumOfSquares({ x: xb, out: acc }, true),
        ...reduce.sumOfSquares({ x: yb, out: acc }, true),
        ...reduce.sumOfSquaredDifferences({ a: xb, b: yb, out: diff }, 0.25),
      ],
      [out, 1],
      [acc, 1],
      [diff, 1],
    );
    const sq = (v: Float64Array) => v.reduce((s, e) => s + e * e, 0);
    assertClose(sum, [sq(x)], { ...TOL, label: "Σx²" });
    assertClose(accumulated, [0.5 + sq(x) + sq(y)], { ...TOL, label: "accumulated" });
    assertClose(scaled, [0.25 * sq(x.map((v, i) => v - y[i]))], { ...TOL, label: "¼Σ(x−y)²" });
  });
}

Deno.test("reduce: the non-finite flag flips on NaN, +Inf and -Inf anywhere, stays 0 otherwise, and is sticky", async () => {
  const gpu = await getGpu();
  const count = 70_001;
  const reduce = await Reduce.create(gpu, { count });
  const clean = random(count, 5, -3e38, 3e38); // huge but finite
  const flags: number[] = [];
  for (const [at, value] of [[-1, 0], [0, NaN], [count - 1, Infinity], [12_345, -Infinity]]) {
    const x = Float32Array.from(clean);
    if (at >= 0) x[at] = value;
    const flag = gpu.upload(new Uint32Array([0]));
    gpu.submit(reduce.nonFinite({ x: gpu.upload(x), flag }));
    flags.push(new Uint32Array(await gpu.read(flag, 4))[0]);
  }
  deepStrictEqual(flags, [0, 1, 1, 1]);
  const flag = gpu.upload(new Uint32Array([0]));
  const bad = f32(gpu, [1, NaN, 3]), good = f32(gpu, [1, 2, 3]);
  const small = await Reduce.create(gpu, { count: 3 });
  gpu.submit([...small.nonFinite({ x: bad, flag }), ...small.nonFinite({ x: good, flag })]);
  deepStrictEqual(Array.from(new Uint32Array(await gpu.read(flag, 4))), [1]);
});

Deno.test("reduce: a zero count is a ShapeError", async () => {
  const gpu = await getGpu();
  await rejects(
    Reduce.create(gpu, { count: 0 }),
    (e: Error) => e instanceof ShapeError && /Reduce/.test(e.message),
  );
});

Deno.test("reduce: a buffer smaller than the count is a ShapeError naming the shape", async () => {
  const gpu = await getGpu();
  const reduce = await Reduce.create(gpu, { count: 10 });
  throws(
    () => reduce.sumOfSquares({ x: zeros(gpu, 8), out: zeros(gpu, 1) }),
    /Reduce: input must hold \[10\]/,
  );
});
