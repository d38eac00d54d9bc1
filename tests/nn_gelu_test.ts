/**
 * The GELU layer kind end to end through the layer machinery: recorded by `GraphBuilder.layer`, bound by
 * `createLayerKernels`, its forward against the float64 closed form ½x(1 + tanh(√(2/π)(x + 0.044715x³))) and
 * its backward (overwrite and accumulate) against central finite differences of that closed form.
 */
import { getGpu } from "../lib/gpu/device.ts";
import { GraphBuilder } from "../lib/nn/graph.ts";
import { createLayerKernels } from "../lib/nn/layers.ts";
import { assertClose, deepStrictEqual, equal, ok } from "../lib/testing/assert.ts";
import { dot, f32, finiteDifference, random, run, zeros } from "./reference/numeric.ts";

/** PyTorch's `gelu(x, approximate="tanh")` in float64. */
const gelu = (x: Float64Array) =>
  x.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));

Deno.test("gelu layer: recorded without parameters; forward and backward match float64 and finite differences", async () => {
  const gpu = await getGpu();
  const g = new GraphBuilder([2, 3, 4, 5]);
  const output = g.layer("gelu", { input: g.input });
  deepStrictEqual(output.shape, [2, 3, 4, 5]);
  equal(g.params.length, 0);
  const layer = g.layers[0];
  equal(layer.op, "gelu");

  const count = 120;
  const x = random(count, 11, -4, 4);
  // Saturated and tiny inputs: exp must neither overflow into NaN nor lose the linear regime.
  x.set([0, 1e-3, -1e-3, 10, -10, 30, -30, 100, -100]);
  const dy = random(count, 12), prior = random(count, 13);
  const [xb, yb, dxb, dyb] = [f32(gpu, x), zeros(gpu, count), zeros(gpu, count), f32(gpu, dy)];
  const accb = f32(gpu, prior);
  const values = new Map([[g.input.storage, xb], [output.storage, yb]]);
  const bound = (dx: GPUBuffer) =>
    createLayerKernels(gpu, layer, {
      storage: (node) => values.get(node.storage)!,
      gradOf: (node) => node.storage === output.storage ? dyb : dx,
      params: new Map(),
      paramGrads: new Map(),
      bnMomentum: 0.1,
    });
  const [overwrite, accumulate] = await Promise.all([bound(dxb), bound(accb)]);
  const [y, dx, acc] = await run(
    gpu,
    [
      ...overwrite.forward("train"),
      ...overwrite.backward("train", [false], true),
      ...accumulate.backward("train", [true], true),
    ],
    [yb, count],
    [dxb, count],
    [accb, count],
  );
  // Rounded to float32 as the GPU sees them, so the references differ from it by arithmetic only.
  const x32 = Float64Array.from(Float32Array.from(x));
  const reference = gelu(x32);
  const slope = finiteDifference((v) => dot(gelu(v), dy), x32, 1e-5);
  ok([...y, ...dx].every(Number.isFinite), "finite at ±100");
  assertClose(y, reference, { rtol: 1e-5, atol: 1e-6, label: "y" });
  assertClose(dx, slope, { rtol: 1e-4, atol: 1e-5, label: "dx" });
  assertClose(acc, slope.map((v, i) => v + prior[i]), { rtol: 1e-4, atol: 1e-5, label: "dx accumulated" });
  // Spot values of the closed form: gelu(0) = 0, gelu(−100) = −0, gelu(100) = 100, gelu′(0) = ½.
  deepStrictEqual([y[0], y[7], y[8]].map((v) => Math.abs(v)), [0, 100, 0]);
  assertClose([dx[0] / dy[0]], [0.5], { rtol: 1e-6, atol: 0, label: "gelu′(0)" });
});
