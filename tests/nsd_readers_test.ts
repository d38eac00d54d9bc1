/**
 * NSD readers on fixtures written in the test from the format specs (tests/reference/nsd_fixtures.ts).
 */
import { assertClose, deepStrictEqual, equal, ok } from "../lib/testing/assert.ts";
import {
  betaSessionInfo,
  listBetaSessions,
  loadRoi,
  nsdPaths,
  parseMat5,
  readExpDesignMat,
  readNiftiVolume,
  readSessionBetas,
  readStimInfoCsv,
  readStimuli,
  referenceVoxelOrder,
  resizeBilinearPil,
  splitCsvLine,
} from "../lib/data/nsd/mod.ts";
import {
  buildTinyNsd,
  TINY_GRID,
  TINY_MASTERORDERING,
  TINY_SHARED,
  TINY_TRIALS_PER_SESSION,
  TINY_VOXELS,
  tinyBeta,
  tinyKastner,
  tinyNsdGeneral,
  tinySubjectImage,
  writeH5,
  writeMat5,
  writeNifti,
} from "./reference/nsd_fixtures.ts";

const dir = await Deno.makeTempDir({ prefix: "nsd-readers-" });
const root = `${dir}/nsd`;
await buildTinyNsd(root);
const paths = nsdPaths(root, 1);

Deno.test({
  name: "NIfTI: gzip and plain, int16 with scl_slope/scl_inter, big-endian float32",
  async fn() {
    const values = [-3, 0, 7, 1000, -32768, 32767];
    await writeNifti(`${dir}/a.nii.gz`, [3, 2, 1], values, { slope: 2, intercept: 1 });
    const a = await readNiftiVolume(`${dir}/a.nii.gz`);
    deepStrictEqual(a.info.dims, [3, 2, 1]);
    deepStrictEqual(Array.from(a.data), values.map((v) => 2 * v + 1));
    const floats = [0.5, -1.25, 3, 4, 5, 6];
    await writeNifti(`${dir}/b.nii`, [2, 3, 1], floats, {
      type: "float32",
      gzip: false,
      littleEndian: false,
    });
    const b = await readNiftiVolume(`${dir}/b.nii`);
    deepStrictEqual(Array.from(b.data), floats);
    equal(b.info.littleEndian, false);
    assertClose(b.info.affine[0], [1.8, 0, 0, -72], { label: "sform row x" });
  },
});

Deno.test({
  name: "MAT v5: plain and miCOMPRESSED matrices, small-format names, integer storage of doubles",
  async fn() {
    await writeMat5(`${dir}/m.mat`, [
      { name: "x", dims: [2, 3], values: [1, 2, 3, 4, 5, 6], compressed: true },
      { name: "longname", dims: [1, 3], values: [7, 65535, 0], store: "uint16" },
      {
        name: "neg",
        dims: [3, 1],
        values: [-5, 0, 2147483647],
        store: "int32",
        compressed: true,
        classId: 12,
      },
    ]);
    const vars = await parseMat5(await Deno.readFile(`${dir}/m.mat`), "m.mat");
    deepStrictEqual([...vars.keys()].sort(), ["longname", "neg", "x"]); // the char array is skipped
    deepStrictEqual(vars.get("x")!.dims, [2, 3]);
    deepStrictEqual(Array.from(vars.get("x")!.data), [1, 2, 3, 4, 5, 6]);
    equal(vars.get("x")!.className, "double");
    deepStrictEqual(Array.from(vars.get("longname")!.data), [7, 65535, 0]);
    equal(vars.get("neg")!.className, "int32");
    deepStrictEqual(Array.from(vars.get("neg")!.data), [-5, 0, 2147483647]);
  },
});

Deno.test({
  name: "design: nsd_expdesign.mat and nsd_stim_info_merged.csv give the spec's index chain",
  async fn() {
    const expectedIds = TINY_MASTERORDERING.map((m) => tinySubjectImage(1, m - 1) - 1);
    const expectedShared = TINY_MASTERORDERING.map((m) => (m - 1 < TINY_SHARED ? 1 : 0));
    const mat = await readExpDesignMat(paths.expdesign, 1);
    deepStrictEqual(Array.from(mat.trialImages), expectedIds);
    deepStrictEqual(Array.from(mat.trialShared), expectedShared);
    deepStrictEqual(
      Array.from(mat.subjectImages!),
      Array.from({ length: 12 }, (_, i) => tinySubjectImage(1, i) - 1),
    );
    const csv = await readStimInfoCsv(paths.stimInfoCsv, 1);
    deepStrictEqual(Array.from(csv.trialImages), expectedIds);
    deepStrictEqual(Array.from(csv.trialShared), expectedShared);
    deepStrictEqual(splitCsvLine('1,"(0, 0, 1)",x,"a""b"'), ["1", "(0, 0, 1)", "x", 'a"b']);
  },
});

Deno.test({
  name: "ROI: V1 = Kastner {1,2} ∩ nsdgeneral == 1 (sentinels excluded); reference order is z fastest",
  async fn() {
    const all = Array.from({ length: TINY_VOXELS }, (_, i) => i);
    const v1 = await loadRoi(paths, "V1");
    deepStrictEqual(
      Array.from(v1.voxels),
      all.filter((i) => [1, 2].includes(tinyKastner(i)) && tinyNsdGeneral(i) === 1),
    );
    deepStrictEqual(v1.grid, [...TINY_GRID]);
    const general = await loadRoi(paths, "nsdgeneral");
    deepStrictEqual(Array.from(general.voxels), all.filter((i) => tinyNsdGeneral(i) === 1));
    const user = await loadRoi(paths, { maskFile: `${paths.roiDir}/Kastner2015.nii.gz`, labels: [3, 4] });
    deepStrictEqual(Array.from(user.voxels), all.filter((i) => [3, 4].includes(tinyKastner(i))));
    const [X, Y, Z] = TINY_GRID;
    const ref = referenceVoxelOrder(v1.voxels, v1.grid);
    const keys = Array.from(
      ref,
      (i) => (Math.floor(i / (X * Y))) + Z * ((Math.floor(i / X) % Y) + Y * (i % X)),
    );
    ok(keys.every((k, j) => j === 0 || k > keys[j - 1]), "reference order ascends in z + Z*(y + Y*x)");
    deepStrictEqual(Array.from(ref).sort((a, b) => a - b), Array.from(v1.voxels));
  },
});

Deno.test({
  name: "betas: HDF5 bounding-box slabs and streamed NIfTI give the same ROI values, int16 ÷ 300",
  async fn() {
    const sessions = await listBetaSessions(paths);
    deepStrictEqual(sessions.map((s) => [s.session, s.format]), [[1, "hdf5"], [2, "hdf5"], [3, "hdf5"]]);
    const nifti = await listBetaSessions(paths, "nifti");
    const info = await betaSessionInfo(nifti[1]);
    deepStrictEqual([info.dims, info.trials], [[...TINY_GRID], TINY_TRIALS_PER_SESSION]);
    const voxels = Int32Array.from([59, 0, 7, 13, 31]); // unordered, spans the grid corners
    const grid = { file: "grid", dims: [...TINY_GRID] };
    const expected = [];
    for (let t = 0; t < TINY_TRIALS_PER_SESSION; t++) {
      for (const v of voxels) expected.push(Math.fround(tinyBeta(TINY_TRIALS_PER_SESSION + t, v) / 300));
    }
    const h5 = await readSessionBetas(sessions[1], voxels, grid); // NSD chunking [T,1,1,1]: row reads
    const nii = await readSessionBetas(nifti[1], voxels, grid);
    equal(h5.trials, TINY_TRIALS_PER_SESSION);
    deepStrictEqual(Array.from(h5.data), expected);
    deepStrictEqual(Array.from(nii.data), expected);
    // The same values stored contiguously take the bounding-box slab path.
    const values = new Int16Array(TINY_TRIALS_PER_SESSION * TINY_VOXELS);
    for (let t = 0; t < TINY_TRIALS_PER_SESSION; t++) {
      for (let i = 0; i < TINY_VOXELS; i++) {
        values[t * TINY_VOXELS + i] = tinyBeta(TINY_TRIALS_PER_SESSION + t, i);
      }
    }
    const [X, Y, Z] = TINY_GRID;
    await writeH5(`${dir}/contiguous.hdf5`, "betas", values, [TINY_TRIALS_PER_SESSION, Z, Y, X]);
    const contiguous = await readSessionBetas(
      { session: 2, file: `${dir}/contiguous.hdf5`, format: "hdf5" },
      voxels,
      grid,
    );
    deepStrictEqual(Array.from(contiguous.data), expected);
  },
});

Deno.test({
  name: "stimuli: imgBrick HWC → NCHW, PIL-bilinear resize matches hand-computed taps",
  async fn() {
    // 2 images of 4×4×3: channel 0 = [0, 70, 140, 210] along x, channel 1 = 10·y, channel 2 = image id.
    const data = new Uint8Array(2 * 4 * 4 * 3);
    for (let n = 0; n < 2; n++) {
      for (let y = 0; y < 4; y++) {
        for (let x = 0; x < 4; x++) data.set([70 * x, 10 * y, n], ((n * 4 + y) * 4 + x) * 3);
      }
    }
    await writeH5(`${dir}/stim.hdf5`, "imgBrick", data, [2, 4, 4, 3]);
    const same = await readStimuli(`${dir}/stim.hdf5`, [1], { size: 4, dtype: "uint8" });
    deepStrictEqual(same.shape, [1, 3, 4, 4]);
    deepStrictEqual(Array.from(same.data.subarray(0, 4)), [0, 70, 140, 210]);
    deepStrictEqual(Array.from(same.data.subarray(16, 32)), [
      0,
      0,
      0,
      0,
      10,
      10,
      10,
      10,
      20,
      20,
      20,
      20,
      30,
      30,
      30,
      30,
    ]);
    deepStrictEqual(Array.from(same.data.subarray(32, 48)), new Array(16).fill(1));
    // 4 → 2: scale 2, support 2; output 0 taps x = 0,1,2 with weights 3/7, 3/7, 1/7, output 1 taps 1,2,3 with
    // 1/7, 3/7, 3/7: (0·3 + 70·3 + 140)/7 = 50 and (70 + 140·3 + 210·3)/7 = 160.
    const small = await readStimuli(`${dir}/stim.hdf5`, [0], { size: 2 });
    assertClose(small.data.subarray(0, 4), [50 / 255, 160 / 255, 50 / 255, 160 / 255], {
      label: "channel 0",
    });
    // Vertical: 10·y gives (0 + 30 + 20)/7 ≈ 7.14 → 7 and (10 + 60 + 90)/7 ≈ 22.86 → 23.
    assertClose(small.data.subarray(4, 8), [7 / 255, 7 / 255, 23 / 255, 23 / 255], { label: "channel 1" });
    deepStrictEqual(Array.from(resizeBilinearPil(new Uint8Array(9).fill(200), 3, 3, 2, 2)), [
      200,
      200,
      200,
      200,
    ]);
  },
});

Deno.test({
  name: "cleanup",
  async fn() {
    await Deno.remove(dir, { recursive: true });
  },
});
