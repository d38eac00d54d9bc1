import {
  checkStateDict,
  CONFIG_METADATA_KEY,
  encodeSafetensors,
  parseSafetensors,
  readConfig,
  readSafetensors,
  SafetensorsError,
  writeSafetensors,
} from "../lib/io/safetensors.ts";
import { deepStrictEqual, equal, ok, rejects, throws } from "../lib/testing/assert.ts";

const ascii = (text: string) => new TextEncoder().encode(text);

/** A file assembled from the format description alone: u64 LE length, header text as given, data bytes. */
function handMade(header: string, data: Uint8Array): Uint8Array {
  const json = ascii(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function littleEndian(write: (view: DataView) => void, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  write(new DataView(out.buffer));
  return out;
}

const corrupt = (bytes: Uint8Array, pattern: RegExp) =>
  throws(
    () => parseSafetensors(bytes, "bad.safetensors"),
    (e: Error) =>
      e instanceof SafetensorsError && /^bad\.safetensors: /.test(e.message) && pattern.test(e.message),
  );

Deno.test("safetensors: round trip through a file keeps dtypes, shapes, values, metadata and config", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/ckpt.safetensors`;
  const weight = Float32Array.from({ length: 2 * 3 * 5 }, (_, i) => Math.sin(i) * 1e-3 + i);
  const tensors = new Map([
    ["conv.weight", { shape: [2, 3, 5, 1], data: weight }],
    ["bn.num_batches_tracked", { shape: [], data: new BigInt64Array([123456789012n]) }],
    ["labels", { shape: [3], data: new Int32Array([-1, 0, 7]) }],
    ["mask", { shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) }],
    ["empty", { shape: [0, 4], data: new Float32Array(0) }],
  ]);
  await writeSafetensors(path, tensors, {
    metadata: { note: "hi" },
    config: { arch: "resnet18", classes: 50 },
  });
  const { tensors: back, metadata } = await readSafetensors(path);
  equal(back.size, tensors.size);
  for (const [name, tensor] of tensors) {
    deepStrictEqual(back.get(name)?.shape, tensor.shape, name);
    deepStrictEqual(back.get(name)?.data, tensor.data, name);
  }
  equal(back.get("bn.num_batches_tracked")?.dtype, "I64");
  equal(back.get("labels")?.dtype, "I32");
  equal(metadata.note, "hi");
  deepStrictEqual(readConfig(metadata), { arch: "resnet18", classes: 50 });
  ok(CONFIG_METADATA_KEY in metadata);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("safetensors: layout follows the reference writer (alignment-descending, then name; padded header)", () => {
  const bytes = encodeSafetensors({
    "b": { shape: [1], data: new Float32Array([1]) },
    "a": { shape: [1], data: new Float32Array([2]) },
    "c": { shape: [1], data: new Uint8Array([3]) },
    "z": { shape: [1], data: new BigInt64Array([4n]) },
  });
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  equal(headerLength % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  // I64 (8-byte) first, then the two F32 by name, then U8: offsets follow that order.
  deepStrictEqual(Object.keys(header), ["z", "a", "b", "c"]);
  const offsets = [header.z, header.a, header.b, header.c].map((t) => t.data_offsets);
  deepStrictEqual(offsets, [[0, 8], [8, 12], [12, 16], [16, 17]]);
});

Deno.test("safetensors: byte-exact against the reference implementation's documented vectors", () => {
  // Reference test "serialization forced alignment": one F32 tensor attn0 [1,1,2,3] = 0..5. Its 65-byte JSON
  // header is padded with 7 spaces to 72, so the data starts 8-byte aligned.
  const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
  equal(json.length, 65);
  const expected = new Uint8Array([
    ...[72, 0, 0, 0, 0, 0, 0, 0],
    ...ascii(json),
    ...ascii(" ".repeat(7)),
    ...new Uint8Array(new Float32Array([0, 1, 2, 3, 4, 5]).buffer),
  ]);
  const data = new Float32Array([0, 1, 2, 3, 4, 5]);
  deepStrictEqual(encodeSafetensors({ attn0: { shape: [1, 1, 2, 3], data } }), expected);
  deepStrictEqual(parseSafetensors(expected).tensors.get("attn0")?.data, data);
  // Reference test "empty" with metadata {framework: pt}: 35 bytes of JSON + 5 spaces, no data.
  deepStrictEqual(
    encodeSafetensors({}, { metadata: { framework: "pt" } }),
    new Uint8Array([40, 0, 0, 0, 0, 0, 0, 0, ...ascii('{"__metadata__":{"framework":"pt"}}     ')]),
  );
  // The reference's rustdoc example: header length '<' (60), unpadded, an I32 [2,2] of zeros.
  const doc = ascii(
    '<\0\0\0\0\0\0\0{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}' + "\0".repeat(16),
  );
  const test = parseSafetensors(doc).tensors.get("test");
  deepStrictEqual(test, { dtype: "I32", shape: [2, 2], data: new Int32Array(4) });
});

Deno.test("safetensors: a hand-built file (unsorted, unpadded, torch dtypes) loads and converts", () => {
  // F16 1.5 = 0x3E00, -2 = 0xC000, subnormal 2^-24 = 0x0001; BF16 3.140625 = 0x4049; F64 0.1; I64 -5.
  const data = littleEndian((v) => {
    v.setBigInt64(0, -5n, true);
    v.setFloat64(8, 0.1, true);
    v.setFloat32(16, -0.25, true);
    v.setUint16(20, 0x3e00, true);
    v.setUint16(22, 0xc000, true);
    v.setUint16(24, 0x0001, true);
    v.setUint16(26, 0x4049, true);
  }, 28);
  const file = handMade(
    '{"w":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},' +
      '"__metadata__":{"format":"pt"},' +
      '"h":{"dtype":"F16","shape":[3],"data_offsets":[20,26]},' +
      '"bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]},' +
      '"b":{"dtype":"BF16","shape":[1,1],"data_offsets":[26,28]},' +
      '"d":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}}',
    data,
  );
  const { tensors, metadata } = parseSafetensors(file);
  deepStrictEqual(metadata, { format: "pt" });
  deepStrictEqual([...tensors.keys()], ["bn.num_batches_tracked", "d", "w", "h", "b"]); // file order
  deepStrictEqual(tensors.get("bn.num_batches_tracked")?.data, new BigInt64Array([-5n]));
  deepStrictEqual(tensors.get("w")?.data, new Float32Array([-0.25]));
  deepStrictEqual(tensors.get("h")?.data, new Float32Array([1.5, -2, 2 ** -24]));
  deepStrictEqual(tensors.get("b"), { dtype: "BF16", shape: [1, 1], data: new Float32Array([3.140625]) });
  deepStrictEqual(tensors.get("d")?.data, new Float32Array([0.1]));
});

Deno.test("safetensors: corrupt files give one-line errors naming the file", () => {
  const good = encodeSafetensors({ a: { shape: [2], data: new Float32Array([1, 2]) } });
  const f32 = (offsets: string, shape = "[2]") =>
    handMade(`{"a":{"dtype":"F32","shape":${shape},"data_offsets":${offsets}}}`, new Uint8Array(8));
  corrupt(good.subarray(0, 5), /truncated: 5 bytes/);
  corrupt(good.subarray(0, 20), /truncated: header claims/);
  corrupt(good.subarray(0, good.length - 1), /truncated: tensor 'a' ends at byte 8/);
  corrupt(handMade('{"a":{"dtype":"F32",', new Uint8Array(0)), /not valid UTF-8 JSON/);
  corrupt(handMade("[1,2]", new Uint8Array(0)), /not a JSON object/);
  corrupt(f32("[0,8]", "[3]"), /tensor 'a' spans 8 bytes but F32 \[3\] needs 12/);
  corrupt(f32("[4,8]"), /gap before tensor 'a'/);
  corrupt(f32("[0,4]", "[1]"), /4 trailing bytes/);
  corrupt(
    handMade(
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
      new Uint8Array(8),
    ),
    /tensor 'b' overlaps/,
  );
  corrupt(f32("[8,0]"), /data_offsets \[8,0\]/);
  corrupt(
    handMade('{"a":{"dtype":"F31","shape":[],"data_offsets":[0,0]}}', new Uint8Array(0)),
    /unknown dtype "F31"/,
  );
  corrupt(
    handMade('{"a":{"dtype":"U16","shape":[],"data_offsets":[0,2]}}', new Uint8Array(2)),
    /U16 is not supported/,
  );
  corrupt(handMade('{"__metadata__":{"n":1}}', new Uint8Array(0)), /__metadata__\.n is not a string/);
  corrupt(
    handMade('{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":1}}', new Uint8Array(4)),
    /unknown field 'x'/,
  );
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
  corrupt(huge, /over the 100000000-byte limit/);
});

Deno.test("safetensors: atomic write leaves no partial file when writing fails", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/ckpt.safetensors`;
  const data = new Float32Array([1, 2, 3]);
  await writeSafetensors(path, { a: { shape: [3], data } });
  const before = await Deno.readFile(path);
  // Encoding fails: nothing is written, the old checkpoint is untouched.
  await rejects(
    writeSafetensors(path, { a: { shape: [4], data } }),
    (e: Error) => e instanceof SafetensorsError && e.message.startsWith(`${path}: tensor 'a': shape [4]`),
  );
  // The final rename fails (the target is a folder): the temp file is removed.
  await Deno.mkdir(`${dir}/folder.safetensors`);
  await rejects(writeSafetensors(`${dir}/folder.safetensors`, { a: { shape: [3], data } }));
  const names = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  deepStrictEqual(names.sort(), ["ckpt.safetensors", "folder.safetensors"]);
  deepStrictEqual(await Deno.readFile(path), before);
  await rejects(readSafetensors(`${dir}/missing.safetensors`), /missing\.safetensors: cannot read/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("safetensors: checkStateDict names the first missing, mis-shaped or unexpected tensor", () => {
  const expected = new Map([["conv.weight", [4, 3, 3, 3]], ["fc.bias", [10]]]);
  const tensor = (shape: number[]) => ({ shape });
  checkStateDict(
    expected,
    new Map([["fc.bias", tensor([10])], ["conv.weight", tensor([4, 3, 3, 3])]]),
    "m.st",
  );
  throws(
    () => checkStateDict(expected, new Map([["fc.bias", tensor([10])]]), "m.st"),
    /^SafetensorsError: m\.st: missing tensor 'conv\.weight' \(expected shape \[4,3,3,3\]\)$/,
  );
  throws(
    () =>
      checkStateDict(
        expected,
        new Map([["conv.weight", tensor([4, 3, 3])], ["fc.bias", tensor([10])]]),
        "m.st",
      ),
    /m\.st: tensor 'conv\.weight' has shape \[4,3,3\], expected \[4,3,3,3\]/,
  );
  throws(
    () =>
      checkStateDict(
        expected,
        new Map([["conv.weight", tensor([4, 3, 3, 3])], ["fc.bias", tensor([10])], [
          "fc.extra",
          tensor([1]),
        ]]),
        "m.st",
      ),
    /m\.st: unexpected tensor 'fc\.extra'/,
  );
});
