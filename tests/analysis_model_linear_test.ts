// Model-side analyses on `linear` models (logits = Wx + b with mean 0, std 1), checked against float64 CPU
// references from the weights: features `logits` = Wx + b, smoothness at ε = 0 from ∇ₓCE = Wᵀ(softmax − onehot),
// the landscape at the origin and one step along the adversarial sign direction = CE computed on the CPU, the
// CLI kinds on a checkpoint and a data file, and `analyze shape-bias --model` on a fabricated cue-conflict
// folder whose decisions the weights fix; plus pooled ResNet stages (the last equals avgpool). Tiny shapes
// (1×4×4 or 3×4×4 inputs) so the software adapter runs the lot in a few seconds.
import { join } from "node:path";
import { encode as encodePng } from "../lib/deps/fast_png.ts";
import { createAttackModel } from "../lib/attacks/model.ts";
import { AttackOps } from "../lib/attacks/ops.ts";
import { landscape, modelFeatures, smoothness } from "../lib/analysis/mod.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { saveCheckpoint } from "../lib/nn/checkpoint.ts";
import { modelConfig } from "../lib/nn/models.ts";
import { Plan } from "../lib/nn/plan.ts";
import { Random } from "../lib/random.ts";
import { assertClose, deepStrictEqual, equal } from "../lib/testing/assert.ts";
import { readSafetensors, writeSafetensors } from "../lib/io/safetensors.ts";
import { main as analyze } from "../tasks/analyze.ts";

const DIM = 16, CLASSES = 3, POINTS = 10, BATCH = 4;

/** Random weights, points in [0, 1] and labels (POINTS is not a multiple of BATCH: the last batch pads). */
function problem(seed: number) {
  const random = new Random(seed);
  const w = Float32Array.from({ length: CLASSES * DIM }, () => random.normal());
  const b = Float32Array.from({ length: CLASSES }, () => 0.1 * random.normal());
  const x = Float32Array.from({ length: POINTS * DIM }, () => random.uniform(0, 1));
  const y = Uint32Array.from({ length: POINTS }, () => Math.floor(random.uniform(0, CLASSES)));
  const config = modelConfig("linear", { classes: CLASSES, imageSize: 4, channels: 1, mean: [0], std: [1] });
  return { w, b, x, y, config, weights: new Map([["fc.weight", w], ["fc.bias", b]]) };
}

/** Float64 logits of one image. */
function logitsOf(w: Float32Array, b: Float32Array, x: ArrayLike<number>): number[] {
  return Array.from({ length: CLASSES }, (_, k) => {
    let z = b[k];
    for (let i = 0; i < DIM; i++) z += w[k * DIM + i] * x[i];
    return z;
  });
}

/** Float64 softmax probabilities and CE of one image. */
function softmaxCe(z: number[], label: number): { p: number[]; ce: number } {
  const m = Math.max(...z), e = z.map((v) => Math.exp(v - m)), s = e.reduce((a, v) => a + v, 0);
  return { p: e.map((v) => v / s), ce: Math.log(s) + m - z[label] };
}

Deno.test("features: logits equal Wx + b and avgpool the (flattened) input, across a padded last batch", async () => {
  const { w, b, x, config, weights } = problem(1);
  const plan = await Plan.create(await getGpu(), config, BATCH, { paramGrads: false });
  plan.loadStateDict(weights);
  const tables = await modelFeatures(plan, x, POINTS);
  const logits = tables.get("logits")!;
  equal(logits.rows, POINTS);
  equal(logits.cols, CLASSES);
  const expected = Array.from(
    { length: POINTS },
    (_, n) => logitsOf(w, b, x.subarray(n * DIM, (n + 1) * DIM)),
  )
    .flat();
  // fp32 dot products of 16 terms of size ≈ 1: 1e-5 absolute.
  assertClose(logits.data, expected, { atol: 1e-5 });
  assertClose(tables.get("avgpool")!.data, x, { atol: 1e-6 });
  equal(tables.has("neural_head"), false);
});

Deno.test("smoothness at ε = 0 equals mean ‖Wᵀ(softmax − onehot)‖² × 400 from the weights", async () => {
  const { w, b, x, y, config, weights } = problem(2);
  const ops = await AttackOps.create(await createAttackModel(await getGpu(), config, weights, BATCH));
  let sum = 0;
  for (let n = 0; n < POINTS; n++) {
    const { p } = softmaxCe(logitsOf(w, b, x.subarray(n * DIM, (n + 1) * DIM)), y[n]);
    for (let i = 0; i < DIM; i++) {
      let g = 0;
      for (let k = 0; k < CLASSES; k++) g += w[k * DIM + i] * (p[k] - (k === y[n] ? 1 : 0));
      sum += g * g;
    }
  }
  const [clean, attacked] = await smoothness(ops, x, y, POINTS, [0, 0.05]);
  // fp32 softmax and GEMV against float64: 1e-4 relative.
  assertClose([clean.value], [(sum / POINTS) * 400], { rtol: 1e-4 });
  equal(attacked.eps, 0.05);
  equal(Number.isFinite(attacked.value), true);
});

Deno.test("landscape: the origin is the clean CE; (+span, 0) is the CE at clip(x + span·sign ∇ₓCE)", async () => {
  const { w, b, x, y, config, weights } = problem(3);
  const ops = await AttackOps.create(await createAttackModel(await getGpu(), config, weights, BATCH));
  const span = 0.05;
  const grids = await landscape(ops, x, y, 2, { grid: 3, span, directions: "adv-rand", seed: 0 });
  equal(grids.length, 2);
  for (const [n, g] of grids.entries()) {
    const xn = x.subarray(n * DIM, (n + 1) * DIM);
    const z = logitsOf(w, b, xn);
    const { p, ce } = softmaxCe(z, y[n]);
    assertClose(g.coordinates, [-span, 0, span], { atol: 1e-12 });
    assertClose([g.loss[1][1]], [ce], { atol: 1e-5 });
    assertClose([g.margin[1][1]], [z[y[n]] - Math.max(...z.filter((_, k) => k !== y[n]))], { atol: 1e-5 });
    const moved = Array.from(xn, (v, i) => {
      let grad = 0;
      for (let k = 0; k < CLASSES; k++) grad += w[k * DIM + i] * (p[k] - (k === y[n] ? 1 : 0));
      return Math.min(1, Math.max(0, v + span * Math.sign(grad)));
    });
    assertClose([g.loss[2][1]], [softmaxCe(logitsOf(w, b, moved), y[n]).ce], { atol: 1e-5 });
  }
});

Deno.test("analyze shape-bias --model --cue-conflict: decisions fixed by the weights give the hand count", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Each output reads one colour channel, so a uniform red/green/blue image is classified a/b/c.
    const w = new Float32Array(CLASSES * 3 * DIM);
    for (let k = 0; k < CLASSES; k++) w.fill(1, k * 3 * DIM + k * DIM, k * 3 * DIM + (k + 1) * DIM);
    const config = modelConfig("linear", {
      classes: CLASSES,
      imageSize: 4,
      mean: [0, 0, 0],
      std: [1, 1, 1],
    });
    const model = join(dir, "model.safetensors");
    await saveCheckpoint(model, config, new Map([["fc.weight", w], ["fc.bias", new Float32Array(CLASSES)]]));
    const folder = join(dir, "cue");
    // shape / file / colour (= decision): a→a shape, a→b neither, b→a texture, b→b shape, c→c shape.
    const trials: [string, string, number][] = [
      ["a", "a1-b1.png", 0],
      ["a", "a1-c1.png", 1],
      ["b", "b1-a1.png", 0],
      ["b", "b1-c1.png", 1],
      ["c", "c1-a1.png", 2],
    ];
    for (const [shape, file, colour] of trials) {
      await Deno.mkdir(join(folder, shape), { recursive: true });
      const rgb = new Uint8Array(3 * DIM);
      for (let i = 0; i < DIM; i++) rgb[i * 3 + colour] = 255;
      await Deno.writeFile(
        join(folder, shape, file),
        encodePng({ width: 4, height: 4, data: rgb, channels: 3 }),
      );
    }
    await Deno.writeTextFile(join(folder, "classes.txt"), "a\nb\nc\n");
    const out = join(dir, "bias.json");
    await analyze(["shape-bias", "--model", dir, "--cue-conflict", folder, "--out", out]);
    const result = JSON.parse(await Deno.readTextFile(out));
    equal(result.shape, 3);
    equal(result.texture, 1);
    equal(result.neither, 1);
    assertClose([result.shapeBias], [0.75], { atol: 1e-12 });
    assertClose([result.perClass.b.shapeBias], [0.5], { atol: 1e-12 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("analyze features|smoothness|landscape on a checkpoint and a safetensors data file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { w, b, x, y, config, weights } = problem(4);
    await saveCheckpoint(join(dir, "model.safetensors"), config, weights);
    const data = join(dir, "data.safetensors");
    await writeSafetensors(data, {
      images: { shape: [POINTS, 1, 4, 4], data: x },
      labels: { shape: [POINTS], data: Int32Array.from(y) },
    });
    const common = ["--model", dir, "--data", data, "--batch", String(BATCH)];
    const features = join(dir, "features.safetensors");
    await analyze(["features", ...common, "--n", "7", "--out", features]);
    const file = await readSafetensors(features);
    deepStrictEqual([...file.tensors.keys()].sort(), ["avgpool", "labels", "logits"]);
    deepStrictEqual(file.tensors.get("logits")!.shape, [7, CLASSES]);
    const expected = Array.from({ length: 7 }, (_, n) => logitsOf(w, b, x.subarray(n * DIM, (n + 1) * DIM)))
      .flat();
    assertClose(file.tensors.get("logits")!.data as Float32Array, expected, { atol: 1e-5 });
    deepStrictEqual([...file.tensors.get("labels")!.data as Int32Array], [...y.subarray(0, 7)]);

    // std 1: normalized and pixel ε coincide.
    const smooth = join(dir, "smooth.json");
    await analyze(["smoothness", ...common, "--eps", "0,0.1", "--out", smooth]);
    const curve = JSON.parse(await Deno.readTextFile(smooth)).smoothness;
    deepStrictEqual(curve.map((r: { epsPixel: number }) => r.epsPixel), [0, 0.1]);

    const land = join(dir, "land.json");
    await analyze([
      "landscape",
      ...common,
      "--n",
      "1",
      "--grid",
      "3",
      "--directions",
      "rand-rand",
      "--out",
      land,
    ]);
    const grid = JSON.parse(await Deno.readTextFile(land)).inputs[0];
    const ce = softmaxCe(logitsOf(w, b, x.subarray(0, DIM)), y[0]).ce;
    assertClose([grid.loss[1][1]], [ce], { atol: 1e-5 });
    equal((await Deno.readTextFile(join(dir, "land.csv"))).trim().split("\n").length, 1 + 9);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("features with stages: the last stage averaged over space is avgpool; earlier stages have their widths", async () => {
  const config = modelConfig("resnet-tiny", { classes: CLASSES, imageSize: 8 });
  const plan = await Plan.create(await getGpu(), config, 2, { paramGrads: false });
  plan.initialize(0);
  const random = new Random(5);
  const x = Float32Array.from({ length: 3 * 3 * 8 * 8 }, () => random.uniform(0, 1));
  const tables = await modelFeatures(plan, x, 3, { stages: true });
  const widths = (config as { widths: number[] }).widths;
  const last = `layer${widths.length}`;
  deepStrictEqual(
    [...tables.keys()].filter((k) => k.startsWith("layer")),
    widths.map((_, i) => `layer${i + 1}`),
  );
  widths.forEach((width, i) => equal(tables.get(`layer${i + 1}`)!.cols, width));
  // The same mean summed in a different order (CPU float64 vs the GPU pooling kernel's fp32): 1e-5.
  assertClose(tables.get(last)!.data, tables.get("avgpool")!.data, { atol: 1e-5 });
});
