/**
 * Bad inputs: each must fail with a one-line NsdFormatError that names the file and the fix, and the task
 * must leave no output (or temp) file behind.
 */
import h5wasm from "h5wasm/node";
import { deepStrictEqual, equal, ok, rejects, throws } from "../lib/testing/assert.ts";
import {
  assertSameGrid,
  NSD_FUNC_GRIDS,
  NsdFormatError,
  parseMat5,
  type PrepareOptions,
  prepareRoi,
} from "../lib/data/nsd/mod.ts";
import { buildTinyNsd, TINY_PATHS, writeH5, writeNifti } from "./reference/nsd_fixtures.ts";

/** Builds a fresh tiny download, lets `corrupt` damage it, and expects `prepareRoi` to fail naming `file`. */
async function expectFailure(
  corrupt: (root: string) => Promise<void>,
  options: Partial<PrepareOptions>,
  file: string,
  words: RegExp,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "nsd-bad-" });
  try {
    await buildTinyNsd(root, { betas: "hdf5", design: "mat" });
    await corrupt(root);
    await rejects(prepareRoi({ nsd: root, subject: 1, roi: "V1", pca: null, ...options }), (e: Error) => {
      ok(e instanceof NsdFormatError && e.name === "NsdFormatError", `${e.name}: ${e.message}`);
      ok(!e.message.includes("\n"), `one line: ${e.message}`);
      ok(e.message.includes(file), `names ${file}: ${e.message}`);
      ok(words.test(e.message), `says ${words}: ${e.message}`);
      return true;
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("missing file: names the path and the bucket location to download", async () => {
  await expectFailure(
    (root) => Deno.remove(`${root}/${TINY_PATHS.expdesign}`),
    {},
    TINY_PATHS.expdesign,
    /file not found; download s3:\/\/natural-scenes-dataset\/nsddata\/experiments\/nsd\/nsd_expdesign\.mat/,
  );
  await expectFailure(
    (root) => Deno.remove(`${root}/${TINY_PATHS.roiDir}/nsdgeneral.nii.gz`),
    {},
    "nsdgeneral.nii.gz",
    /file not found; download/,
  );
});

Deno.test("wrong dataset name and wrong shape in a betas HDF5 file", async () => {
  const file = `${TINY_PATHS.betasDir}/betas_session02.hdf5`;
  await expectFailure(
    (root) => writeH5(`${root}/${file}`, "beta", new Int16Array(60 * 8), [8, 3, 4, 5]),
    {},
    file,
    /no dataset 'betas' \(the file holds: beta\)/,
  );
  await expectFailure(
    (root) => writeH5(`${root}/${file}`, "betas", new Int16Array(60 * 8), [8, 12, 5]),
    {},
    file,
    /shape \[8,12,5\], expected \[\*,\*,\*,\*\].*re-download/,
  );
});

Deno.test("mask/beta grid mismatch names the mask file; reversed axes are pointed out", async () => {
  const kastner = `${TINY_PATHS.roiDir}/Kastner2015.nii.gz`;
  await expectFailure(
    (root) => writeNifti(`${root}/${kastner}`, [5, 4, 2], new Array(40).fill(1)),
    {},
    kastner,
    /grid 5×4×2 \(x×y×z\) does not match 5×4×3 of .*betas_session01\.hdf5; use the subject's func1pt8mm/,
  );
  await expectFailure(
    (root) => writeNifti(`${root}/${TINY_PATHS.roiDir}/nsdgeneral.nii.gz`, [3, 4, 5], new Array(60).fill(1)),
    {},
    "nsdgeneral.nii.gz",
    /axes look reversed/,
  );
});

Deno.test("grid mismatch blames the file that differs from the subject's documented grid", () => {
  const mask = { file: "roi/Kastner2015.nii.gz", dims: [...NSD_FUNC_GRIDS[1]] };
  const betas = {
    file: "betas_session01.hdf5",
    dims: [83, 104, 81],
    hint: "/betas is read as [trials, Z, Y, X]",
  };
  throws(
    () => assertSameGrid(mask, betas, NSD_FUNC_GRIDS[1]),
    /^NsdFormatError: betas_session01\.hdf5: grid 83×104×81 .* of roi\/Kastner2015\.nii\.gz \(axes look reversed.*\(\/betas is read as \[trials, Z, Y, X\]\)/,
  );
  throws(
    () => assertSameGrid({ ...mask, dims: [80, 104, 83] }, betas, NSD_FUNC_GRIDS[1]),
    /^NsdFormatError: roi\/Kastner/,
  );
});

Deno.test("unknown ROI lists the valid names; session out of range lists the sessions present", async () => {
  await expectFailure(
    () => Promise.resolve(),
    { roi: "V3" },
    TINY_PATHS.roiDir,
    /unknown ROI 'V3'; valid names: V1, V2, V4, VO, PHC, LO, TO, nsdgeneral, prf-V1v/,
  );
  await expectFailure(
    () => Promise.resolve(),
    { sessions: [2, 4] },
    TINY_PATHS.betasDir,
    /session 4 is out of range: sessions present are 1-3/,
  );
});

Deno.test("MAT v7.3 (HDF5-based) design file is refused with the re-save fix", async () => {
  const bytes = new TextEncoder().encode("MATLAB 7.3 MAT-file, Platform: GLNXA64".padEnd(128, " "));
  await rejects(parseMat5(bytes, "nsd_expdesign.mat"), /nsd_expdesign\.mat: is a MATLAB v7\.3 .*-v7/);
});

/** Runs the task in a subprocess; returns exit code and stderr/stdout text. */
async function runTask(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tasks/nsd_prep.ts", "--quiet", ...args],
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

Deno.test("task: exit codes, one-line errors, no output left behind, HDF5 contents", async () => {
  const root = await Deno.makeTempDir({ prefix: "nsd-task-" });
  try {
    await buildTinyNsd(root, { betas: "hdf5", design: "mat" });
    const outDir = `${root}/out`;
    const bad = await runTask([
      "--nsd",
      root,
      "--subject",
      "1",
      "--roi",
      "V1",
      "--sessions",
      "1-5",
      "--out",
      `${outDir}/x.h5`,
    ]);
    equal(bad.code, 1);
    equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    ok(bad.stderr.startsWith("nsd-prep: ") && /session 4 is out of range/.test(bad.stderr), bad.stderr);
    const leftovers = await Array.fromAsync(Deno.readDir(outDir)).catch(() => []);
    deepStrictEqual(leftovers, []);
    const usage = await runTask(["--nsd", root, "--subject", "1", "--out", `${outDir}/x.h5`]);
    equal(usage.code, 2, usage.stderr);
    ok(/--roi is required/.test(usage.stderr), usage.stderr);

    const good = await runTask([
      "--nsd",
      root,
      "--subject",
      "1",
      "--roi",
      "V1",
      "--sessions",
      "1-3",
      "--pca-k",
      "2",
      "--shuffle",
      "1024",
      "--out",
      `${outDir}/subj01_V1.h5`,
    ]);
    equal(good.code, 0, good.stderr);
    ok(/K = 2/.test(good.stdout), good.stdout);
    deepStrictEqual((await Array.fromAsync(Deno.readDir(outDir))).map((e) => e.name), ["subj01_V1.h5"]);
    await h5wasm.ready;
    const f = new h5wasm.File(`${outDir}/subj01_V1.h5`, "r");
    try {
      for (
        const name of [
          "train_ids",
          "val_ids",
          "train",
          "val",
          "pca_components",
          "pca_mean",
          "zscore_mean",
          "zscore_std",
          "voxel_index",
          "noise_ceiling",
        ]
      ) {
        ok(f.keys().includes(name), `dataset ${name}`);
      }
      const shape = (name: string) => (f.get(name) as InstanceType<typeof h5wasm.Dataset>).shape;
      deepStrictEqual(shape("train"), [8, 2]);
      deepStrictEqual(shape("val"), [4, 2]);
      equal(f.attrs["K"].value, 2);
      equal(f.attrs["roi"].value, "V1");
      equal(f.attrs["shuffle_seed"].value, 1024);
      deepStrictEqual(Array.from(f.attrs["sessions"].value as Int32Array), [1, 2, 3]);
    } finally {
      f.close();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
