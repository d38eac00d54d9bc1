import { fileURLToPath } from "node:url";
import { equal, ok } from "../lib/testing/assert.ts";
import { getGpu } from "../lib/gpu/device.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`)) as { tasks: Record<string, string> };

/** Every `deno task` is `deno run -A [--lock=FILE] SCRIPT`: the flags and script of each, from deno.json. */
const scripts = Object.entries(config.tasks).map(([name, command]) => {
  const match = command.match(/^deno run -A (--lock=\S+ )?(\S+\.ts)$/);
  if (!match) {
    throw new Error(`deno.json task ${name}: '${command}' is not 'deno run -A [--lock=FILE] SCRIPT'`);
  }
  // the lock file as the task names it (bench's graph reaches test-only packages that deno.lock leaves out)
  const lock = match[1] ? [`--lock=${root}${match[1].trim().slice("--lock=".length)}`] : [];
  return { name, script: match[2], lock };
});

Deno.test("cli: every task's --help prints help, exits 0 and writes nothing", async () => {
  const bench = await Array.fromAsync(Deno.readDir(`${root}bench`));
  const benchResults = bench.filter((e) => /^results-.*\.json$/.test(e.name)).map((e) =>
    `${root}bench/${e.name}`
  );
  const before = await Promise.all(benchResults.map((f) => Deno.stat(f).then((s) => s.mtime?.getTime())));
  for (const { name, script, lock } of scripts) {
    // An empty working folder: anything a task creates there (runs/, data/, reports/) is a side effect.
    const cwd = await Deno.makeTempDir({ prefix: `help-${name}-` });
    try {
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--config", `${root}deno.json`, ...lock, `${root}${script}`, "--help"],
        cwd,
        env: { NO_COLOR: "1" },
      }).output();
      const out = new TextDecoder().decode(stdout);
      equal(code, 0, `${name} --help exited ${code}: ${new TextDecoder().decode(stderr)}`);
      ok(out.startsWith(`deno task ${name}`), `${name} --help printed: ${out.slice(0, 200)}`);
      const wide = out.split("\n").filter((line) => [...line].length > 110);
      equal(wide.length, 0, `${name} --help has lines over 110 characters:\n${wide.join("\n")}`);
      equal((await Array.fromAsync(Deno.readDir(cwd))).length, 0, `${name} --help wrote into its folder`);
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  }
  const after = await Promise.all(benchResults.map((f) => Deno.stat(f).then((s) => s.mtime?.getTime())));
  equal(JSON.stringify(after), JSON.stringify(before), "bench --help rewrote bench/results-*.json");
});

Deno.test("cli: sweep with no arguments prints the paper grid and its time, and starts nothing", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "sweep-noargs-" });
  try {
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", `${root}deno.json`, `${root}tasks/sweep.ts`],
      cwd,
      env: { NO_COLOR: "1" },
    }).output();
    const out = new TextDecoder().decode(stdout);
    equal(code, 0);
    ok(/starts nothing/.test(out) && /11 models/.test(out) && /about 45 min/.test(out), out);
    ok(/--grid paper/.test(out), out);
    equal((await Array.fromAsync(Deno.readDir(cwd))).length, 0, "sweep with no arguments wrote files");
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

/** The README's shell commands, continuation lines joined and comments dropped. */
async function readmeCommands(): Promise<string[]> {
  const readme = await Deno.readTextFile(`${root}README.md`);
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks.flatMap((block) =>
    block.replace(/\\\n\s*/g, "").split("\n").map((line) => line.replace(/\s+#.*$/, "").trim())
      .filter((line) => line.startsWith("deno task "))
  );
}

/** Splits `deno task NAME args…` (no quoting in the README's commands) into the task's script and its args. */
function taskArgs(command: string): { script: (typeof scripts)[number]; args: string[] } {
  const [, , name, ...args] = command.split(/\s+/);
  const script = scripts.find((s) => s.name === name);
  if (!script) throw new Error(`README: 'deno task ${name}' is not a task of deno.json`);
  return { script, args };
}

Deno.test("cli: the README's commands that need data a fresh clone lacks stop in one line naming the fix", async () => {
  // The paper's own runs (NSD and ImageNet under /data), the analyses of a demo not yet run, and the paper-scale
  // runs they lead to: on a fresh clone each must stop at once, in one line that says what to run or fetch.
  const needsData = /\/data\/|runs\/demo\/|runs\/(np-)?TO\b|prep\//;
  const commands = (await readmeCommands()).filter((c) => needsData.test(c));
  ok(
    commands.length >= 6,
    `expected the README's paper and demo-analysis commands, found ${commands.length}`,
  );
  for (const command of commands) {
    const { script, args } = taskArgs(command);
    // A fresh clone's root without the clone: resources/ is all the README's paths read from it.
    const cwd = await Deno.makeTempDir({ prefix: `readme-${script.name}-` });
    await Deno.symlink(`${root}resources`, `${cwd}/resources`);
    try {
      const { code, stderr } = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--config",
          `${root}deno.json`,
          ...script.lock,
          `${root}${script.script}`,
          ...args,
        ],
        cwd,
        env: { NO_COLOR: "1" },
      }).output();
      const lines = new TextDecoder().decode(stderr).trim().split("\n");
      ok(code === 1 || code === 2, `${command}: exit ${code}`);
      equal(lines.length, 1, `${command}: more than one line on stderr:\n${lines.join("\n")}`);
      ok(lines[0].startsWith(`${script.name}: `), `${command}: ${lines[0]}`);
      ok(
        /deno task [a-z-]+|download .*s3:\/\/natural-scenes-dataset|put the images there/.test(lines[0]),
        `${command}: names no fix: ${lines[0]}`,
      );
      const written = (await Array.fromAsync(Deno.readDir(cwd))).filter((e) => e.name !== "resources");
      equal(written.length, 0, `${command}: wrote ${written.map((e) => e.name)} into its folder`);
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  }
});

Deno.test("cli: the paper-gpu sweep on a software adapter says what it costs before it generates anything", async () => {
  if ((await getGpu()).kind !== "cpu") return; // on a GPU the grid is what it is sized for
  const cwd = await Deno.makeTempDir({ prefix: "sweep-paper-gpu-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      `${root}deno.json`,
      `${root}tasks/sweep.ts`,
      "--preset",
      "paper-gpu",
      "--quiet",
    ],
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  try {
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/sized for a GPU/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    lines.push(...text.split("\n"));
    reader.releaseLock();
  } finally {
    child.kill("SIGINT");
    await child.status;
    await Deno.remove(cwd, { recursive: true });
  }
  const warning = lines.findIndex((line) => /sized for a GPU/.test(line));
  ok(warning >= 0, `no cost warning in:\n${lines.join("\n")}`);
  ok(/resnet18 at 224 px: [\d.]+ TFLOP per step of 256 images/.test(lines[warning]), lines[warning]);
  ok(
    /years? for the \d+ steps/.test(lines[warning]) || /days for the \d+ steps/.test(lines[warning]),
    lines[warning],
  );
  ok(!lines.slice(0, warning).some((line) => /synth|evaluation set/.test(line)), lines.join("\n"));
});

Deno.test("cli: every folder the README's commands write into is git-ignored or kept out of fmt and lint", async () => {
  // results/ is kept in git (README, "Continuing a grid elsewhere"): deno task check must skip it instead
  const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
  const unchecked = (folder: string) =>
    [config.fmt.exclude, config.lint.exclude].every((list: string[]) => list.includes(`${folder}/`));
  const readme = await Deno.readTextFile(`${root}README.md`);
  const commands = [
    ...readme.matchAll(/```sh\n([\s\S]*?)```/g),
    ...readme.matchAll(/`([^`\n]*--out [^`\n]*)`/g),
  ]
    .map((m) => m[1]);
  const folders = new Set(
    // the first folder of each output path (placeholders like FILE.h5 or OUT are upper case)
    commands.flatMap((text) => [...text.matchAll(/--out ([a-z][\w-]*)(?=[\/\s]|$)/g)].map((m) => m[1])),
  );
  for (const expected of ["runs", "reports", "prep", "executed"]) {
    ok(folders.has(expected), [...folders].join(", "));
  }
  for (const folder of folders) {
    if (unchecked(folder)) continue;
    const { code } = await new Deno.Command("git", { args: ["check-ignore", "-q", `${folder}/x`], cwd: root })
      .output();
    equal(
      code,
      0,
      `${folder}/ (a README command writes there) is neither in .gitignore nor kept out of fmt/lint`,
    );
  }
  ok(folders.has("results") && unchecked("results"), "results/ is written by a README command and unchecked");
});
