/**
 * The WGSL include mechanism of `lib/gpu/shader.ts`: nested includes expand in place, each file once per
 * module, cycles are errors; and in `kernels/` every include resolves, every partial (`_name.wgsl`) is included
 * somewhere, and only partials are included.
 */
import { expandIncludes, linkKernelSources, loadKernelSource } from "../lib/gpu/shader.ts";
import { deepStrictEqual, equal, ok, rejects } from "../lib/testing/assert.ts";

const FILES: Record<string, string> = {
  root: '// root\n#include "_a.wgsl"\nfn main() {}\n#include "_b.wgsl"\n',
  _a: '#include "_c.wgsl"\nfn a() {}\n',
  _b: '  #include "_c.wgsl"\nfn b() {}\n',
  _c: "fn c() {}\n",
  loop: '#include "_loop.wgsl"\n',
  _loop: '#include "loop.wgsl"\n',
};
const load = (name: string) => Promise.resolve(FILES[name]);

Deno.test("#include: nested files expand in place, each once per module; cycles are errors", async () => {
  equal(
    await expandIncludes("root", FILES.root, load),
    "// root\nfn c() {}\nfn a() {}\nfn main() {}\n\nfn b() {}\n",
  );
  await rejects(() => expandIncludes("loop", FILES.loop, load), /#include cycle loop → _loop → loop/);
});

Deno.test("kernels/: includes resolve, partials are named _*.wgsl and each is used", async () => {
  const names = [];
  for await (const entry of Deno.readDir("kernels")) {
    if (entry.name.endsWith(".wgsl")) names.push(entry.name.slice(0, -5));
  }
  const included = new Set<string>();
  for (const name of names) {
    const text = await Deno.readTextFile(`kernels/${name}.wgsl`);
    for (const [, target] of text.matchAll(/^\s*#include\s+"([^"]+)\.wgsl"/gm)) included.add(target);
    if (!name.startsWith("_")) ok(!(await loadKernelSource(name)).includes("#include"), name);
  }
  deepStrictEqual([...included].filter((n) => !n.startsWith("_")), [], "only partials are included");
  const partials = names.filter((n) => n.startsWith("_") && n !== "_gemm_cpu" && n !== "_gemm_gpu");
  deepStrictEqual(partials.filter((n) => !included.has(n)), [], "every partial is included somewhere");
  // The GEMM drivers are linked with an operand file rather than included; the core comes once.
  const gemm = await linkKernelSources(["conv2d_forward", "_gemm_cpu"]);
  equal(gemm.split("struct Cols ").length, 2);
  equal(gemm.split("struct Conv {").length, 2);
});
