import { equal, ok } from "../lib/testing/assert.ts";

Deno.test("lib/deps pins the same npm versions as deno.json's import map", async () => {
  const imports: Record<string, string> = JSON.parse(await Deno.readTextFile("deno.json")).imports;
  const pinned = new Map(
    Object.values(imports).map((spec) => {
      const [, name, version] = spec.match(/^npm:(@?[^@]+)@([^/]+)/)!;
      return [name, version];
    }),
  );
  let checked = 0;
  for await (const entry of Deno.readDir("lib/deps")) {
    if (!entry.name.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(`lib/deps/${entry.name}`);
    for (const [, name, version] of text.matchAll(/"npm:(@?[^@"]+)@([^/"]+)/g)) {
      equal(version, pinned.get(name), `lib/deps/${entry.name}: ${name}@${version} vs deno.json`);
      checked++;
    }
  }
  ok(checked >= 4, `only ${checked} pinned imports found`);
});

Deno.test("library code imports npm packages only through lib/deps", async () => {
  const offenders: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory && entry.name !== "deps") await walk(path);
      else if (entry.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(path);
        const bare = [...text.matchAll(/from "([^".][^"]*)"/g)].map((m) => m[1]).filter((s) =>
          !s.startsWith("node:")
        );
        if (bare.length) offenders.push(`${path}: ${bare.join(", ")}`);
      }
    }
  };
  await walk("lib");
  equal(offenders.join("\n"), "");
});

Deno.test("deno.lock pins no test-only package (a user's first run would download it)", async () => {
  const lock = await Deno.readTextFile("deno.lock");
  for (const name of ["@tensorflow/tfjs", "@jax-js/jax"]) {
    ok(
      !lock.includes(`"npm:${name}@`),
      `deno.lock lists ${name}: a check or test ran without --lock=tests/deno.lock; restore deno.lock from git ` +
        "and use deno task test / deno task check (see the README's dependency table)",
    );
  }
});
