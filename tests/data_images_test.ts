/**
 * The image pipeline: decoders (PNG exact, JPEG within tolerance) on fixtures encoded here, CIFAR-100 records
 * built byte by byte, RandomResizedCrop invariants, Pillow-bilinear resizing against closed forms, the
 * validation transform's arithmetic, loader order / resume / worker equality, the NSD predictor dataset,
 * and the one-line errors.
 * @module
 */
import { join } from "node:path";
import h5wasm from "h5wasm/node";
import { encode as encodePng, type ImageData } from "fast-png";
import { encode as encodeJpeg } from "jpeg-js";
import { UsageError, UserError } from "../lib/errors.ts";
import {
  BatchLoader,
  centerCropBox,
  CIFAR100_RECORD_BYTES,
  decodeImage,
  type ImageBatch,
  type ImageSource,
  openCifar100,
  openImageFolder,
  openImageSource,
  type PlanarImage,
  PredictorDataset,
  randomResizedCropBox,
  resize,
  resizeShorterSize,
  roundHalfEven,
  transformInto,
  writeChw,
} from "../lib/data/images/mod.ts";
import { Random } from "../lib/random.ts";
import { assertClose, deepStrictEqual, equal, ok, rejects } from "../lib/testing/assert.ts";

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "neuroguide-images-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A deterministic RGB test pattern, interleaved HWC. */
function pattern(height: number, width: number, seed: number): Uint8Array {
  const random = new Random(`pattern/${seed}`);
  return Uint8Array.from({ length: height * width * 3 }, () => random.int(256));
}

/** Interleaved HWC (`channels` per pixel, first three = RGB or one = grey) → planar RGB. */
function planar(hwc: ArrayLike<number>, channels: number, height: number, width: number): Uint8Array {
  const plane = height * width, out = new Uint8Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[c * plane + p] = hwc[p * channels + (channels >= 3 ? c : 0)];
  }
  return out;
}

const png = (image: ImageData) => encodePng(image);

/** Writes an ImageFolder `dir/<class>/<name>` from `files` (class → name → bytes). */
async function writeFolder(dir: string, files: Record<string, Record<string, Uint8Array>>): Promise<void> {
  for (const [cls, entries] of Object.entries(files)) {
    await Deno.mkdir(join(dir, cls), { recursive: true });
    for (const [name, bytes] of Object.entries(entries)) await Deno.writeFile(join(dir, cls, name), bytes);
  }
}

/** Every batch of one epoch. */
async function collect(loader: BatchLoader, epoch: number, startBatch = 0): Promise<ImageBatch[]> {
  const out: ImageBatch[] = [];
  for await (const b of loader.epoch(epoch, { startBatch })) out.push(b);
  return out;
}

/** Asserts `promise` rejects with a UserError whose single-line message contains every `parts`. */
async function rejectsOneLine(promise: Promise<unknown>, ...parts: string[]): Promise<void> {
  await rejects(promise, (e: Error) => {
    ok(e instanceof UserError, `expected a UserError, got ${e.name}: ${e.message}`);
    ok(!e.message.includes("\n"), `multi-line message: ${e.message}`);
    for (const part of parts) ok(e.message.includes(part), `'${e.message}' lacks '${part}'`);
    return true;
  });
}

Deno.test("PNG decodes exactly: RGB, RGBA (alpha dropped), grey, grey+alpha, 16-bit, palette, 1-bit", () => {
  const h = 5, w = 7, rgb = pattern(h, w, 1);
  const rgba = Uint8Array.from(
    { length: h * w * 4 },
    (_, i) => rgb[(i >> 2) * 3 + Math.min(i & 3, 2)] ^ (i & 3),
  );
  const grey = rgb.subarray(0, h * w);
  const cases: [string, ImageData, Uint8Array][] = [
    ["rgb", { width: w, height: h, data: rgb, channels: 3 }, planar(rgb, 3, h, w)],
    ["rgba", { width: w, height: h, data: rgba, channels: 4 }, planar(rgba, 4, h, w)],
    ["grey", { width: w, height: h, data: grey, channels: 1 }, planar(grey, 1, h, w)],
    [
      "grey+alpha",
      { width: w, height: h, data: rgb.subarray(0, 2 * h * w), channels: 2 },
      planar(rgb, 2, h, w),
    ],
    [
      "16-bit",
      { width: w, height: h, data: Uint16Array.from(rgb, (v) => v * 256 + 100), channels: 3, depth: 16 },
      planar(rgb, 3, h, w),
    ],
  ];
  const palette = [[10, 20, 30], [200, 100, 0], [7, 8, 9]];
  const indices = Uint8Array.from({ length: h * w }, (_, i) => i % 3);
  cases.push([
    "palette",
    { width: w, height: h, data: indices, channels: 1, palette },
    planar(Array.from(indices).flatMap((i) => palette[i]), 3, h, w),
  ]);
  // 1-bit grey: rows of 7 pixels packed MSB first into one byte each.
  const bits = Uint8Array.from({ length: h }, (_, y) => (0b1010011 << 1) ^ (y << 1));
  const unpacked = Array.from(
    { length: h * w },
    (_, p) => ((bits[Math.floor(p / w)] >> (7 - (p % w))) & 1) * 255,
  );
  cases.push([
    "1-bit",
    { width: w, height: h, data: bits, channels: 1, depth: 1 },
    planar(unpacked, 1, h, w),
  ]);
  for (const [name, image, expected] of cases) {
    const decoded = decodeImage(png(image), name);
    deepStrictEqual([decoded.height, decoded.width], [h, w], name);
    deepStrictEqual(decoded.data, expected, name);
  }
});

Deno.test("JPEG decodes within tolerance (quality 95, smooth colour image; grey JPEG replicates)", () => {
  const h = 24, w = 40, rgba = new Uint8Array(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    const x = p % w, y = Math.floor(p / w);
    rgba.set([4 * x + 40, 6 * y + 30, 120 + 2 * (x - y), 255], 4 * p);
  }
  const decoded = decodeImage(encodeJpeg({ data: rgba, width: w, height: h }, 95).data, "smooth.jpeg");
  const expected = planar(rgba, 4, h, w);
  // Lossy DCT quantisation plus 4:2:0 chroma subsampling: a few levels on smooth content.
  assertClose(decoded.data, expected, { atol: 10, rtol: 0, label: "jpeg" });
  const meanError = decoded.data.reduce((s, v, i) => s + Math.abs(v - expected[i]), 0) / expected.length;
  ok(meanError < 2, `mean |error| ${meanError}`);
});

Deno.test("ImageFolder through the loader: sorted classes and files, PNG pixels exact", async () => {
  await withDir(async (dir) => {
    const s = 6, img = (seed: number) => pattern(s, s, seed);
    await writeFolder(dir, {
      zebra: { "b.png": png({ width: s, height: s, data: img(2), channels: 3 }) },
      ant: {
        "b.PNG": png({ width: s, height: s, data: img(1), channels: 3 }),
        "a.png": png({ width: s, height: s, data: img(0), channels: 3 }),
        "notes.txt": new TextEncoder().encode("ignored"),
      },
    });
    const source = await openImageFolder(dir);
    deepStrictEqual(source.classes, ["ant", "zebra"]);
    using loader = new BatchLoader(source, { transform: { kind: "none", size: s }, batch: 2, workers: 0 });
    const batches = await collect(loader, 0);
    deepStrictEqual(batches.map((b) => b.count), [2, 1]);
    deepStrictEqual(Array.from(batches[0].labels), [0, 0]);
    deepStrictEqual(Array.from(batches[1].labels), [1, 0]);
    const expected = [0, 1, 2].map((seed) =>
      Array.from(planar(img(seed), 3, s, s), (v) => Math.fround(v / 255))
    );
    deepStrictEqual(Array.from(batches[0].images), [...expected[0], ...expected[1]]);
    deepStrictEqual(Array.from(batches[1].images), [...expected[2], ...new Array(3 * s * s).fill(0)]);
  });
});

Deno.test("--classes: labels follow the sorted list, other folders ignored; unknown class names the file", async () => {
  await withDir(async (dir) => {
    const one = png({ width: 2, height: 2, data: new Uint8Array(12), channels: 3 });
    await writeFolder(join(dir, "train"), {
      n3: { "x.png": one },
      n1: { "x.png": one },
      n2: { "x.png": one },
    });
    await Deno.writeTextFile(join(dir, "keep.txt"), "# coco\nn3\nn1\n");
    const source = await openImageSource(`imagefolder:${dir}`, "train", {
      classesFile: join(dir, "keep.txt"),
    });
    deepStrictEqual(source.classes, ["n1", "n3"]);
    deepStrictEqual([source.label(0), source.label(1)], [0, 1]);
    await Deno.writeTextFile(join(dir, "bad.txt"), "n1\nn9\n");
    await rejectsOneLine(
      openImageSource(`imagefolder:${dir}`, "train", { classesFile: join(dir, "bad.txt") }),
      "n9",
      "bad.txt",
    );
    // No train/ or val/ inside: the folder itself is the split.
    equal((await openImageSource(`imagefolder:${join(dir, "train")}`, "val")).length, 3);
    await rejectsOneLine(openImageSource(`imagefolder:${dir}`, "val"), join(dir, "val"));
  });
});

Deno.test("CIFAR-100 binary: fine labels, CHW pixels, bad size and bad label are one-line errors", async () => {
  await withDir(async (dir) => {
    const records = 3, bytes = new Uint8Array(records * CIFAR100_RECORD_BYTES);
    for (let r = 0; r < records; r++) {
      const at = r * CIFAR100_RECORD_BYTES;
      bytes[at] = 19 - r; // coarse (ignored)
      bytes[at + 1] = 40 * r + 7; // fine
      for (let i = 0; i < 3072; i++) bytes[at + 2 + i] = (i * 31 + r) & 255;
    }
    await Deno.writeFile(join(dir, "train.bin"), bytes);
    const source = await openImageSource(`cifar100:${dir}`, "train");
    equal(source.length, 3);
    equal(source.classes.length, 100);
    deepStrictEqual([0, 1, 2].map((i) => source.label(i)), [7, 47, 87]);
    const image = await source.image(2);
    deepStrictEqual([image.height, image.width], [32, 32]);
    // CHW: red (x=1, y=0) is byte 1, green (0, 0) is byte 1024.
    deepStrictEqual([image.data[1], image.data[1024]], [(31 + 2) & 255, (1024 * 31 + 2) & 255]);
    await Deno.writeFile(join(dir, "test.bin"), bytes.subarray(0, 3074 + 5));
    await rejectsOneLine(openImageSource(`cifar100:${dir}`, "val"), "test.bin", "3079 bytes", "3074");
    bytes[1] = 100;
    await Deno.writeFile(join(dir, "train.bin"), bytes);
    await rejectsOneLine(openCifar100(join(dir, "train.bin")), "train.bin", "record 0");
    await rejectsOneLine(openCifar100(join(dir, "missing.bin")), "missing.bin");
    await rejects(openImageSource(`cifar100:${dir}`, "train", { classesFile: "x" }), UsageError);
    await rejects(openImageSource("webdataset:x", "train"), UsageError);
  });
});

Deno.test("RandomResizedCrop: boxes inside, scale and ratio bounds over many draws, seeded, fallback", () => {
  const [H, W] = [375, 500];
  const random = new Random("rrc");
  for (let i = 0; i < 3000; i++) {
    const b = randomResizedCropBox(H, W, random);
    ok(b.top >= 0 && b.left >= 0 && b.top + b.height <= H && b.left + b.width <= W, JSON.stringify(b));
    // Rounding w and h to integers moves the area and ratio by under one pixel's worth.
    const area = (b.height * b.width) / (H * W), ratio = b.width / b.height;
    const fallback = b.height === H && b.width === W;
    ok(fallback || (area > 0.08 * 0.97 && area <= 1), `area ${area}`);
    ok(fallback || (ratio > (3 / 4) * 0.97 && ratio < (4 / 3) * 1.03), `ratio ${ratio}`);
  }
  const draws = (key: string) =>
    Array.from({ length: 20 }, (_, i, r = new Random(`${key}/${i}`)) => randomResizedCropBox(H, W, r));
  deepStrictEqual(draws("a"), draws("a"));
  ok(JSON.stringify(draws("a")) !== JSON.stringify(draws("b")));
  // A 10×1000 strip never fits a 3/4..4/3 box of ≥ 8 % area: centred crop at ratio 4/3 (left ⌊987/2⌋).
  deepStrictEqual(randomResizedCropBox(10, 1000, new Random(0)), {
    top: 0,
    left: 493,
    height: 10,
    width: 13,
  });
  deepStrictEqual([roundHalfEven(2.5), roundHalfEven(3.5), roundHalfEven(-0.5), roundHalfEven(1.4)], [
    2,
    4,
    -0,
    1,
  ]);
});

/** A one-channel-per-plane image from a function of (c, y, x). */
function image(height: number, width: number, f: (c: number, y: number, x: number) => number): PlanarImage {
  const data = new Uint8Array(3 * height * width);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) data[(c * height + y) * width + x] = f(c, y, x);
    }
  }
  return { height, width, data };
}

Deno.test("resize against closed forms: constant, linear ramp (upscale), 2× antialiased downscale", () => {
  const constant = image(9, 13, (c) => 40 + 70 * c);
  for (const [h, w] of [[20, 31], [4, 5], [9, 6]]) {
    const out = resize(constant, h, w);
    ok(out.data.every((v, i) => v === 40 + 70 * Math.floor(i / (h * w))), `constant → ${h}×${w}`);
  }
  // Upscaling ×2 samples the input at x' = (i + 0.5)/2 − 0.5: a ramp 8x + 20 gives 4i + 18 away from the
  // borders (where the clipped, renormalised kernel is not symmetric), up to uint8 rounding.
  const ramp = resize(image(3, 16, (_c, _y, x) => 8 * x + 20), 3, 32);
  for (let i = 2; i < 30; i++) ok(Math.abs(ramp.data[i] - (4 * i + 18)) <= 1, `ramp[${i}] = ${ramp.data[i]}`);
  // Downscaling ×2: Pillow widens the triangle to 4 taps weighted 1:3:3:1 (antialiasing); a 2×2 box average
  // would be 0:1:1:0. Row x ↦ values at 2i−1, 2i, 2i+1, 2i+2.
  const row = [10, 50, 90, 30, 200, 0, 60, 120, 250, 5];
  const half = resize(image(1, row.length, (_c, _y, x) => row[x]), 1, row.length / 2);
  for (let i = 1; i < 4; i++) {
    const expected = (row[2 * i - 1] + 3 * row[2 * i] + 3 * row[2 * i + 1] + row[2 * i + 2]) / 8;
    ok(Math.abs(half.data[i] - expected) <= 0.5 + 1e-9, `half[${i}] = ${half.data[i]}, expected ${expected}`);
  }
  // At the border the kernel is cut to 3 taps and renormalised: (3·row0 + 3·row1 + row2) / 7.
  equal(half.data[0], Math.round((3 * row[0] + 3 * row[1] + row[2]) / 7));
});

Deno.test("flip mirrors; validation = Resize(round(size·256/224)) + CenterCrop; train output in [0, 1]", () => {
  const img = image(2, 3, (c, y, x) => 100 * c + 10 * y + x);
  const out = new Float32Array(18);
  writeChw(img, true, out, 0);
  deepStrictEqual(Array.from(out, (v) => Math.round(v * 255)), [
    2,
    1,
    0,
    12,
    11,
    10,
    102,
    101,
    100,
    112,
    111,
    110,
    202,
    201,
    200,
    212,
    211,
    210,
  ]);
  deepStrictEqual(resizeShorterSize(300, 400, 256), [256, 341]);
  deepStrictEqual(resizeShorterSize(500, 375, 256), [341, 256]);
  // (341 − 224)/2 = 58.5 rounds to even (58), as Python's round in torchvision's CenterCrop.
  deepStrictEqual(centerCropBox(256, 341, 224), { top: 16, left: 58, height: 224, width: 224 });
  const grey = image(30, 50, () => 51), val = new Float32Array(3 * 16 * 16);
  transformInto(grey, { kind: "val", size: 16 }, new Random(0), val, 0, "grey");
  ok(val.every((v) => Math.abs(v - 0.2) < 1e-6), "constant image stays constant");
  const train = new Float32Array(3 * 24 * 24 + 5).fill(-1);
  transformInto(
    image(40, 30, (c, y, x) => (c * 50 + y * 3 + x * 5) & 255),
    { kind: "train", size: 24 },
    new Random(1),
    train,
    5,
    "t",
  );
  ok(
    train.subarray(5).every((v) => v >= 0 && v <= 1) && train[4] === -1,
    "train writes only its slot, in [0, 1]",
  );
});

/** A small ImageFolder of odd-sized PNGs for the loader tests. */
async function loaderFolder(dir: string): Promise<ImageSource> {
  const files: Record<string, Record<string, Uint8Array>> = {};
  for (let i = 0; i < 11; i++) {
    const [h, w] = [14 + (i % 3) * 5, 18 + (i % 4) * 3];
    (files[`c${i % 3}`] ??= {})[`${i}.png`] = png({
      width: w,
      height: h,
      data: pattern(h, w, i),
      channels: 3,
    });
  }
  await writeFolder(dir, files);
  return await openImageFolder(dir);
}

Deno.test("loader: seeded per-epoch order, drop-last, resume at a batch, workers 0/1/2 identical, partners", async () => {
  await withDir(async (dir) => {
    const source = await loaderFolder(dir);
    const options = { transform: { kind: "train", size: 12 } as const, batch: 3, seed: 5 };
    const partners = new Random("partners").permutation(source.length);
    using inThread = new BatchLoader(source, { ...options, workers: 0, partners });
    equal(inThread.batchesPerEpoch, 3); // drop-last: ⌊11 / 3⌋
    const epoch1 = await collect(inThread, 1);
    deepStrictEqual(
      epoch1.flatMap((b) => Array.from(b.indices)),
      Array.from(inThread.order(1).subarray(0, 9)),
    );
    ok(JSON.stringify(inThread.order(1)) !== JSON.stringify(inThread.order(2)), "epochs reshuffle");
    deepStrictEqual(await collect(inThread, 1, 2), epoch1.slice(2), "resume at batch 2");
    for (const workers of [1, 2]) {
      using pooled = new BatchLoader(source, { ...options, workers, prefetch: 3, partners });
      deepStrictEqual(await collect(pooled, 1), epoch1, `workers ${workers}`);
    }
    const b = epoch1[0];
    deepStrictEqual(Array.from(b.labels), Array.from(b.indices, (i) => source.label(i)));
    ok(
      b.partnerImages && JSON.stringify(b.partnerImages) !== JSON.stringify(b.images),
      "partner images differ",
    );
    // Validation: in order, every image, last batch zero-padded.
    using val = new BatchLoader(source, { transform: { kind: "val", size: 12 }, batch: 4, workers: 0 });
    const batches = await collect(val, 0);
    deepStrictEqual(batches.map((x) => x.count), [4, 4, 3]);
    deepStrictEqual(batches.flatMap((x) => Array.from(x.indices)), Array.from({ length: 11 }, (_, i) => i));
    ok(batches[2].images.subarray(3 * 3 * 144).every((v) => v === 0));
  });
});

Deno.test("CIFAR through a worker pool (shared memory) equals in-thread", async () => {
  await withDir(async (dir) => {
    const bytes = Uint8Array.from({ length: 5 * CIFAR100_RECORD_BYTES }, (_, i) => (i * 7919) % 97);
    await Deno.writeFile(join(dir, "test.bin"), bytes);
    const source = await openCifar100(join(dir, "test.bin"));
    const options = { transform: { kind: "train", size: 32 } as const, batch: 2, seed: 1 };
    using a = new BatchLoader(source, { ...options, workers: 0 });
    using b = new BatchLoader(source, { ...options, workers: 2 });
    deepStrictEqual(await collect(b, 3), await collect(a, 3));
  });
});

Deno.test("bad inputs are one-line errors naming the folder or file, in-thread and from workers", async () => {
  await withDir(async (dir) => {
    await rejectsOneLine(openImageFolder(join(dir, "nope")), join(dir, "nope"));
    await rejectsOneLine(openImageSource(`sim:${join(dir, "nosim")}`, "train"), "deno task synth");
    const ok1 = png({ width: 4, height: 4, data: new Uint8Array(48), channels: 3 });
    await writeFolder(join(dir, "a"), { full: { "1.png": ok1 }, empty: { "readme.txt": ok1 } });
    await rejectsOneLine(openImageFolder(join(dir, "a")), join(dir, "a", "empty"));
    const corrupt = ok1.slice(0, 30);
    await writeFolder(join(dir, "b"), {
      k: { "1.png": ok1, "2.png": corrupt, "3.jpg": new Uint8Array([1, 2, 3]) },
    });
    const source = await openImageFolder(join(dir, "b"));
    await rejectsOneLine(source.image(1), join(dir, "b", "k", "2.png"), "cannot decode");
    await rejectsOneLine(source.image(2), join(dir, "b", "k", "3.jpg"), "neither PNG nor JPEG");
    for (const workers of [0, 1]) {
      using loader = new BatchLoader(source, { transform: { kind: "val", size: 4 }, batch: 3, workers });
      await rejectsOneLine(collect(loader, 0), join(dir, "b", "k", "2.png"));
    }
    await Deno.writeTextFile(join(dir, "twice.txt"), "k\nk\n");
    await rejectsOneLine(
      openImageFolder(join(dir, "b"), { classes: ["k", "z"], classesFrom: "coco50.txt" }),
      "'z'",
      "coco50.txt",
    );
    await rejectsOneLine(
      openImageSource(`imagefolder:${join(dir, "b")}`, "val", { classesFile: join(dir, "twice.txt") }),
      "twice",
    );
  });
});

/** `imgBrick` [n, s, s, 3] and a prepared-ROI file with the datasets PredictorDataset reads. */
async function writeNsd(dir: string, n: number, s: number, shuffleSeed?: number) {
  await h5wasm.ready;
  const brick = Uint8Array.from({ length: n * s * s * 3 }, (_, i) => (i * 13) % 251);
  let f = new h5wasm.File(join(dir, "stimuli.h5"), "w");
  f.create_dataset({ name: "imgBrick", data: brick, shape: [n, s, s, 3], dtype: "<B" });
  f.close();
  const trainIds = Int32Array.from([3, 0, 5, 1]), valIds = Int32Array.from([2, 4]);
  f = new h5wasm.File(join(dir, "roi.h5"), "w");
  f.create_dataset({ name: "train_ids", data: trainIds, shape: [4], dtype: "<i" });
  f.create_dataset({ name: "val_ids", data: valIds, shape: [2], dtype: "<i" });
  f.create_dataset({
    name: "train",
    data: Float32Array.from({ length: 8 }, (_, i) => i),
    shape: [4, 2],
    dtype: "<f",
  });
  f.create_dataset({ name: "val", data: Float32Array.from([-1, -2, -3, -4]), shape: [2, 2], dtype: "<f" });
  if (shuffleSeed !== undefined) f.create_attribute("shuffle_seed", shuffleSeed);
  f.close();
  return { brick, trainIds, valIds };
}

Deno.test("PredictorDataset: stimuli by 73k id paired with target rows; shuffle seed as the file records it", async () => {
  await withDir(async (dir) => {
    const s = 5, { brick } = await writeNsd(dir, 6, s);
    const chw = (id: number) =>
      Array.from(
        planar(brick.subarray(id * s * s * 3, (id + 1) * s * s * 3), 3, s, s),
        (v) => Math.fround(v / 255),
      );
    const data = await PredictorDataset.open(join(dir, "roi.h5"), join(dir, "stimuli.h5"), {
      size: s,
      batch: 3,
      valBatch: 4,
      workers: 0,
      chunk: 2,
    });
    try {
      equal(data.shuffleSeed, null);
      const [train] = [await Array.fromAsync(data.train(0))];
      equal(train.length, 1); // ⌊4 / 3⌋ whole batches
      const b = train[0];
      for (let r = 0; r < 3; r++) {
        const row = [3, 0, 5, 1].indexOf(b.ids[r]);
        deepStrictEqual(Array.from(b.targets.subarray(2 * r, 2 * r + 2)), [2 * row, 2 * row + 1]);
        assertClose(b.images.subarray(r * 3 * s * s, (r + 1) * 3 * s * s), chw(b.ids[r]), {
          atol: 0,
          rtol: 0,
        });
      }
      const [val] = await Array.fromAsync(data.val());
      deepStrictEqual([val.count, Array.from(val.ids), Array.from(val.targets)], [2, [2, 4], [
        -1,
        -2,
        -3,
        -4,
        0,
        0,
        0,
        0,
      ]]);
    } finally {
      data.close();
    }
    const shuffled = await PredictorDataset.open(join(dir, "roi.h5"), join(dir, "stimuli.h5"), {
      size: s,
      batch: 2,
      workers: 0,
      shuffleSeed: 7,
    });
    shuffled.close();
    equal(shuffled.shuffleSeed, 7);
    deepStrictEqual([...shuffled.trainIds, ...shuffled.valIds].sort(), [0, 1, 2, 3, 4, 5]);
    await writeNsd(dir, 6, s, 9);
    const recorded = await PredictorDataset.open(join(dir, "roi.h5"), join(dir, "stimuli.h5"), {
      size: s,
      batch: 2,
      workers: 0,
    });
    recorded.close();
    deepStrictEqual([recorded.shuffleSeed, Array.from(recorded.trainIds)], [9, [3, 0, 5, 1]]);
    await rejectsOneLine(
      PredictorDataset.open(join(dir, "roi.h5"), join(dir, "stimuli.h5"), {
        size: s,
        batch: 2,
        workers: 0,
        shuffleSeed: 7,
      }),
      "roi.h5",
      "seed 9",
    );
  });
});
