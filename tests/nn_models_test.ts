import { buildModel, modelConfig } from "../lib/nn/models.ts";
import { initialValues } from "../lib/nn/init.ts";
import { assertClose, deepStrictEqual, equal, ok, throws } from "../lib/testing/assert.ts";

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

Deno.test("resnet18 matches torchvision's state dict: 122 entries, 11,689,512 parameters (1000 classes)", () => {
  const { graph } = buildModel(modelConfig("resnet18", { classes: 1000, imageSize: 224 }), 1);
  equal(graph.params.length, 122); // 62 parameters + 20 BN layers × 3 buffers
  equal(graph.params.filter((p) => p.trainable).length, 62);
  // torchvision.models.resnet18(): sum(p.numel() for p in parameters()) == 11_689_512
  equal(graph.params.filter((p) => p.trainable).reduce((a, p) => a + count(p.shape), 0), 11_689_512);
  const byName = new Map(graph.params.map((p) => [p.name, p.shape]));
  deepStrictEqual(byName.get("conv1.weight"), [64, 3, 7, 7]);
  deepStrictEqual(byName.get("layer2.0.downsample.0.weight"), [128, 64, 1, 1]);
  deepStrictEqual(byName.get("layer4.1.bn2.running_var"), [512]);
  deepStrictEqual(byName.get("layer3.0.bn1.num_batches_tracked"), []);
  deepStrictEqual(byName.get("fc.weight"), [1000, 512]);
  ok(!byName.has("layer1.0.downsample.0.weight"), "layer1 has no downsample in torchvision");
});

Deno.test("resnet18 shapes: 224 px → 7×7 before the global pool", () => {
  const built = buildModel(modelConfig("resnet18", { classes: 50, imageSize: 224, neuralDim: 20 }), 2);
  const pooled = built.graph.layers.find((l) => l.op === "avgpool")!;
  deepStrictEqual(pooled.input.shape, [2, 512, 7, 7]);
  deepStrictEqual(built.logits.shape, [2, 50]);
  deepStrictEqual(built.neural?.shape, [2, 20]);
});

Deno.test("neural head at layer1..3 reads the adaptive-pooled stage (sizes as docs/method.md#head-position)", () => {
  const expected = { layer1: 1024, layer2: 512, layer3: 1024 } as const;
  for (const [position, features] of Object.entries(expected)) {
    const config = modelConfig("resnet18", { classes: 50, imageSize: 224, neuralDim: 7 });
    const built = buildModel({ ...config, headPosition: position } as typeof config, 1);
    const head = built.graph.params.find((p) => p.name === "neural_head.weight")!;
    deepStrictEqual(head.shape, [7, features], position);
  }
});

Deno.test("linear and mlp models flatten the normalised image", () => {
  const lin = buildModel(modelConfig("linear", { classes: 4, imageSize: 5, channels: 2 }), 3);
  deepStrictEqual(lin.graph.params.map((p) => [p.name, p.shape]), [["fc.weight", [4, 50]], ["fc.bias", [4]]]);
  const mlp = buildModel(modelConfig("mlp", { classes: 4, imageSize: 5, channels: 1 }), 3);
  deepStrictEqual(mlp.graph.params.map((p) => p.name), [
    "hidden.0.weight",
    "hidden.0.bias",
    "fc.weight",
    "fc.bias",
  ]);
});

Deno.test("initialisation follows torchvision's distributions", () => {
  const { graph } = buildModel(modelConfig("resnet18", { classes: 10, imageSize: 64 }), 1);
  const values = initialValues(graph.params, 7);
  const conv = values.get("layer3.0.conv1.weight")!; // kaiming normal, fan_out = 256·9
  const variance = conv.reduce((a, v) => a + v * v, 0) / conv.length;
  assertClose([variance], [2 / (256 * 9)], { rtol: 0.02, label: "conv weight variance" });
  const fc = values.get("fc.weight")!;
  ok(fc.every((v) => Math.abs(v) <= 1 / Math.sqrt(512)), "fc weight inside ±1/√fan_in");
  ok(values.get("bn1.weight")!.every((v) => v === 1) && values.get("bn1.running_var")!.every((v) => v === 1));
  deepStrictEqual(initialValues(graph.params, 7).get("conv1.weight"), values.get("conv1.weight"));
});

Deno.test("unknown architecture and head positions that do not fit the image are clear errors", () => {
  throws(
    () => modelConfig("resnet99", { classes: 2, imageSize: 32 }),
    /unknown architecture 'resnet99'.*resnet18/,
  );
  const config = modelConfig("resnet18", { classes: 2, imageSize: 24, neuralDim: 3 });
  throws(
    () => buildModel({ ...config, headPosition: "layer1" } as typeof config, 1),
    /6×6 is not divisible into 4×4/,
  );
});
