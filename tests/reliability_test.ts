/**
 * Reliability: one line for every bad input, nothing lost, nothing mixed. Each test reproduces one way a run
 * went wrong (kill of a sweep, rerun with other settings, damaged checkpoint metadata, damaged files, odd
 * flags) and checks the refusal and that nothing was written.
 */
import { join } from "node:path";
import { deepStrictEqual, equal, ok, rejects, throws } from "../lib/testing/assert.ts";
import { parseFlags } from "../lib/cli/args.ts";
import { errorLine } from "../lib/cli/main.ts";
import { Progress } from "../lib/cli/progress.ts";
import { UsageError, UserError } from "../lib/errors.ts";
import { removeStaleTemps, writeFileAtomic } from "../lib/io/atomic.ts";
import { FolderLock } from "../lib/io/lock.ts";
import { checkOutputPath } from "../lib/io/output_path.ts";
import { PARENT_PID_ENV } from "../lib/io/pid.ts";
import { writeSafetensors } from "../lib/io/safetensors.ts";
import { loadCheckpoint, saveCheckpoint } from "../lib/nn/checkpoint.ts";
import { buildModel, modelConfig } from "../lib/nn/models.ts";
import { parseNiftiHeader } from "../lib/data/nsd/nifti.ts";
import { readPreparedTargets } from "../lib/data/nsd/prepared.ts";
import { paperGrid, parseGrid } from "../lib/sweep/grid.ts";
import { buildPlan, checkSamePlan, checkSameWorld, type SweepSettings } from "../lib/sweep/plan.ts";
import { sbatchQuote } from "../lib/sweep/slurm.ts";
import { RunDir } from "../lib/train/run_dir.ts";
import { loadDataset } from "../lib/attacks/dataset.ts";
import { parseEpsGrid } from "../lib/attacks/eps_grid.ts";
import { openClassificationData } from "../lib/train/classification_data.ts";
import { runTask } from "./fixtures/run_task.ts";
import { tinyPrepared, tinyWorld } from "./fixtures/world.ts";

const temp = () => Deno.makeTempDir({ prefix: "ng-reliability-" });
const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
/** Lines of stderr that are not progress output. */
const messageLines = (stderr: string) => stderr.trim().split("\n").filter((l) => l.trim() !== "");

/** A pid that is certainly dead: a process that has exited. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

/** Runs a throwaway script that imports this repository's modules (path-relative imports resolved here). */
async function runScript(source: string, env: Record<string, string> = {}, args: string[] = []) {
  const file = join(await temp(), "script.ts");
  await Deno.writeTextFile(file, source.replaceAll("$ROOT", Deno.cwd()));
  const out = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", file, ...args], env }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

// 9. any error is one line; the stack only on request

Deno.test("runMain: an unexpected error is one line; --debug and NEUROGUIDE_DEBUG=1 print the stack", async () => {
  const script = `import { runMain } from "$ROOT/lib/cli/main.ts";
await runMain("demo", async () => { new Float32Array(-1); });`;
  const plain = await runScript(script);
  equal(plain.code, 1);
  equal(messageLines(plain.stderr).length, 1, plain.stderr);
  ok(/^demo: RangeError: .*rerun with --debug/.test(plain.stderr), plain.stderr);
  for (
    const run of [
      await runScript(script, {}, ["--debug"]),
      await runScript(script, { NEUROGUIDE_DEBUG: "1" }),
    ]
  ) {
    equal(run.code, 1);
    ok(/\n\s+at /.test(run.stderr), `stack expected: ${run.stderr}`);
  }
  equal(errorLine(new UserError("a: b\nmore"), false), "a: b");
});

// 10. negative numbers as flag values

Deno.test("parseFlags: --alpha -1 reads as a value; a dashed non-number says to write --flag=VALUE", () => {
  const spec = { alpha: { type: "string" as const }, out: { type: "string" as const } };
  equal(parseFlags(["--alpha", "-1"], spec).values.alpha, "-1");
  equal(parseFlags(["--alpha", "-.5", "--out", "x"], spec).values.alpha, "-.5");
  throws(() => parseFlags(["--out", "-x"], spec), (e: Error) => {
    ok(e instanceof UsageError);
    equal(e.message, "--out: its value starts with '-'; write --out=VALUE (see --help)");
    return true;
  });
  equal(parseFlags(["--debug"], spec).values.debug, undefined, "--debug is accepted, not returned");
});

// 13. progress off a terminal: lines, no redraws

Deno.test("Progress off a terminal: one plain line per 10 %, no control characters", () => {
  let written = "";
  const output = {
    isTerminal: () => false,
    writeSync: (data: Uint8Array) => {
      written += new TextDecoder().decode(data);
      return data.length;
    },
  };
  const bar = new Progress("train", 1000, { unit: "steps", logEveryMs: Infinity, output });
  for (let i = 0; i < 1000; i++) bar.tick();
  bar.done();
  ok(!written.includes("\x1b") && !written.includes("\r"), JSON.stringify(written.slice(0, 80)));
  const lines = written.trim().split("\n");
  // ticks 100, 200, …, 900 (the 10th mark is the final line) + the final line
  equal(lines.length, 10, written);
  ok(lines[0].includes("100/1000") && lines.at(-1)!.includes("1000/1000 steps"), written);
});

// 6. output paths checked before work

Deno.test("checkOutputPath: a folder for a file, a file for a folder, /proc — refused, nothing created", async () => {
  const dir = await temp();
  const file = join(dir, "f.json");
  await Deno.writeTextFile(file, "{}");
  await rejects(checkOutputPath(dir, "--out", "file"), /--out .*: is a folder/);
  await rejects(checkOutputPath(file, "--out", "folder"), /--out .*: is a file/);
  await rejects(checkOutputPath(join(file, "sub", "x.json"), "--out", "file"), /is a file, not a folder/);
  await rejects(checkOutputPath("/proc/neuroguide/x.json", "--out", "file"), /cannot write into \/proc/);
  await checkOutputPath(join(dir, "new", "deeper", "run"), "--out", "folder");
  ok(!(await exists(join(dir, "new"))), "the check creates nothing");
  deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["f.json"], "no probe file left");
});

Deno.test("attack: an unwritable --out fails at once, before the model is loaded", async () => {
  const started = performance.now();
  const { code, stderr } = await runTask("attack", [
    ...["--model", "no-such-model", "--data", "no-such-data", "--out", "/proc/ng/report.json"],
  ]);
  equal(code, 2, stderr);
  equal(messageLines(stderr).length, 1, stderr);
  ok(/^attack: --out \/proc\/ng\/report.json: cannot write/.test(stderr), stderr);
  ok(performance.now() - started < 20_000);
});

// 7. truncated or foreign .h5: one line, no HDF5-DIAG

Deno.test("predictor: truncated or non-HDF5 prepared file → one line naming nsd-prep, no HDF5-DIAG", async () => {
  const dir = await temp();
  const bytes = await Deno.readFile(await tinyPrepared());
  const truncated = join(dir, "truncated.h5"), foreign = join(dir, "foreign.h5");
  await Deno.writeFile(truncated, bytes.slice(0, 3000));
  await Deno.writeTextFile(foreign, "not hdf5 at all\n".repeat(100));
  for (
    const [file, reason] of [[truncated, /truncated or damaged/], [foreign, /not an HDF5 file/]] as const
  ) {
    await rejects(readPreparedTargets(file), reason);
    const { code, stderr } = await runTask("predictor", ["--prepared", file, "--out", join(dir, "np")]);
    equal(code, 1, stderr);
    equal(messageLines(stderr).length, 1, stderr);
    ok(stderr.includes(file) && stderr.includes("deno task nsd-prep"), stderr);
    ok(!stderr.includes("HDF5-DIAG") && !stderr.includes("re-download"), stderr);
    ok(!(await exists(join(dir, "np"))), "no run folder");
  }
});

// 4. non-finite weights, empty data, negative labels; damaged configs are bad configs

Deno.test("loadCheckpoint: non-finite weights name the tensor; implausible configs name the field", async () => {
  const dir = await temp();
  const config = modelConfig("linear", { classes: 3, imageSize: 8 });
  const weights = new Map(
    buildModel(config, 1).graph.params.map((p) => [
      p.name,
      new Float32Array(p.shape.reduce((a, b) => a * b, 1)).fill(0.5),
    ]),
  );
  const name = [...weights.keys()][0];
  weights.get(name)![7] = NaN;
  const file = join(dir, "nan.safetensors");
  await saveCheckpoint(file, config, weights);
  await rejects(
    loadCheckpoint(file),
    new RegExp(`tensor '${name.replace(".", "\\.")}' holds NaN at index 7`),
  );
  weights.get(name)![7] = 0;
  for (
    const [field, value] of [["arch", "resnet999"], ["classes", -5], ["imageSize", 1e6]] as [
      string,
      unknown,
    ][]
  ) {
    const bad = join(dir, `${field}.safetensors`);
    await saveCheckpoint(bad, config, weights);
    // rewrite the stored config with the damaged field
    const text = await Deno.readFile(bad);
    const headerLength = Number(new DataView(text.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(text.slice(8, 8 + headerLength)));
    header.__metadata__["neuroguide.config"] = JSON.stringify({ ...config, [field]: value });
    const tensors = new Map(
      [...weights].map(([n, data]) => [n, { shape: header[n].shape as number[], data }]),
    );
    await writeSafetensors(bad, tensors, { metadata: header.__metadata__ });
    await rejects(
      loadCheckpoint(bad),
      (e: Error) => e instanceof UserError && e.message.includes(bad) && e.message.includes(`has ${field} =`),
    );
  }
});

Deno.test("attack data: N = 0 and negative labels are refused with the file named", async () => {
  const dir = await temp();
  const model = { inputShape: [1, 3, 4, 4] as [number, number, number, number], classes: 3 };
  const empty = join(dir, "empty.safetensors");
  await writeSafetensors(empty, {
    images: { shape: [0, 3, 4, 4], data: new Float32Array(0) },
    labels: { shape: [0], data: new BigInt64Array(0) },
  });
  await rejects(loadDataset(empty, model, undefined), /empty\.safetensors: holds no images \(N = 0\)/);
  const negative = join(dir, "negative.safetensors");
  await writeSafetensors(negative, {
    images: { shape: [2, 3, 4, 4], data: new Float32Array(96) },
    labels: { shape: [2], data: BigInt64Array.of(1n, -2n) },
  });
  await rejects(loadDataset(negative, model, undefined), /label -2 at index 1 is negative/);
});

// 9. absurd values: one line naming the flag or file

Deno.test("absurd sizes: a 1e15-point ε grid and a 30000³ NIfTI header are refused by name", () => {
  throws(() => parseEpsGrid("0:1e9:1e-6"), /'0:1e9:1e-6' gives \d+ values; at most 10000/);
  const header = new Uint8Array(352);
  const view = new DataView(header.buffer);
  view.setInt32(0, 348, true);
  [3, 30000, 30000, 30000, 1, 1, 1, 1].forEach((d, i) => view.setInt16(40 + 2 * i, d, true));
  view.setInt16(70, 16, true); // float32
  view.setInt16(72, 32, true);
  view.setFloat32(108, 352, true);
  for (let i = 0; i < 8; i++) view.setFloat32(76 + 4 * i, 1, true);
  header.set(new TextEncoder().encode("n+1\0"), 344);
  throws(
    () => parseNiftiHeader(header, "big.nii"),
    /: big\.nii: the header claims dims \[30000,30000,30000\]/,
  );
});

// 3. resume point validated before anything changes

Deno.test("RunDir.resumePoint: missing, out-of-range or unlogged epochs are refused; metrics untouched", async () => {
  const run = new RunDir(await temp());
  const metrics = [1, 2].map((epoch) => JSON.stringify({ epoch, val_acc: 0.5 })).join("\n") + "\n";
  await Deno.writeTextFile(run.file("metrics.jsonl"), metrics);
  const check = (metadata: Record<string, string>) => run.resumePoint(metadata, { epochs: 4, seed: 0 });
  await rejects(check({ step: "4" }), /no 'epoch' in its metadata/);
  await rejects(check({ epoch: "99", step: "4" }), /saved at epoch 99, but this run has epochs 1…4/);
  await rejects(check({ epoch: "3", step: "6" }), /holds epochs \[1, 2\] up to the checkpoint's epoch 3/);
  await rejects(check({ epoch: "2", step: "4", seed: "7" }), /written with seed 7, this run has seed 0/);
  deepStrictEqual(await check({ epoch: "2", step: "4", seed: "0" }), { epoch: 2, step: 4 });
  equal(await Deno.readTextFile(run.file("metrics.jsonl")), metrics, "metrics.jsonl unchanged");
});

// 1. one writer per run folder; children die with their sweep

Deno.test("FolderLock: a live holder is refused by pid, a dead one's lock is taken over", async () => {
  const dir = await temp();
  const holder = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { FolderLock } from "${Deno.cwd()}/lib/io/lock.ts";
await FolderLock.acquire("${dir}"); console.log("locked"); await new Promise((r) => setTimeout(r, 60000));`,
    ],
    stdout: "piped",
  }).spawn();
  const reader = holder.stdout.getReader();
  equal(new TextDecoder().decode((await reader.read()).value).trim(), "locked");
  await rejects(FolderLock.acquire(dir), new RegExp(`in use by process ${holder.pid}`));
  holder.kill("SIGKILL");
  await holder.status;
  reader.releaseLock();
  await holder.stdout.cancel();
  const lock = await FolderLock.acquire(dir);
  lock.release();
  ok(!(await exists(join(dir, ".lock"))), "released");
  // a lock file of a dead pid (a SIGKILLed run) is stale
  await Deno.writeTextFile(
    join(dir, ".lock"),
    JSON.stringify({ pid: await deadPid(), host: Deno.hostname() }),
  );
  (await FolderLock.acquire(dir)).release();
});

Deno.test("a task started by a sweep stops once the sweep is SIGKILLed", async () => {
  const dir = await temp();
  const child = join(dir, "child.ts"), parent = join(dir, "parent.ts"), pidFile = join(dir, "child.pid");
  await Deno.writeTextFile(
    child,
    `import { runMain } from "${Deno.cwd()}/lib/cli/main.ts";
await runMain("child", async () => { await Deno.writeTextFile("${pidFile}", String(Deno.pid));
  await new Promise((r) => setTimeout(r, 60000)); });`,
  );
  await Deno.writeTextFile(
    parent,
    `new Deno.Command(Deno.execPath(), { args: ["run", "-A", "${child}"],
  env: { ${PARENT_PID_ENV}: String(Deno.pid) } }).spawn();
await new Promise((r) => setTimeout(r, 60000));`,
  );
  const sweep = new Deno.Command(Deno.execPath(), { args: ["run", "-A", parent] }).spawn();
  let pid = 0;
  for (let i = 0; i < 400 && !pid; i++) {
    pid = Number(await Deno.readTextFile(pidFile).catch(() => "0"));
    await new Promise((r) => setTimeout(r, 50));
  }
  ok(pid > 0, "child started");
  sweep.kill("SIGKILL");
  await sweep.status;
  const alive = () => Deno.stat(`/proc/${pid}`).then(() => true, () => false);
  for (let i = 0; i < 60 && await alive(); i++) await new Promise((r) => setTimeout(r, 50));
  ok(!(await alive()), "the orphan stopped within 3 s");
});

// 11. leftovers of dead writers; failed fresh runs leave nothing

Deno.test("stale temps of dead pids are removed by the next write; live ones are kept", async () => {
  const dir = await temp();
  const target = join(dir, "summary.json");
  const stale = `${target}.tmp-${await deadPid()}-0123abcd`, live = `${target}.tmp-${Deno.pid}-89abcdef`;
  await Deno.mkdir(stale); // synth's temp is a folder
  await Deno.writeTextFile(join(stale, "big.bin"), "x");
  await Deno.writeTextFile(live, "mine");
  await writeFileAtomic(target, "{}");
  ok(!(await exists(stale)) && (await exists(live)));
  equal(await removeStaleTemps(target), 0);
});

Deno.test("RunDir: a fresh run that fails before its first checkpoint leaves no folder and no lock", async () => {
  const path = join(await temp(), "run");
  const run = new RunDir(path);
  await run.prepare({ epochs: 1 }, { resume: false, overwrite: false });
  ok(await exists(join(path, "options.json")) && await exists(join(path, ".lock")));
  await rejects(new RunDir(path).prepare({ epochs: 1 }, { resume: false, overwrite: true }), /this process/);
  await run.close({ failed: true });
  ok(!(await exists(path)), "nothing left");
  const nothing = new RunDir(path);
  await rejects(nothing.prepare({ epochs: 1 }, { resume: true, overwrite: false }), /nothing to resume/);
  await nothing.close({ failed: true });
  ok(!(await exists(path)), "a refused --resume leaves no folder made for its lock");
});

Deno.test("train: --batch larger than the data is a usage error and writes no run folder", async () => {
  const out = join(await temp(), "run");
  const { code, stderr } = await runTask("train", [
    ...["--data", "sim", "--sim", await tinyWorld(), "--arch", "resnet-tiny", "--size", "16"],
    ...["--batch", "4000", "--epochs", "1", "--out", out],
  ]);
  equal(code, 2, stderr);
  ok(/batch 4000 is larger than the \d+ training images/.test(stderr), stderr);
  equal(messageLines(stderr).length, 1, stderr);
  ok(!(await exists(out)));
});

// 2, 5. sweep: per-model settings compared; the whole plan checked before the first job

const SETTINGS: SweepSettings = {
  sim: "/sim",
  subject: 1,
  arch: "resnet-tiny",
  size: 16,
  batch: 8,
  epochs: 1,
  cropScale: 0.35,
  predictorEpochs: 1,
  lr: 0.05,
  alpha: 0.9,
  wd: 5e-4,
  seed: 0,
  attacks: [],
  eps: "0.01",
  epsUnits: "normalized",
  attackN: 8,
  analyses: [],
  analysisN: 8,
  transferEps: "0.01",
};

Deno.test("checkSamePlan: another world path is refused, unless the earlier plan has the world's fingerprint", () => {
  const before = buildPlan("/out", SETTINGS, paperGrid());
  const moved = buildPlan("/out", { ...SETTINGS, sim: "/elsewhere/sim" }, paperGrid());
  throws(() => checkSamePlan(moved, before, "plan.json"), /other settings \(sim\)/);
  // with a fingerprint the world is compared by its bytes after it is generated (checkSameWorld)
  checkSamePlan(moved, { ...before, world: "sha256:1" }, "plan.json");
  throws(
    () =>
      checkSamePlan(buildPlan("/out", { ...moved.settings, lr: 1 }, paperGrid()), {
        ...before,
        world: "sha256:1",
      }, "p"),
    /other settings \(lr\)/,
  );
  checkSameWorld({ ...before, world: "sha256:1" }, "sha256:1", "plan.json");
  checkSameWorld(before, "sha256:2", "plan.json"); // a plan from before fingerprints: taken as it is
  throws(
    () => checkSameWorld({ ...before, world: "sha256:1" }, "sha256:2", "plan.json"),
    /fingerprint sha256:1/,
  );
});

Deno.test("checkSamePlan: a model whose α, wd or roi changed is refused by name; new models are fine", () => {
  const grid = (alpha?: number, extra: object[] = []) =>
    parseGrid(JSON.stringify({ models: [{ name: "TO", roi: "TO", alpha }, ...extra] }), "grid.json");
  const before = buildPlan("/out", SETTINGS, grid());
  checkSamePlan(buildPlan("/out", SETTINGS, grid(0.9, [{ name: "None", roi: "none" }])), before, "plan.json");
  throws(
    () => checkSamePlan(buildPlan("/out", SETTINGS, grid(0.5)), before, "plan.json"),
    /plan\.json: model 'TO' was planned with alpha 0\.9, the grid now says 0\.5/,
  );
  const roi = parseGrid(JSON.stringify({ models: [{ name: "TO", roi: "V1" }] }), "grid.json");
  throws(
    () => checkSamePlan(buildPlan("/out", SETTINGS, roi), before, "plan.json"),
    /model 'TO' .* roi "TO"/,
  );
  throws(
    () => parseGrid(JSON.stringify({ models: [{ name: "a", roi: "none", alpha: 5 }] }), "g.json"),
    /g\.json: models\[0\]: "alpha" must be a number in \[0, 1\], got 5/,
  );
});

Deno.test("sweep: --attacks foo, --jobs 0 and a spaced --out are handled before anything is written", async () => {
  const dir = await temp();
  const out = join(dir, "out");
  const grid = join(dir, "grid.json");
  await Deno.writeTextFile(grid, JSON.stringify({ models: [{ name: "None", roi: "none" }] }));
  for (
    const [flags, pattern] of [[["--attacks", "pgd,foo"], /--attacks: unknown attack 'foo'/], [[
      "--jobs",
      "0",
    ], /--jobs: 0 is outside/]] as const
  ) {
    const { code, stderr } = await runTask("sweep", ["--grid", grid, "--out", out, ...flags]);
    equal(code, 2, stderr);
    ok(pattern.test(stderr), stderr);
    ok(!(await exists(out)), `${flags.join(" ")}: nothing written`);
  }
  // 12. a results folder with spaces: sbatch reads quoted directive values
  const spaced = join(dir, "my results");
  const { code, stdout } = await runTask("sweep", [
    "--grid",
    grid,
    "--out",
    spaced,
    "--executor",
    "slurm",
    "--dry-run",
  ]);
  equal(code, 0);
  ok(stdout.includes(`#SBATCH --output="${spaced}/logs/slurm/model_%A_%a.log"`), stdout);
  equal(sbatchQuote('a "b" #c'), '"a \\"b\\" \\#c"');
});

/** An image folder DIR/{train,val}/<class>/ with a few of the tiny world's PNGs per class. */
async function imageFolder(classes: string[], perClass: number): Promise<string> {
  const world = await tinyWorld();
  const dir = await temp();
  for (const split of ["train", "val"]) {
    for (const name of classes) {
      const from = join(world, "classification", split, name);
      await Deno.mkdir(join(dir, split, name), { recursive: true });
      const files = [...Deno.readDirSync(from)].map((e) => e.name).sort().slice(0, perClass);
      for (const file of files) await Deno.copyFile(join(from, file), join(dir, split, name, file));
    }
  }
  return dir;
}

// 5. a one-class data set is refused before training
Deno.test("classification data: one class is refused (it would train to accuracy 1)", async () => {
  const dir = await imageFolder(["cross"], 4);
  await rejects(
    openClassificationData(`imagefolder:${dir}`, { size: 16, seed: 0, sim: "", shuffle: false }),
    /1 class folder\(s\) \(cross\); a classifier needs at least 2/,
  );
});

// 8, 11. a NaN loss and a bad PNG: one line each, and no half-started run folder left
Deno.test("train: a NaN loss and a damaged PNG give one line and leave no run folder", async () => {
  const world = await tinyWorld();
  const common = ["--arch", "resnet-tiny", "--size", "16", "--batch", "8", "--epochs", "1", "--roi", "none"];
  const nan = join(await temp(), "nan");
  const diverged = await runTask("train", [
    "--data",
    "sim",
    "--sim",
    world,
    ...common,
    "--lr",
    "1e12",
    "--out",
    nan,
  ]);
  equal(diverged.code, 1, diverged.stderr);
  const lines = messageLines(diverged.stderr).filter((l) => !l.startsWith("train none"));
  equal(lines.length, 1, diverged.stderr);
  ok(/^train: loss became NaN/.test(lines[0]), diverged.stderr);
  ok(!(await exists(nan)), "no run folder after a failure before the first checkpoint");
  const dir = await imageFolder(["cross", "ring"], 8);
  const bad = join(dir, "train", "ring", [...Deno.readDirSync(join(dir, "train", "ring"))][0].name);
  await Deno.writeFile(bad, (await Deno.readFile(bad)).slice(0, 40));
  const out = join(await temp(), "png");
  const broken = await runTask("train", ["--data", `imagefolder:${dir}`, ...common, "--out", out]);
  equal(broken.code, 1, broken.stderr);
  const brokenLines = messageLines(broken.stderr).filter((l) => !l.startsWith("train none"));
  equal(brokenLines.length, 1, broken.stderr);
  ok(brokenLines[0].includes(bad), broken.stderr);
  ok(!(await exists(out)), "no options.json left behind");
});

// 10. hints name the right task
Deno.test("train: a missing --predictor says to train one with deno task predictor", async () => {
  const { code, stderr } = await runTask("train", [
    ...["--data", "sim", "--sim", await tinyWorld(), "--roi", "TO", "--predictor", "/no/such/np"],
    ...["--arch", "resnet-tiny", "--size", "16", "--batch", "8", "--out", join(await temp(), "r")],
  ]);
  equal(code, 2, stderr);
  ok(
    /--predictor \/no\/such\/np: no such file or run folder \(train one with deno task predictor\)/.test(
      stderr,
    ),
    stderr,
  );
});
