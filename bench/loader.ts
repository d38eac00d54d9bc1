/**
 * Loader throughput alone (no GPU): images/s of decode + augment for (a) the simulated world's PNGs at 64 px
 * (`data/sim`, created if missing by `deno task synth`) and (b) synthetic 500×375 JPEGs (ImageNet's typical
 * size, smooth gradients plus noise, quality 90) at 224 px, each with 0 workers and the default pool.
 * `deno run -A bench/loader.ts [--images N] [--workers a,b]`. Not a row of `bench/bench.ts`: that table
 * reports GFLOP/s of GPU contenders, which this is not.
 * @module
 */
import { join } from "node:path";
import { encode as encodeJpeg } from "../lib/deps/jpeg_js.ts";
import { numberFlag, parseFlags } from "../lib/cli/args.ts";
import { runMain } from "../lib/cli/main.ts";
import { progressReporter } from "../lib/cli/progress.ts";
import { ensureSimWorld } from "../lib/data/synth/mod.ts";
import {
  BatchLoader,
  defaultWorkers,
  type ImageSource,
  openImageFolder,
  openImageSource,
} from "../lib/data/images/mod.ts";
import { Random } from "../lib/random.ts";

/** Writes `count` JPEGs of width×height into `dir/<class>/` (two classes). */
async function writeJpegs(dir: string, count: number, width = 500, height = 375): Promise<void> {
  const random = new Random("bench-loader");
  for (let i = 0; i < count; i++) {
    const folder = join(dir, `c${i % 2}`);
    await Deno.mkdir(folder, { recursive: true });
    const data = new Uint8Array(width * height * 4);
    const [a, b, c] = [random.next(), random.next(), random.next()];
    for (let p = 0; p < width * height; p++) {
      const x = (p % width) / width, y = Math.floor(p / width) / height;
      data[4 * p] = 255 * (a * x + (1 - a) * y) + 20 * random.next();
      data[4 * p + 1] = 255 * Math.abs(Math.sin(6 * b * x + 3 * y)) + 20 * random.next();
      data[4 * p + 2] = 255 * c * (1 - x * y) + 20 * random.next();
      data[4 * p + 3] = 255;
    }
    await Deno.writeFile(
      join(folder, `${String(i).padStart(5, "0")}.jpeg`),
      encodeJpeg({ data, width, height }, 90).data,
    );
  }
}

async function imagesPerSecond(source: ImageSource, size: number, workers: number, images: number) {
  const batch = 32;
  using loader = new BatchLoader(source, { transform: { kind: "train", size }, batch, seed: 0, workers });
  // Warm-up (not timed): worker start-up (~0.3 s each: module graph + JIT) and the first batches.
  const warmBatches = Math.min(loader.batchesPerEpoch, 2 * workers + 1);
  await Array.fromAsync(loader.epoch(-1, { startBatch: loader.batchesPerEpoch - warmBatches }));
  let seen = 0, epoch = 0;
  const t0 = performance.now();
  while (seen < images) {
    for await (const b of loader.epoch(epoch++)) {
      seen += b.count;
      if (seen >= images) break;
    }
  }
  return seen / ((performance.now() - t0) / 1000);
}

async function main(args: string[]): Promise<void> {
  const { values } = parseFlags(args, { images: { type: "string" }, workers: { type: "string" } });
  const images = values.images ? numberFlag("images", values.images, { integer: true, min: 32 }) : 640;
  const workerCounts = values.workers
    ? String(values.workers).split(",").map((w) => numberFlag("workers", w, { integer: true, min: 0 }))
    : [0, defaultWorkers()];
  await ensureSimWorld("data/sim", { progress: progressReporter("bench", false) });
  const jpegDir = await Deno.makeTempDir({ prefix: "neuroguide-bench-jpeg-" });
  try {
    await writeJpegs(jpegDir, 96);
    const cases = [
      {
        name: "sim PNG 64×64 → RandomResizedCrop 64",
        source: await openImageSource("sim", "train"),
        size: 64,
      },
      { name: "JPEG 500×375 → RandomResizedCrop 224", source: await openImageFolder(jpegDir), size: 224 },
    ];
    console.log(
      `loader throughput, ${navigator.hardwareConcurrency} logical cores, batch 32, ${images} images`,
    );
    for (const c of cases) {
      for (const w of workerCounts) {
        const rate = await imagesPerSecond(c.source, c.size, w, images);
        console.log(`  ${c.name.padEnd(40)} workers ${w}: ${rate.toFixed(0).padStart(6)} images/s`);
      }
    }
  } finally {
    await Deno.remove(jpegDir, { recursive: true });
  }
}

if (import.meta.main) await runMain("bench-loader", () => main(Deno.args));
