import { equal, ok } from "../lib/testing/assert.ts";

Deno.test("mod.ts works when imported by file:// URL from a project outside the repo", async () => {
  const project = await Deno.makeTempDir({ prefix: "neuroguide-consumer-" });
  const modUrl = new URL("../mod.ts", import.meta.url).href;
  await Deno.writeTextFile(`${project}/deno.json`, "{}\n");
  await Deno.writeTextFile(
    `${project}/main.ts`,
    `import { getGpu, modelConfig, Plan } from "${modUrl}";
const gpu = await getGpu();
const plan = await Plan.create(gpu, modelConfig("mlp", { classes: 3, imageSize: 4, channels: 1 }), 2);
plan.initialize(0);
plan.setInput(new Float32Array(32).fill(0.5));
gpu.submit(plan.forward("eval"));
console.log(JSON.stringify(Array.from(await plan.read(plan.model.logits)).map((v) => Number.isFinite(v))));
`,
  );
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: project,
    env: { NO_COLOR: "1" },
  }).output();
  const out = new TextDecoder().decode(stdout), err = new TextDecoder().decode(stderr);
  equal(code, 0, `consumer failed: ${err}`);
  ok(out.includes("[true,true,true,true,true,true]"), out + err);
  await Deno.remove(project, { recursive: true });
});
