/**
 * One-off measurement (not a test): generates a full-size synthetic subject in NSD layout — 40 HDF5 beta
 * sessions of 750 trials on subj01's 81×104×83 grid (chunks [750,1,1,1] like NSD's; only the ROI's bounding
 * box is written, the rest stays unallocated), Kastner2015/nsdgeneral volumes and nsd_expdesign.mat — then
 * times `deno task nsd-prep` on it with /usr/bin/time.
 *
 *   deno run -A bench/nsd_prep_full.ts [--voxels 3000] [--sessions 40] [--keep]
 * @module
 */
import h5wasm from "h5wasm/node";
import { numberFlag, parseFlags } from "../lib/cli/args.ts";
import { writeMat5, writeNifti } from "../tests/reference/nsd_fixtures.ts";

const { values: f } = parseFlags(Deno.args, {
  voxels: { type: "string", default: "3000" },
  sessions: { type: "string", default: "40" },
  keep: { type: "boolean" },
});
const targetVoxels = numberFlag("voxels", f.voxels, { min: 10, integer: true });
const nSessions = numberFlag("sessions", f.sessions, { min: 1, max: 40, integer: true });
const [X, Y, Z, T, R] = [81, 104, 83, 750, 64];
// The ROI is scattered through a 40×30×30 box, so reads fetch ~12× more chunks than ROI voxels (as a real,
// folded V1 would).
const box = { x: [20, 60], y: [30, 60], z: [20, 50] };
const [bx, by, bz] = [box.x[1] - box.x[0], box.y[1] - box.y[0], box.z[1] - box.z[0]];

let seed = 12345;
const uniform = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
const gauss = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());

const root = await Deno.makeTempDir({ prefix: "nsd-full-" });
const t0 = performance.now();
const roiDir = `${root}/nsddata/ppdata/subj01/func1pt8mm/roi`;
const betasDir = `${root}/nsddata_betas/ppdata/subj01/func1pt8mm/betas_fithrf_GLMdenoise_RR`;
await Deno.mkdir(betasDir, { recursive: true });

const kastner = new Int16Array(X * Y * Z), general = new Int16Array(X * Y * Z);
const roi: number[] = [];
for (let z = box.z[0]; z < box.z[1]; z++) {
  for (let y = box.y[0]; y < box.y[1]; y++) {
    for (let x = box.x[0]; x < box.x[1]; x++) {
      const i = x + X * (y + Y * z);
      general[i] = 1;
      if (uniform() < targetVoxels / (bx * by * bz)) (kastner[i] = 1 + (roi.length % 2), roi.push(i));
    }
  }
}
await writeNifti(`${roiDir}/Kastner2015.nii.gz`, [X, Y, Z], kastner);
await writeNifti(`${roiDir}/nsdgeneral.nii.gz`, [X, Y, Z], general);

// Design: 10,000 images × 3 repeats in random order; the first 1000 subject images are the shared ones.
const order = Array.from({ length: 30000 }, (_, t) => (t % 10000) + 1);
for (let i = order.length - 1; i > 0; i--) {
  const j = Math.floor(uniform() * (i + 1));
  [order[i], order[j]] = [order[j], order[i]];
}
const subjectim: number[] = [];
for (let i = 0; i < 10000; i++) {
  for (let s = 0; s < 8; s++) subjectim.push(i < 1000 ? i + 1 : 1000 + s * 9000 + i - 999);
}
await writeMat5(`${root}/nsddata/experiments/nsd/nsd_expdesign.mat`, [
  { name: "masterordering", dims: [1, 30000], values: order, store: "uint16", compressed: true },
  { name: "subjectim", dims: [8, 10000], values: subjectim, store: "int32", compressed: true },
  {
    name: "sharedix",
    dims: [1, 1000],
    values: Array.from({ length: 1000 }, (_, i) => i + 1),
    compressed: true,
  },
]);

// Betas: rank-R image signal with decaying loadings (a PCA spectrum that decays) plus noise 7× the signal
// variance (noise ceiling ≈ 30 %, as in NSD's visual ROIs). int16 = % signal change × 300.
const features = Float64Array.from({ length: 10000 * R }, gauss);
const loadings = Float64Array.from(
  { length: roi.length * R },
  (_, k) => gauss() * 300 / Math.sqrt(1 + (k % R)),
);
const roiInBox = roi.map((i) => {
  const x = i % X, y = Math.floor(i / X) % Y, z = Math.floor(i / (X * Y));
  return ((z - box.z[0]) * by + (y - box.y[0])) * bx + (x - box.x[0]);
});
await h5wasm.ready;
for (let s = 1; s <= nSessions; s++) {
  const data = new Int16Array(T * bx * by * bz);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(800 * gauss());
  for (let t = 0; t < T; t++) {
    const image = order[(s - 1) * T + t] - 1;
    for (let v = 0; v < roi.length; v++) {
      let signal = 0;
      for (let r = 0; r < R; r++) signal += loadings[v * R + r] * features[image * R + r];
      data[t * bx * by * bz + roiInBox[v]] = Math.max(
        -32768,
        Math.min(32767, Math.round(signal / 2.5 + 800 * gauss())),
      );
    }
  }
  const file = new h5wasm.File(`${betasDir}/betas_session${String(s).padStart(2, "0")}.hdf5`, "w");
  const ds = file.create_dataset({
    name: "betas",
    data: new Int16Array(T),
    shape: [T, 1, 1, 1],
    maxshape: [T, Z, Y, X],
    chunks: [T, 1, 1, 1],
    dtype: "<h",
  });
  ds.resize([T, Z, Y, X]);
  ds.write_slice([[0, T], [box.z[0], box.z[1]], [box.y[0], box.y[1]], [box.x[0], box.x[1]]], data);
  file.close();
}
console.log(
  `generated ${nSessions} sessions, ${roi.length} ROI voxels in ${
    ((performance.now() - t0) / 1000).toFixed(0)
  }s (${root})`,
);

const start = performance.now();
const run = await new Deno.Command("/usr/bin/time", {
  args: [
    "-v",
    Deno.execPath(),
    "run",
    "-A",
    "tasks/nsd_prep.ts",
    "--nsd",
    root,
    "--subject",
    "1",
    "--roi",
    "V1",
    "--out",
    `${root}/subj01_V1.h5`,
  ],
  env: { NO_COLOR: "1" },
  stdout: "inherit",
  stderr: "piped",
}).output();
const stderr = new TextDecoder().decode(run.stderr);
console.error(
  stderr.split("\n").filter((l) => !/^\s/.test(l) || /Maximum resident|Elapsed|User time|System time/.test(l))
    .join("\n"),
);
console.log(`nsd-prep wall time ${((performance.now() - start) / 1000).toFixed(1)}s, exit ${run.code}`);
if (!f.keep) await Deno.remove(root, { recursive: true });
