/**
 * `deno task test [deno-test args…]`: runs the suite with `deno test` and ends with the plain line
 * `N passed, M failed` that CI reads (Deno's own summary line has another form). Exit code is deno's.
 * Without arguments it runs `tests/` and, with `--doc`, the JSDoc examples of `mod.ts` and of every module
 * under `lib/` and `tasks/` that has a TypeScript code block in a JSDoc comment (type-checked and run;
 * counted in the same line).
 * @module
 */
const HELP = `deno task test [deno-test args…]

Runs the suite (default: tests/ plus the JSDoc examples of mod.ts, lib/ and tasks/) with deno test -A and
ends with the line "N passed, M failed". Arguments go to deno test unchanged, e.g.
deno task test tests/nn_micro_batch_test.ts --filter micro. Exit code is deno's.
  -h, --help    this text (deno test's own options: deno test --help)`;

if (Deno.args.length === 1 && (Deno.args[0] === "--help" || Deno.args[0] === "-h")) {
  console.log(HELP);
  Deno.exit(0);
}
const args = Deno.args.length > 0
  ? Deno.args
  : ["--doc", "tests/", "mod.ts", ...await modulesWithExamples(["lib", "tasks"])];
const child = new Deno.Command(Deno.execPath(), {
  // tests/deno.lock also pins the test-only packages (tfjs), which deno.lock leaves out so that a user's first
  // run does not download them (see the README's dependency table).
  args: ["test", "-A", "--lock=tests/deno.lock", ...args],
  env: { NO_COLOR: "1", XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? (await runtimeDir()) },
  stdout: "piped",
  stderr: "inherit",
}).spawn();

let lastSummary = "";
let carry = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  const lines = (carry + decoder.decode(chunk, { stream: true })).split("\n");
  carry = lines.pop() ?? "";
  for (const line of lines) if (/^(ok|FAILED) \| \d+ passed/.test(line)) lastSummary = line;
}
if (/^(ok|FAILED) \| \d+ passed/.test(carry)) lastSummary = carry;
const { code } = await child.status;

const count = (word: string) => Number(lastSummary.match(new RegExp(`(\\d+) ${word}`))?.[1] ?? 0);
const passed = count("passed"), failed = count("failed"), ignored = count("ignored");
if (ignored > 0) console.log(`${ignored} ignored`);
// A run that crashed before deno printed its summary still counts as a failure.
console.log(`${passed} passed, ${lastSummary ? failed : Math.max(failed, 1)} failed`);
Deno.exit(code);

/** `.ts` files under `roots` with a TypeScript code block in a JSDoc comment, sorted. */
async function modulesWithExamples(roots: string[]): Promise<string[]> {
  const DOC_BLOCK = /^\s*\* ```(ts|typescript)\b/m;
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (path.endsWith(".ts") && DOC_BLOCK.test(await Deno.readTextFile(path))) found.push(path);
    }
  };
  for (const root of roots) await walk(root);
  return found.sort();
}

async function runtimeDir(): Promise<string> {
  // lavapipe complains on every adapter request unless XDG_RUNTIME_DIR names a writable folder.
  const dir = `${Deno.env.get("TMPDIR") ?? "/tmp"}/neuroguide-xdg`;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}
