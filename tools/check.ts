/**
 * `deno task check`: formatting (notebook cells included), lint and type check, in that order; stops at the
 * first that fails and exits with its code.
 * @module
 */
const HELP = `deno task check

Runs, stopping at the first failure: deno fmt --check; tools/fmt_notebooks.ts --check (notebook cells);
deno lint; deno check --lock=tests/deno.lock mod.ts tasks/ tests/ bench/ tools/. Reads files only.
  -h, --help    this text`;

const STEPS = [
  ["fmt", "--check"],
  ["run", "-A", "tools/fmt_notebooks.ts", "--check"],
  ["lint"],
  // tests/deno.lock: the tests and the benchmark also import test-only packages that deno.lock leaves out.
  ["check", "--lock=tests/deno.lock", "mod.ts", "tasks/", "tests/", "bench/", "tools/"],
];

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(HELP);
    Deno.exit(0);
  }
  if (Deno.args.length > 0) {
    console.error(`check: unexpected argument '${Deno.args[0]}' (see --help)`);
    Deno.exit(2);
  }
  for (const args of STEPS) {
    const { code } = await new Deno.Command(Deno.execPath(), { args }).spawn().status;
    if (code !== 0) Deno.exit(code);
  }
}
