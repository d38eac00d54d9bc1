/**
 * Ctrl-C or a kill of `deno task train` (lib/io/interrupt.ts via RunDir): a fresh run stopped before its first
 * checkpoint leaves no folder behind, so the same command starts again as if it had never run; a run stopped
 * after a checkpoint keeps its folder for --resume and releases its lock. Either way one line says what was
 * kept.
 */
import { join } from "node:path";
import { equal, ok } from "../lib/testing/assert.ts";
import { tinyWorld } from "./fixtures/world.ts";

async function startTrain(out: string, extra: string[] = []) {
  const args = ["--roi", "none", "--arch", "mlp", "--sim", await tinyWorld(), "--size", "16", "--batch", "8"];
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "tasks/train.ts",
      ...args,
      "--epochs",
      "500",
      "--lr",
      "0.05",
      "--quiet",
      ...extra,
      "--out",
      out,
    ],
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

async function waitFor(path: string): Promise<void> {
  for (let i = 0; i < 1200 && !(await exists(path)); i++) await new Promise((r) => setTimeout(r, 50));
  ok(await exists(path), `${path} never appeared`);
}

/** Starts a run into `out`, sends `signal` once `file` appears there: the exit code and what it said. */
async function stopTrain(out: string, checkpointEvery: number, file: string, signal: Deno.Signal) {
  const child = await startTrain(out, ["--checkpoint-every", `${checkpointEvery}`]);
  await waitFor(join(out, file));
  child.kill(signal);
  const { code, stderr } = await child.output();
  return { code, said: new TextDecoder().decode(stderr).trim() };
}

Deno.test("train: Ctrl-C before the first checkpoint removes the fresh run's folder (exit 130)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "train-interrupt-" });
  try {
    const out = join(dir, "run");
    const { code, said } = await stopTrain(out, 1000, "options.json", "SIGINT");
    equal(code, 130);
    ok(!(await exists(out)), "the interrupted fresh run left its folder");
    equal(said, `${out}: stopped by SIGINT before its first checkpoint; nothing was kept`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train: a kill after a checkpoint keeps the run for --resume and releases the lock (exit 143)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "train-interrupt-" });
  try {
    const out = join(dir, "run");
    const { code, said } = await stopTrain(out, 1, "checkpoint.safetensors", "SIGTERM");
    equal(code, 143);
    equal(
      said,
      `${out}: stopped by SIGTERM; add --resume to the same command to continue from its last checkpoint`,
    );
    ok(await exists(join(out, "options.json")), "the checkpointed run was removed");
    ok(!(await exists(join(out, ".lock"))), "the lock was left behind");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
