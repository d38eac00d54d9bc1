/**
 * The simulated brain as a control (`lib/data/synth/{features,brain,sensitivity}.ts`): the Gabor stage against
 * a direct 2-D correlation written here, the pixel-only figure–ground segmentation against the generator's
 * own coverage mask, the measured sensitivity ordering V1 > V2 > V4 > VO/PHC > LO/TO, and the rebuilt oracle
 * against the world's betas (its correlation with repeat averages must match √(noise ceiling)).
 */
import { join } from "node:path";
import { equal, ok } from "../lib/testing/assert.ts";
import {
  buildAtlas,
  buildSimulatedBrain,
  gaborEnergy,
  generateSimWorld,
  loadSimulatedBrain,
  Random,
  renderScene,
  rgbToPixels,
  ROI_KNOBS,
  type RoiName,
  sampleScene,
  simulatedResponses,
  type SimWorldOptions,
  toGrid,
} from "../lib/data/synth/mod.ts";
import { FEATURE_GRID, figureGround } from "../lib/data/synth/features.ts";
import { measureSensitivity, pixelsOnGrid } from "../lib/data/synth/sensitivity.ts";
import { brainSensitivity } from "../lib/sweep/gate.ts";
import { nsdPaths, prepareRoi, readStimuli } from "../lib/data/nsd/mod.ts";

const TMP = await Deno.makeTempDir({ prefix: "synth_brain_test_" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

/** Enough images for stable response statistics, few enough to generate in seconds. */
const WORLD: SimWorldOptions = {
  seed: 11,
  size: 32,
  classes: 10,
  images: 300,
  sessions: 3,
  trainPerClass: 1,
  valPerClass: 1,
  conflictPerClass: 1,
  sensitivityImages: 10,
  betasFormats: ["hdf5"],
};
let world: ReturnType<typeof generateSimWorld> | null = null;
const dir = join(TMP, "world");
const getWorld = () => (world ??= generateSimWorld(dir, WORLD));

Deno.test("Gabor energy: the separable form equals a direct 2-D correlation; a unit grating gives 1", () => {
  const g = 16, rng = new Random("gabor");
  const map = Float32Array.from({ length: g * g }, () => rng.next());
  const energies = gaborEnergy(map, g);
  const radius = 4, sigma = 2, k = (2 * Math.PI) / 4;
  [0, Math.PI / 4, Math.PI / 2, (3 * Math.PI) / 4].forEach((theta, o) => {
    // The kernel written out in 2-D: Gaussian envelope × (cos, sin) carrier, even part made zero-mean, both
    // scaled so the even part's response to cos(k·u) is 1.
    const env = (dx: number, dy: number) => Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
    const u = (dx: number, dy: number) => dx * Math.cos(theta) + dy * Math.sin(theta);
    let dcNum = 0, dcDen = 0;
    for (let dy = -radius; dy <= radius; dy++) {
      for (let dx = -radius; dx <= radius; dx++) {
        dcNum += env(dx, dy) * Math.cos(k * u(dx, dy)), dcDen += env(dx, dy);
      }
    }
    const even = (dx: number, dy: number) => env(dx, dy) * (Math.cos(k * u(dx, dy)) - dcNum / dcDen);
    let gain = 0;
    for (let dy = -radius; dy <= radius; dy++) {
      for (let dx = -radius; dx <= radius; dx++) gain += even(dx, dy) * Math.cos(k * u(dx, dy));
    }
    const clamp = (v: number) => Math.min(g - 1, Math.max(0, v));
    for (const [x, y] of [[0, 0], [7, 3], [15, 15], [9, 12]]) {
      let e = 0, s = 0;
      for (let dy = -radius; dy <= radius; dy++) {
        for (let dx = -radius; dx <= radius; dx++) {
          const v = map[clamp(y + dy) * g + clamp(x + dx)];
          e += even(dx, dy) * v;
          s += env(dx, dy) * Math.sin(k * u(dx, dy)) * v;
        }
      }
      const direct = Math.hypot(e / gain, s / gain);
      ok(
        Math.abs(energies[o][y * g + x] - direct) < 1e-4,
        `θ=${theta} (${x},${y}): ${energies[o][y * g + x]} vs ${direct}`,
      );
    }
  });
  // A vertical unit-amplitude grating (carrier along x) at a pixel where its phase is 0: even response 1,
  // odd response 0 by symmetry, so energy 1 for θ = 0.
  const grating = Float32Array.from({ length: g * g }, (_, i) => 0.5 + Math.cos(k * (i % g)));
  const e0 = gaborEnergy(grating, g)[0];
  ok(Math.abs(e0[8 * g + 8] - 1) < 1e-5, `grating energy ${e0[8 * g + 8]}`);
  const flat = gaborEnergy(new Float32Array(g * g).fill(0.7), g);
  ok(flat.every((m) => m.every((v) => Math.abs(v) < 1e-5)), "a flat image must give no energy");
});

Deno.test("the silhouette is segmented from pixels and agrees with the generator's coverage mask", () => {
  const rng = new Random("segmentation"), size = 64, g = FEATURE_GRID;
  let iou = 0;
  const count = 40;
  for (let i = 0; i < count; i++) {
    const image = renderScene(sampleScene(rng.fork("scene", i), i % 10, (i * 3) % 10), size);
    const { mask } = figureGround(
      toGrid(rgbToPixels(image.rgb, size), size),
      ROI_KNOBS.TO.preBlur,
      ROI_KNOBS.TO.semiSaturation,
    );
    let inter = 0, union = 0;
    for (let y = 0; y < g; y++) {
      for (let x = 0; x < g; x++) {
        // The generator's coverage averaged over the 2×2 pixels of each grid cell: ground truth the
        // segmentation never sees.
        let cover = 0;
        for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
          cover += image.coverage[(2 * y + dy) * size + 2 * x + dx] / 4;
        }
        const truth = cover > 0.5, found = mask[y * g + x] > 0.5;
        if (truth && found) inter++;
        if (truth || found) union++;
      }
    }
    iou += inter / union;
  }
  ok(iou / count > 0.75, `mean IoU ${iou / count}`);
});

Deno.test("measured sensitivity falls V1 > V2 > V4 > VO/PHC > LO/TO, and is written to the manifest", async () => {
  const manifest = await getWorld();
  const s = manifest.subjects[0].sensitivity;
  const table = JSON.stringify(s);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  for (const [i, eps] of [2 / 255, 8 / 255].entries()) {
    equal(s.V1[i].eps, eps);
    for (const kind of ["random", "worst"] as const) {
      const at = (roi: RoiName) => s[roi][i][kind];
      const label = `${kind}, ε=${Math.round(eps * 255)}/255: ${table}`;
      if (kind === "worst") {
        for (const roi of Object.keys(s) as RoiName[]) ok(at(roi) >= s[roi][i].random, label);
      }
      // The ends of the hierarchy at every radius: V1 and V2 move more than LO and TO.
      ok(Math.min(at("V1"), at("V2")) > Math.max(at("LO"), at("TO")), `V1, V2 > LO, TO (${label})`);
      if (eps < 4 / 255) continue;
      // At 8/255, where the attacks of the sweep work: V1 > V2 > V4 > every late ROI for both kinds; for the
      // worst case also VO/PHC > LO/TO (random noise moves all four late ROIs by only ≈0.03 SD).
      ok(at("V1") > at("V2") && at("V2") > at("V4"), `V1 > V2 > V4 (${label})`);
      ok(at("V4") > Math.max(at("VO"), at("PHC"), at("LO"), at("TO")), `V4 > late ROIs (${label})`);
      if (kind === "worst") {
        ok(mean([at("VO"), at("PHC")]) > mean([at("LO"), at("TO")]), `VO/PHC > LO/TO (${label})`);
      }
    }
  }
  // The sweep's gate reads these very entries (it once looked for a top-level key the world never writes).
  for (const roi of Object.keys(s) as RoiName[]) equal(brainSensitivity(manifest, roi, 1), s[roi][0].random);
});

Deno.test("a knob moves its ROI's sensitivity: a larger V1 semi-saturation makes V1 less sensitive", () => {
  const rng = new Random("knob"), size = 32;
  const pixels = Array.from(
    { length: 40 },
    (_, i) =>
      rgbToPixels(renderScene(sampleScene(rng.fork("scene", i), i % 10, (i * 3) % 10), size).rgb, size),
  );
  const atlas = buildAtlas([10, 12, 10], rng.fork("atlas"));
  const grids = pixels.map((p) => toGrid(p, size));
  const probe = pixelsOnGrid(Float32Array.from(pixels.slice(0, 4).flatMap((p) => Array.from(p))), size);
  const sensitivity = (semiSaturation: number) => {
    const { brain } = buildSimulatedBrain(atlas, grids, rng.fork("brain"), {
      ...ROI_KNOBS,
      V1: { ...ROI_KNOBS.V1, semiSaturation },
    });
    return measureSensitivity(brain, "V1", probe, new Random("probe"), {
      epsilons: [8 / 255],
      queries: 20,
    })[0];
  };
  const low = sensitivity(ROI_KNOBS.V1.semiSaturation), high = sensitivity(ROI_KNOBS.V1.semiSaturation * 10);
  ok(low.random > 2 * high.random, `random: c×1 ${low.random} vs c×10 ${high.random}`);
  ok(low.worst > high.worst, `worst: c×1 ${low.worst} vs c×10 ${high.worst}`);
});

Deno.test("the rebuilt oracle is the betas' signal: r with repeat averages matches √(noise ceiling)", async () => {
  await getWorld();
  const brain = await loadSimulatedBrain(dir, 1);
  const prepared = await prepareRoi({ nsd: dir, subject: 1, roi: "TO", pca: null });
  const V = prepared.voxelIndex.length, N = prepared.trainIds.length, size = WORLD.size!;
  const { data } = await readStimuli(nsdPaths(dir, 1).stimuli, Array.from(prepared.trainIds), {
    size,
    dtype: "uint8",
  });
  const pixels = Float32Array.from(data, (v) => v / 255);
  const oracle = simulatedResponses(brain, "TO", pixels, size);
  equal(oracle.length, N * V);
  // Deterministic: a second call on a sub-batch gives the same numbers.
  const again = simulatedResponses(brain, "TO", pixels.subarray(0, 2 * 3 * size * size), size);
  ok(again.every((v, i) => v === oracle[i]), "oracle is not deterministic");
  // For a voxel with signal variance s and single-trial noise variance n, the correlation between the
  // 3-trial average and the signal is √(s/(s + n/3)) = √(NC/100) — the noise ceiling's own definition.
  let gap = 0, counted = 0;
  for (let v = 0; v < V; v++) {
    const nc = prepared.noiseCeiling[v];
    if (!Number.isFinite(nc)) continue;
    let sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
    for (let n = 0; n < N; n++) {
      const a = prepared.train[n * V + v], b = oracle[n * V + v];
      sa += a, sb += b, sab += a * b, saa += a * a, sbb += b * b;
    }
    const r = (sab - (sa * sb) / N) / Math.sqrt((saa - (sa * sa) / N) * (sbb - (sb * sb) / N));
    gap += r - Math.sqrt(Math.max(0, nc) / 100);
    counted++;
  }
  ok(counted > 20, `only ${counted} TO voxels`);
  ok(Math.abs(gap / counted) < 0.05, `mean r − √NC = ${gap / counted}`);
});
