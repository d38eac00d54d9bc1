/**
 * `deno task analyze`: each kind end to end on small files with known answers (the CKA and RSA reference
 * vectors, a cue-conflict table counted by hand), plus exit codes and one-line errors in a subprocess.
 */
import h5wasm from "h5wasm/node";
import { main } from "../tasks/analyze.ts";
import { writeSafetensors } from "../lib/io/safetensors.ts";
import { assertClose, deepStrictEqual, equal, ok, rejects } from "../lib/testing/assert.ts";

const X = [[1, 2, 3], [2, 0, 1], [0, 1, 4], [3, 3, 0], [1, 1, 1]];
const Y = [[0.5, 1], [1, -1], [2, 0], [0, 3], [1, 1]];
const tensor = (rows: number[][]) => ({
  shape: [rows.length, rows[0].length],
  data: Float32Array.from(rows.flat()),
});
const PRINTED = { atol: 1e-6, rtol: 0 };

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "analyze-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A prepared-ROI-like HDF5 file holding `val` (what nsd-prep writes, reduced to the dataset read here). */
async function writeRoi(path: string, rows: number[][]): Promise<void> {
  await h5wasm.ready;
  const f = new h5wasm.File(path, "w");
  f.create_dataset({
    name: "val",
    data: Float32Array.from(rows.flat()),
    shape: [rows.length, rows[0].length],
    dtype: "<f",
  });
  f.close();
}

const readJson = async (path: string) => JSON.parse(await Deno.readTextFile(path));

Deno.test("analyze cka: safetensors model vs HDF5 ROI equals the reference values", async () => {
  await withDir(async (dir) => {
    await writeSafetensors(`${dir}/model.safetensors`, { layer: tensor(X) });
    await writeRoi(`${dir}/roi.h5`, Y);
    await main([
      "cka",
      "--features",
      `${dir}/model.safetensors`,
      "--roi",
      `${dir}/roi.h5`,
      "--out",
      `${dir}/cka.json`,
      "--device",
      "cpu",
    ]);
    const result = await readJson(`${dir}/cka.json`);
    deepStrictEqual(result.modelByRoi.rows, ["model:layer"]);
    deepStrictEqual(result.modelByRoi.columns, ["roi"]);
    assertClose(
      [result.modelByRoi.linear[0][0], result.modelByRoi.unbiased[0][0]],
      [0.570177, -0.047425],
      PRINTED,
    );
    assertClose([result.modelByModel.linear[0][0]], [1], PRINTED);
    const csv = (await Deno.readTextFile(`${dir}/cka.csv`)).trim().split("\n");
    equal(csv[0], "row,column,linear,unbiased");
    equal(csv.length, 3); // header, model × model, model × ROI
  });
});

Deno.test("analyze rsa: every tensor of a file, comparisons and MDS", async () => {
  await withDir(async (dir) => {
    const x4 = X.slice(0, 4);
    // 2x + 1 has the same correlation RDM; the reference's euclidean/correlation pair gives spearman 0.782691.
    await writeSafetensors(`${dir}/net.safetensors`, {
      a: tensor(x4),
      b: tensor(x4.map((r) => r.map((v) => 2 * v + 1))),
    });
    await main([
      "rsa",
      "--features",
      `${dir}/net.safetensors`,
      "--mds",
      "2",
      "--out",
      `${dir}/rsa.json`,
      "--device",
      "cpu",
    ]);
    const result = await readJson(`${dir}/rsa.json`);
    deepStrictEqual(result.modelByModel.rows, ["net:a", "net:b"]);
    assertClose(result.modelByModel.values.flat(), [1, 1, 1, 1], PRINTED);
    equal(result.mds["net:a"].coordinates.length, 4);
    equal(result.distance, "correlation");
  });
});

Deno.test("analyze shape-bias: counts from a decision table", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/preds.csv`,
      "file,decision\ncat1-elephant2.png,cat\ncat2-dog1.png,dog\ndog10-bird2.png,dog\ndog4-dog9.png,dog\n",
    );
    await main(["shape-bias", "--predictions", `${dir}/preds.csv`, "--out", `${dir}/sb.json`]);
    const result = await readJson(`${dir}/sb.json`);
    equal(result.shapeBias, 2 / 3);
    equal(result.excluded, 1);
    const csv = (await Deno.readTextFile(`${dir}/sb.csv`)).trim().split("\n");
    equal(csv[1], `all,${2 / 3},2,1,0,1`);
  });
});

Deno.test("analyze manifold: per-class geometry and readout from labelled features", async () => {
  await withDir(async (dir) => {
    const rows: number[][] = [], labels: number[] = [];
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < 6; i++) {
        rows.push(Array.from({ length: 10 }, (_, c) => (c === k ? 5 : 0) + ((i * 7 + c * 3) % 5) / 10));
        labels.push(k);
      }
    }
    await writeSafetensors(`${dir}/f.safetensors`, {
      feat: tensor(rows),
      labels: { shape: [18], data: Int32Array.from(labels) },
    });
    await main([
      "manifold",
      "--features",
      `${dir}/f.safetensors:feat`,
      "--labels",
      `${dir}/f.safetensors:labels`,
      "--nt",
      "50",
      "--per-class",
      "5",
      "--out",
      `${dir}/m.json`,
    ]);
    const result = (await readJson(`${dir}/m.json`)).inputs["f:feat"];
    equal(result.perClass.length, 3);
    equal(result.perClass[0].points, 5);
    ok(result.capacity > 0 && result.capacity <= 2);
    equal(result.separability.accuracy, 1);
    equal(result.centreDecorrelation, 0);
  });
});

Deno.test("analyze: usage and data errors (in process), exit codes and one-line stderr (subprocess)", async () => {
  await withDir(async (dir) => {
    await rejects(() => main(["bogus", "--out", "x.json"]), /unknown kind 'bogus'/);
    await rejects(() => main(["rsa", "--out", `${dir}/x.json`]), /at least one --features/);
    await writeSafetensors(`${dir}/a.safetensors`, { a: tensor(X) });
    await writeSafetensors(`${dir}/b.safetensors`, { b: tensor(X.slice(0, 4)) });
    await rejects(
      () =>
        main([
          "cka",
          "--features",
          `${dir}/a.safetensors`,
          "--roi",
          `${dir}/b.safetensors`,
          "--out",
          `${dir}/x.json`,
        ]),
      /b\.safetensors:b has 4 stimuli but .*a\.safetensors:a has 5/,
    );
    await rejects(
      () => main(["cka", "--features", `${dir}/a.safetensors:nope`, "--out", `${dir}/x.json`]),
      /no tensor 'nope'/,
    );
    const run = async (args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "tasks/analyze.ts", ...args],
        env: { NO_COLOR: "1" },
      }).output();
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr).trim() };
    };
    const usage = await run([
      "rsa",
      "--distance",
      "cosine",
      "--features",
      `${dir}/a.safetensors`,
      "--out",
      `${dir}/x.json`,
    ]);
    equal(usage.code, 2);
    equal(usage.stderr, "analyze: --distance: 'cosine' is not one of correlation, euclidean");
    const data = await run(["rsa", "--features", `${dir}/missing.safetensors`, "--out", `${dir}/x.json`]);
    equal(data.code, 1);
    equal(data.stderr.split("\n").length, 1);
    ok(
      /missing\.safetensors: no such file \(make it with deno task analyze features/.test(data.stderr),
      data.stderr,
    );
    deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["a.safetensors", "b.safetensors"]);
  });
});
