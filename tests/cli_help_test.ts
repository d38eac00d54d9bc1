import { fileURLToPath } from "node:url";
import { equal, ok } from "../lib/testing/assert.ts";

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
