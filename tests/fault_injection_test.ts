/**
 * Fault injection: SIGKILL at seeded random moments of synth, nsd-prep, predictor, train and sweep, then the
 * rerun a user (or the sweep) would do; and every input format truncated or with its header overwritten.
 * A loss is a final-named output that is incomplete, a rerun that fails or leaves a temp file or lock behind,
 * or a damaged input that is read without a one-line error naming it. Tiny world, few steps: one to two
 * minutes on a 2-core software adapter. Prints "N faults injected, M losses" and fails unless M = 0.
 */
import { basename, dirname, join } from "node:path";
import { equal, ok } from "../lib/testing/assert.ts";
import { UserError } from "../lib/errors.ts";
import { Random } from "../lib/random.ts";
import { loadCheckpoint } from "../lib/nn/checkpoint.ts";
import { decodeImage } from "../lib/data/images/decode.ts";
import { readStimInfoCsv } from "../lib/data/nsd/expdesign.ts";
import { readNiftiVolume } from "../lib/data/nsd/nifti.ts";
import { readPreparedTargets } from "../lib/data/nsd/prepared.ts";
import { readStimuli } from "../lib/data/nsd/stimuli.ts";
import { writeEvalData } from "../lib/sweep/eval_data.ts";
import { parseGrid } from "../lib/sweep/grid.ts";
import { RunDir } from "../lib/train/run_dir.ts";
import { loadDataset } from "../lib/attacks/dataset.ts";
import { tinyPrepared, tinyWorld } from "./fixtures/world.ts";

const random = new Random("fault-injection");
let injected = 0;
/** Kills that landed (a task that ended before its kill time is only a rerun check). */
let kills = 0;
const losses: string[] = [];
const loss = (what: string) => losses.push(what);
const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
const tmp = await Deno.makeTempDir({ prefix: "ng-faults-" });

/** Runs `deno task <task> args`, SIGKILLed after `delayMs` if still running: whether the kill landed, and when. */
async function killAfter(
  task: string,
  args: string[],
  delayMs: number,
): Promise<{ killed: boolean; ms: number }> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `tasks/${task.replace("-", "_")}.ts`, ...args],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), delayMs);
  const status = await child.status;
  clearTimeout(timer);
  return { killed: status.signal === "SIGKILL", ms: performance.now() - started };
}

async function run(task: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `tasks/${task.replace("-", "_")}.ts`, ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** Temp files (`NAME.tmp-PID-…`) and locks left beside or inside `path`. */
async function leftovers(path: string): Promise<string[]> {
  const found: string[] = [];
  for (const dir of [dirname(path), path]) {
    if (!(await Deno.stat(dir).then((s) => s.isDirectory, () => false))) continue;
    for await (const entry of Deno.readDir(dir)) {
      if (/\.tmp-\d+-/.test(entry.name) || entry.name === ".lock") found.push(join(dir, entry.name));
    }
  }
  return found;
}

/** Kills `task` at a random moment in [0.3 s, maxMs], checks `after`, reruns with `rerun()`, checks `done`. */
async function killAndRerun(
  label: string,
  o: {
    task: string;
    args: string[];
    maxMs: number;
    after: () => Promise<string | null>;
    rerun: () => Promise<string[] | null>;
    done: () => Promise<string | null>;
    output: string;
  },
): Promise<void> {
  let delay = Math.round(random.uniform(300, o.maxMs));
  // a task that ended before its kill time is started afresh with a kill inside the time it took
  for (let attempt = 0; attempt < 3; attempt++) {
    const { killed, ms } = await killAfter(o.task, o.args, delay);
    if (killed) {
      injected++;
      kills++;
      break;
    }
    await Deno.remove(o.output, { recursive: true });
    delay = Math.round(random.uniform(100, 0.9 * ms));
  }
  const partial = await o.after();
  if (partial) loss(`${label} killed at ${delay} ms: ${partial}`);
  const again = await o.rerun();
  if (again) {
    const result = await run(o.task, again);
    if (result.code !== 0) loss(`${label} killed at ${delay} ms: the rerun failed: ${result.stderr.trim()}`);
  }
  const incomplete = await o.done();
  if (incomplete) loss(`${label} killed at ${delay} ms, rerun: ${incomplete}`);
  const left = await leftovers(o.output);
  if (left.length) loss(`${label} killed at ${delay} ms, rerun: left ${left.join(", ")}`);
}

/** The run folder's completeness: summary, a loadable final model, metrics of every epoch once. */
async function runComplete(dir: string, model: string, epochs: number): Promise<string | null> {
  try {
    JSON.parse(await Deno.readTextFile(join(dir, "summary.json")));
    await loadCheckpoint(join(dir, model));
    const logged = (await new RunDir(dir).readMetrics()).map((m) => m.epoch);
    const expected = Array.from({ length: epochs }, (_, i) => i + 1);
    return JSON.stringify(logged) === JSON.stringify(expected) ? null : `metrics epochs ${logged}`;
  } catch (e) {
    return (e as Error).message;
  }
}

/** A killed run's folder: a summary only beside a complete run. */
async function runConsistent(dir: string, model: string, epochs: number): Promise<string | null> {
  return await exists(join(dir, "summary.json")) ? await runComplete(dir, model, epochs) : null;
}

/** What the sweep does for a half-done run folder: resume from a checkpoint, else start over. */
async function resumeFlags(dir: string): Promise<string[]> {
  if (!(await exists(join(dir, "options.json")))) return [];
  return [await exists(join(dir, "checkpoint.safetensors")) ? "--resume" : "--force"];
}

const world = await tinyWorld();
const prepared = await tinyPrepared();
const small = ["--arch", "resnet-tiny", "--size", "16", "--batch", "8", "--quiet"];

Deno.test("fault injection: SIGKILL at random points, then rerun — nothing lost, nothing mixed", async () => {
  for (let i = 0; i < 2; i++) {
    const out = join(tmp, `synth${i}`);
    const args = [
      ...["--out", out, "--seed", "3", "--size", "16", "--classes", "2", "--images", "30", "--sessions", "1"],
      ...["--train-per-class", "4", "--val-per-class", "2", "--conflict-per-class", "1", "--grid", "8x8x8"],
      "--quiet",
    ];
    const manifest = join(out, "sim_world.json");
    await killAndRerun(`synth #${i}`, {
      task: "synth",
      args,
      maxMs: 1500,
      output: out,
      after: async () =>
        (await exists(out)) && !(await exists(manifest)) ? "a world folder without manifest" : null,
      rerun: async () => (await exists(out)) ? null : args,
      done: async () => (await exists(manifest)) ? null : "no manifest",
    });
  }
  for (let i = 0; i < 2; i++) {
    const out = join(tmp, `prep${i}`, "TO.h5");
    const args = ["--nsd", world, "--subject", "1", "--roi", "TO", "--pca-k", "6", "--out", out, "--quiet"];
    const readable = async () => {
      if (!(await exists(out))) return "missing";
      return await readPreparedTargets(out).then(() => null, (e) => (e as Error).message);
    };
    await killAndRerun(`nsd-prep #${i}`, {
      task: "nsd-prep",
      args,
      maxMs: 1200,
      output: out,
      after: async () => (await exists(out)) ? await readable() : null,
      rerun: async () => (await exists(out)) ? null : args,
      done: readable,
    });
  }
  const np = join(tmp, "np");
  const npArgs = [
    "--prepared",
    prepared,
    "--nsd",
    world,
    "--epochs",
    "2",
    "--checkpoint-every",
    "1",
    "--out",
    np,
  ];
  await killAndRerun("predictor", {
    task: "predictor",
    args: [...npArgs, ...small],
    maxMs: 8000,
    output: np,
    after: () => runConsistent(np, "predictor.safetensors", 2),
    rerun: async () =>
      (await exists(join(np, "summary.json"))) ? null : [...npArgs, ...small, ...await resumeFlags(np)],
    done: () => runComplete(np, "predictor.safetensors", 2),
  });
  const model = join(tmp, "model");
  const trainArgs = [
    "--data",
    "sim",
    "--sim",
    world,
    "--roi",
    "none",
    "--epochs",
    "2",
    "--checkpoint-every",
    "1",
  ];
  await killAndRerun("train", {
    task: "train",
    args: [...trainArgs, "--out", model, ...small],
    maxMs: 8000,
    output: model,
    after: () => runConsistent(model, "model.safetensors", 2),
    rerun: async () =>
      (await exists(join(model, "summary.json")))
        ? null
        : [...trainArgs, "--out", model, ...small, ...await resumeFlags(model)],
    done: () => runComplete(model, "model.safetensors", 2),
  });
  const sweepOut = join(tmp, "sweep");
  const grid = join(tmp, "grid.json");
  await Deno.writeTextFile(grid, JSON.stringify({ models: [{ name: "None", roi: "none" }] }));
  const sweepArgs = [
    ...["--grid", grid, "--sim", world, "--out", sweepOut, "--size", "16", "--batch", "8", "--epochs", "1"],
    ...["--attacks", "none", "--analyses", "none", "--quiet"],
  ];
  await killAndRerun("sweep", {
    task: "sweep",
    args: sweepArgs,
    maxMs: 8000,
    output: join(sweepOut, "models", "None"),
    // the killed sweep's trainer must be gone before the rerun (else two writers share the folder)
    after: () => new Promise((r) => setTimeout(() => r(null), 1000)),
    rerun: () => Promise.resolve(sweepArgs),
    done: async () =>
      (await exists(join(sweepOut, "report.md")))
        ? await runComplete(join(sweepOut, "models", "None"), "model.safetensors", 1)
        : "no report.md",
  });
});

/** Damaged copies of `file`: cut at two random points, and the first bytes overwritten. */
async function damagedCopies(file: string): Promise<{ how: string; path: string }[]> {
  const bytes = await Deno.readFile(file);
  const dir = await Deno.makeTempDir({ dir: tmp });
  const copies: { how: string; path: string }[] = [];
  const write = async (how: string, data: Uint8Array) => {
    const path = join(dir, `${copies.length}-${basename(file)}`);
    await Deno.writeFile(path, data);
    copies.push({ how, path });
  };
  for (let i = 0; i < 2; i++) {
    const cut = Math.floor(random.uniform(0, bytes.length - 1));
    await write(`truncated to ${cut} of ${bytes.length} bytes`, bytes.slice(0, cut));
  }
  const header = bytes.slice();
  for (let i = 0; i < Math.min(16, header.length); i++) header[i] = random.int(256);
  await write("first 16 bytes overwritten", header);
  return copies;
}

Deno.test("fault injection: every input format truncated or with a damaged header → one line naming it", async () => {
  const evalData = join(tmp, "eval.safetensors");
  await writeEvalData(world, 16, evalData);
  const metricsRun = join(tmp, "metrics-run");
  await Deno.mkdir(metricsRun);
  await Deno.writeTextFile(
    join(metricsRun, "metrics.jsonl"),
    [1, 2, 3].map((epoch) => JSON.stringify({ epoch, val_acc: 0.25, lr: 0.05 })).join("\n") + "\n",
  );
  const grid = join(tmp, "grid-input.json");
  await Deno.writeTextFile(grid, JSON.stringify({ models: [{ name: "TO", roi: "TO", alpha: 0.9 }] }));
  const png = join(world, "classification", "train", "cross", "cross_00000.png");
  const formats: [string, string, (path: string) => Promise<unknown>][] = [
    ["checkpoint (safetensors)", join(tmp, "model", "model.safetensors"), (p) => loadCheckpoint(p)],
    [
      "image data (safetensors)",
      evalData,
      (p) => loadDataset(p, { inputShape: [1, 3, 16, 16], classes: 4 }, 8),
    ],
    ["prepared ROI (HDF5)", prepared, (p) => readPreparedTargets(p)],
    [
      "NSD stimuli (HDF5)",
      join(world, "nsddata_stimuli/stimuli/nsd/nsd_stimuli.hdf5"),
      (p) => readStimuli(p, [0], { size: 16 }),
    ],
    [
      "ROI mask (NIfTI .nii.gz)",
      join(world, "nsddata/ppdata/subj01/func1pt8mm/roi/streams.nii.gz"),
      (p) => readNiftiVolume(p),
    ],
    ["image (PNG)", png, async (p) => decodeImage(await Deno.readFile(p), p)],
    [
      "design (CSV)",
      join(world, "nsddata/experiments/nsd/nsd_stim_info_merged.csv"),
      (p) => readStimInfoCsv(p, 1),
    ],
    ["sweep grid (JSON)", grid, async (p) => parseGrid(await Deno.readTextFile(p), p)],
    ["run metrics (JSONL)", join(metricsRun, "metrics.jsonl"), async (p) => {
      const run = new RunDir(dirname(p));
      const logged = (await run.readMetrics()).map((m) => m.epoch);
      // a cut at a line end is a shorter, valid log; the resume check catches a missing epoch
      if (JSON.stringify(logged) !== "[1,2,3]") {
        await run.resumePoint({ epoch: "3", step: "3" }, { epochs: 3, seed: 0 });
      }
    }],
  ];
  for (const [what, file, read] of formats) {
    for (const { how, path } of await damagedCopies(file)) {
      injected++;
      const copyDir = dirname(path);
      if (what.startsWith("run metrics")) await Deno.rename(path, join(copyDir, "metrics.jsonl"));
      const target = what.startsWith("run metrics") ? join(copyDir, "metrics.jsonl") : path;
      try {
        await read(target);
        loss(`${what} ${how}: read without an error`);
      } catch (e) {
        const error = e as Error;
        if (!(error instanceof UserError)) {
          loss(`${what} ${how}: ${error.name}: ${error.message.split("\n")[0]}`);
        } else if (error.message.includes("\n")) loss(`${what} ${how}: a multi-line message`);
        else if (!error.message.includes(basename(target))) {
          loss(`${what} ${how}: '${error.message}' names no file`);
        }
      }
    }
  }
});

Deno.test("fault injection: summary", () => {
  console.log(
    `${injected} faults injected, ${losses.length} losses (${kills} kills, ${
      injected - kills
    } damaged inputs)`,
  );
  for (const line of losses) console.log(`  loss: ${line}`);
  // 9 formats × 3 damaged copies, and the kills that landed before their task ended
  ok(injected - kills === 27 && kills >= 5, `${injected} faults injected, ${kills} of them kills`);
  equal(losses.length, 0, losses.join("\n"));
});
