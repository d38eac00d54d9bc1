import { getGpu } from "../lib/gpu/device.ts";
import { type ModelConfig, modelConfig } from "../lib/nn/models.ts";
import { Plan } from "../lib/nn/plan.ts";
import { loadCheckpoint, saveCheckpoint } from "../lib/nn/checkpoint.ts";
import { Random } from "../lib/random.ts";
import { deepStrictEqual, equal, rejects } from "../lib/testing/assert.ts";

const gpu = await getGpu();
const tiny = {
  ...modelConfig("resnet-tiny", { classes: 3, imageSize: 8, neuralDim: 2 }),
  widths: [4, 4, 8, 8],
} as ModelConfig;

Deno.test("checkpoint: save → load gives identical logits, counters as I64", async () => {
  const dir = await Deno.makeTempDir();
  const plan = await Plan.create(gpu, tiny, 2);
  plan.initialize(4);
  plan.countTrainStep();
  plan.countTrainStep();
  const images = Float32Array.from({ length: 2 * 3 * 64 }, (_, i) => (i % 17) / 17);
  plan.setInput(images);
  gpu.submit(plan.forward("eval"));
  const before = await plan.read(plan.model.logits);
  await saveCheckpoint(`${dir}/model.safetensors`, tiny, await plan.stateDict(), { epoch: "3" });

  const loaded = await loadCheckpoint(`${dir}/model.safetensors`);
  deepStrictEqual(loaded.config, tiny);
  equal(loaded.metadata.epoch, "3");
  equal(loaded.weights.get("bn1.num_batches_tracked")![0], 2);
  const again = await Plan.create(gpu, loaded.config, 2);
  again.loadStateDict(loaded.weights);
  again.setInput(images);
  gpu.submit(again.forward("eval"));
  deepStrictEqual(await again.read(again.model.logits), before);
  // PyTorch stores num_batches_tracked as int64: check the raw header says so.
  const bytes = await Deno.readFile(`${dir}/model.safetensors`);
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  deepStrictEqual(header["bn1.num_batches_tracked"].dtype, "I64");
  deepStrictEqual(header["bn1.num_batches_tracked"].shape, []);
  deepStrictEqual(header["layer2.0.downsample.0.weight"].shape, [4, 4, 1, 1]);
});

Deno.test("checkpoint: a torchvision-style file built by hand from the spec loads (no config, I64 counter)", async () => {
  const config = {
    ...modelConfig("mlp", { classes: 2, imageSize: 2, channels: 1 }),
    hidden: [3],
  } as ModelConfig;
  const random = new Random(1);
  const tensors: [string, number[]][] = [["hidden.0.weight", [3, 4]], ["hidden.0.bias", [3]], ["fc.weight", [
    2,
    3,
  ]], [
    "fc.bias",
    [2],
  ]];
  // Lay the file out by hand: u64 header length, JSON header, then raw little-endian data, unsorted names.
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const values = new Map<string, Float32Array>();
  for (const [name, shape] of tensors.reverse()) {
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.normal());
    values.set(name, data);
    header[name] = { dtype: "F32", shape, data_offsets: [offset, offset + data.byteLength] };
    chunks.push(new Uint8Array(data.buffer));
    offset += data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const file = new Uint8Array(8 + json.length + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
  file.set(json, 8);
  let at = 8 + json.length;
  for (const chunk of chunks) {
    file.set(chunk, at);
    at += chunk.length;
  }
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/torch.safetensors`, file);
  await rejects(loadCheckpoint(`${dir}/torch.safetensors`), /no model config in the metadata/);
  const loaded = await loadCheckpoint(`${dir}/torch.safetensors`, config);
  for (const [name, data] of values) deepStrictEqual(loaded.weights.get(name), data);
  const plan = await Plan.create(gpu, config, 1);
  plan.loadStateDict(loaded.weights);
  deepStrictEqual((await plan.stateDict()).get("fc.weight"), values.get("fc.weight"));
});

Deno.test("checkpoint: mismatches name the file and the first bad tensor", async () => {
  const dir = await Deno.makeTempDir();
  const plan = await Plan.create(gpu, tiny, 1);
  plan.initialize(0);
  await saveCheckpoint(`${dir}/a.safetensors`, tiny, await plan.stateDict());
  const wider = { ...tiny, widths: [4, 4, 8, 16] } as ModelConfig;
  await rejects(
    loadCheckpoint(`${dir}/a.safetensors`, wider),
    /a\.safetensors: tensor 'layer4\.0\.conv1\.weight' has shape \[8,8,3,3\], expected \[16,8,3,3\]/,
  );
  await rejects(loadCheckpoint(`${dir}/missing.safetensors`), /missing\.safetensors: no such checkpoint/);
});
