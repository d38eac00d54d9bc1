// `deno task attack` end to end on a tiny linear checkpoint: the report (JSON + CSV, checks, transfer
// matrix), one-line errors naming the flag or file for bad input, and the sanity checks' verdicts.
import { computeChecks, failureBanner } from "../lib/attacks/checks.ts";
import { sweepRow } from "./fixtures/sweep_row.ts";
import { writeSafetensors } from "../lib/io/safetensors.ts";
import { saveCheckpoint } from "../lib/nn/checkpoint.ts";
import { modelConfig } from "../lib/nn/models.ts";
import { Random } from "../lib/random.ts";
import { equal, ok } from "../lib/testing/assert.ts";

const TASK = new URL("../tasks/attack.ts", import.meta.url).pathname;

async function attack(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", TASK, "--quiet", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

/** A linear 3×4×4 → 4-class checkpoint (two seeds) and a 24-point uint8 data file, in a temp folder. */
async function fixtures(): Promise<{ dir: string; a: string; b: string; data: string; small: string }> {
  const dir = await Deno.makeTempDir({ prefix: "attack-cli-" });
  const random = new Random(4);
  const config = modelConfig("linear", { classes: 4, imageSize: 4 });
  for (const name of ["a", "b"]) {
    await saveCheckpoint(
      `${dir}/${name}.safetensors`,
      config,
      new Map([
        ["fc.weight", Float32Array.from({ length: 4 * 48 }, () => random.normal())],
        ["fc.bias", new Float32Array(4)],
      ]),
    );
  }
  for (const [name, size] of [["data", 4], ["small", 2]] as const) {
    await writeSafetensors(`${dir}/${name}.safetensors`, {
      images: {
        shape: [24, 3, size, size],
        data: Uint8Array.from({ length: 24 * 3 * size * size }, () => random.int(256)),
      },
      labels: { shape: [24], data: Int32Array.from({ length: 24 }, () => random.int(4)) },
    });
  }
  return {
    dir,
    a: `${dir}/a.safetensors`,
    b: `${dir}/b.safetensors`,
    data: `${dir}/data.safetensors`,
    small: `${dir}/small.safetensors`,
  };
}

Deno.test("attack task: report, CSV, checks and transfer matrix", async () => {
  const f = await fixtures();
  const out = `${f.dir}/report.json`;
  const { code, stderr } = await attack([
    "--model",
    f.a,
    "--data",
    f.data,
    "--attack",
    "fgsm,pgd,deepfool",
    "--eps",
    "0:0.02:0.01",
    "--batch",
    "16",
    "--check-n",
    "8",
    "--transfer",
    f.b,
    "--out",
    out,
  ]);
  equal(code, 0, stderr);
  const report = JSON.parse(await Deno.readTextFile(out));
  equal(report.rows.length, 9);
  for (const row of report.rows) {
    ok(row.robust_accuracy <= row.clean_accuracy);
    equal(row.out_of_bounds, 0);
    ok(typeof row.transfer[f.b] === "number");
  }
  equal(report.rows[0].robust_accuracy, report.rows[0].clean_accuracy, "ε = 0 gives clean accuracy");
  // per-point outcomes: one flag per point, counting to the accuracies, robust only where clean-correct
  const ones = (bits: string) => [...bits].filter((b) => b === "1").length;
  equal(report.clean_points.length, 24);
  equal(ones(report.clean_points), Math.round(report.rows[0].clean_accuracy * 24));
  for (const row of report.rows) {
    equal(ones(row.robust_points), Math.round(row.robust_accuracy * 24));
    ok([...row.robust_points].every((b, i) => b === "0" || report.clean_points[i] === "1"));
  }
  // Fewer correctly classified points than --batch 16: the attacks ran on a batch of just those points.
  const clean = Math.round(report.rows[0].clean_accuracy * 24);
  ok(clean > 0 && clean < 16, `fixture has ${clean} clean-correct points`);
  equal(report.batch, clean);
  const checkNames = report.checks.map((c: { name: string }) => c.name);
  ok(checkNames.includes("transfer not stronger than white-box"), `checks: ${checkNames}`);
  ok(checkNames.length >= 9, `checks: ${checkNames}`);
  equal(report.transfer.matrix.length, 9);
  const csv = (await Deno.readTextFile(`${f.dir}/report.csv`)).trim().split("\n");
  equal(csv.length, 10);
  ok(csv[0].startsWith("attack,norm,eps,") && csv[0].endsWith(`transfer:${f.b}`));
  await Deno.remove(f.dir, { recursive: true });
});

Deno.test("attack task: bad input gives one-line errors naming the flag or file", async () => {
  const f = await fixtures();
  const base = ["--model", f.a, "--data", f.data, "--out", `${f.dir}/r.json`];
  const cases: [string[], number, RegExp][] = [
    [[...base, "--attack", "pgdd"], 2, /--attack: unknown attack 'pgdd'/],
    [[...base, "--eps=-0.01,0.01"], 2, /--eps: ε must be ≥ 0/],
    [[...base, "--attack", "fgsm,fgm"], 2, /--attack: fgsm and fgm use different norms/],
    [
      ["--model", f.a, "--data", f.small, "--out", `${f.dir}/r.json`],
      1,
      new RegExp(`--data ${f.small}: images are \\[24,3,2,2\\], the model takes N×3×4×4`),
    ],
    [
      ["--model", `${f.dir}/none.safetensors`, "--data", f.data, "--out", `${f.dir}/r.json`],
      2,
      /--model .*none.safetensors: no such file or run folder/,
    ],
    [
      ["--model", f.a, "--data", `sim:${f.dir}/nowhere`, "--out", `${f.dir}/r.json`],
      1,
      /nowhere: no simulated world there; create it with: deno task synth/,
    ],
    [["--model", f.a, "--data", f.data], 2, /--out is required/],
  ];
  for (const [args, expected, pattern] of cases) {
    const { code, stderr } = await attack(args);
    equal(code, expected, `${args.join(" ")}: ${stderr}`);
    const lines = stderr.trim().split("\n");
    equal(lines.length, 1, `one line: ${stderr}`);
    ok(pattern.test(lines[0]), `${lines[0]} !~ ${pattern}`);
  }
  await Deno.remove(f.dir, { recursive: true });
});

const row = sweepRow;

Deno.test("checks: pass on a consistent run, flag masking signs with a banner", () => {
  const kinds = { fgsm: "single-step", pgd: "iterative", square: "black-box" } as const;
  const probe = {
    points: 100,
    eps: 0.03,
    steps: 40,
    robust: 0.5,
    robustDoubled: 0.5,
    largeEps: 0.5,
    robustLarge: 0,
    smallEps: 0.01,
    lostAtLargerEps: 0,
    transfer: [{ target: "b", transferAccuracy: 0.6, whiteBoxAccuracy: 0.5 }],
  };
  const good = [
    row("fgsm", 0.01, 0.6),
    row("fgsm", 0.03, 0.4),
    row("pgd", 0.01, 0.5),
    row("pgd", 0.03, 0.2),
    row("square", 0.01, 0.55),
    row("square", 0.03, 0.3),
  ];
  const passed = computeChecks(good, kinds, probe);
  ok(passed.every((c) => c.passed), JSON.stringify(passed.filter((c) => !c.passed)));
  equal(failureBanner(passed), "");
  const bad = [
    row("fgsm", 0.01, 0.3),
    row("pgd", 0.01, 0.5),
    row("pgd", 0.03, 0.6, { out_of_bounds: 2 }),
    // Without per-point outcomes the McNemar test takes the most discordance 500 vs 300 robust allows
    // (300 vs 500 points): significant; 450 vs 500 would not be.
    row("square", 0.01, 0.3),
  ];
  const failed = computeChecks(bad, kinds, {
    ...probe,
    robustDoubled: 0.4,
    robustLarge: 0.3,
    lostAtLargerEps: 5,
    transfer: [{ target: "b", transferAccuracy: 0.3, whiteBoxAccuracy: 0.5 }],
  }).filter((c) => !c.passed);
  const names = failed.map((c) => c.name);
  for (
    const expected of [
      "perturbations within ε and the box",
      "robust accuracy non-increasing in ε",
      "iterative attacks at least as strong as single-step",
      "black-box (Square) not stronger than white-box",
      "more steps change little",
      "very large ε drives accuracy to ~0",
      "monotone in ε without carry-over",
      "transfer not stronger than white-box",
    ]
  ) {
    ok(names.includes(expected), `missing failure: ${expected} (got ${names})`);
  }
  ok(failureBanner(failed).includes("ROBUSTNESS SANITY CHECKS FAILED"));
});
