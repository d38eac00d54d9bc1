/**
 * The controls machinery: the gate's decision on hand-made cases, the world-metadata reader, the predictor
 * sensitivity measurement (0 at ε = 0, rising with ε), the presets' grids and plan, the oracle-teacher grid
 * entries (validation, plan wiring without predictor or gate, rerun check, report order), and a tiny controls
 * grid end to end on the tiny world (plan → train with a None ladder, FGSM-RS and an oracle teacher → attack →
 * report) whose statistics columns exist and are finite. The gate job itself runs end to end in sweep_local_test (None + TO, ungated).
 */
import { join } from "node:path";
import { getGpu } from "../lib/gpu/device.ts";
import { saveCheckpoint } from "../lib/nn/checkpoint.ts";
import { modelConfig } from "../lib/nn/models.ts";
import { Plan } from "../lib/nn/plan.ts";
import { brainSensitivity, type GateInput, gateVerdict, predictorSensitivity } from "../lib/sweep/gate.ts";
import { controlsGrid, paperDeviations, paperGpuGrid, PRESETS } from "../lib/sweep/presets.ts";
import { buildPlan, checkSamePlan, type SweepPlan, type SweepSettings } from "../lib/sweep/plan.ts";
import { type ModelSpec, parseGrid } from "../lib/sweep/grid.ts";
import { orderModels } from "../lib/report/collect.ts";
import { UserError } from "../lib/errors.ts";
import { assertClose, deepStrictEqual, equal, ok } from "../lib/testing/assert.ts";
import { runSweep, tinySweepArgs } from "./fixtures/sweep.ts";

/** The message of the UserError `fn` throws (fails when it throws nothing or something else). */
function userErrorMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    ok(e instanceof UserError, `${e}`);
    return e.message;
  }
  throw new Error("no UserError thrown");
}

/** Tiny sweep settings the plan tests vary. */
const SETTINGS = {
  ...{ sim: "/sim", subject: 1, arch: "resnet-tiny", size: 16, batch: 8, epochs: 3, predictorEpochs: 1 },
  ...{ cropScale: 0.35, lr: 0.05, alpha: 0.5, wd: 1e-4, seed: 0, attacks: ["fgsm", "pgd"], eps: "0.01" },
  ...{ epsUnits: "normalized", attackN: 8, analyses: [], analysisN: 4, transferEps: "0.01" },
} as SweepSettings;

const roi = (
  name: string,
  r: number,
  ceiling: number,
  predictor: number,
  brain: number | null,
): GateInput => ({
  roi: name,
  predictorR: r,
  ceilingR: ceiling,
  predictorSensitivity: predictor,
  brainSensitivity: brain,
});

Deno.test("gate: r against the noise ceiling and the sensitivity ordering, by hand", () => {
  // 0.4 ≥ 0.5·0.6 and 0.35 ≥ 0.5·0.5; V1 more sensitive than TO in both
  const pass = gateVerdict([roi("V1", 0.4, 0.6, 0.9, 1.2), roi("TO", 0.35, 0.5, 0.3, 0.2)]);
  equal(pass.pass, true);
  equal(pass.orderingChecked, true);
  deepStrictEqual(pass.reasons, []);

  const weak = gateVerdict([roi("V1", 0.4, 0.6, 0.9, 1.2), roi("TO", 0.2, 0.5, 0.3, 0.2)]);
  equal(weak.pass, false);
  deepStrictEqual(weak.reasons, ["TO: predictor r 0.200 < 0.5 × noise-ceiling r 0.500 = 0.250"]);

  const flipped = gateVerdict([roi("V1", 0.4, 0.6, 0.2, 1.2), roi("TO", 0.35, 0.5, 0.3, 0.2)]);
  equal(flipped.pass, false);
  ok(flipped.reasons[0].startsWith("V1 vs TO: predictor sensitivities 0.200 vs 0.300"), flipped.reasons[0]);

  // no sensitivity in the world: the ordering is skipped, said so, and the r criterion decides alone
  const unknown = gateVerdict([roi("V1", 0.4, 0.6, 0.2, null), roi("TO", 0.35, 0.5, 0.3, null)]);
  equal(unknown.pass, true);
  equal(unknown.orderingChecked, false);
  ok(unknown.reasons[0].includes("not checked"), unknown.reasons[0]);

  const noCeiling = gateVerdict([{ ...roi("TO", 0.35, 0.5, 0.3, null), ceilingR: null }]);
  equal(noCeiling.pass, false);
  deepStrictEqual(noCeiling.reasons, ["TO: no noise ceiling to compare"]);
  equal(gateVerdict([roi("TO", 0.1, 0.5, 0.3, null)], 0.1).pass, true, "a lower fraction lets it through");
});

Deno.test("gate: the subject's sensitivity per radius, nearest the gate's ε", () => {
  const sensitivity = {
    V1: [{ eps: 8 / 255, random: 2.5, worst: 4 }, { eps: 2 / 255, random: 0.7, worst: 1.1 }],
    TO: [{ eps: 2 / 255, random: 0.05, worst: 0.1 }],
  };
  const manifest = { subjects: [{ subject: "subj01", sensitivity }, { subject: "subj02", sensitivity: {} }] };
  equal(brainSensitivity(manifest, "V1", 1), 0.7);
  equal(brainSensitivity(manifest, "V1", 1, 8 / 255), 2.5);
  equal(brainSensitivity(manifest, "TO", 1), 0.05);
  equal(brainSensitivity(manifest, "V4", 1), null);
  equal(brainSensitivity(manifest, "V1", 2), null);
  equal(brainSensitivity({}, "V1", 1), null);
});

Deno.test("gate: predictor sensitivity is 0 at ε = 0 and grows with ε", async () => {
  const gpu = await getGpu();
  const config = modelConfig("resnet-tiny", { classes: 5, imageSize: 16 });
  const plan = await Plan.create(gpu, config, 8);
  plan.initialize(4);
  const file = join(await Deno.makeTempDir(), "predictor.safetensors");
  await saveCheckpoint(file, config, await plan.stateDict());
  const images = Float32Array.from({ length: 12 * 3 * 16 * 16 }, (_, i) => (Math.sin(i * 12.9898) + 1) / 2);
  const at = (eps: number) => predictorSensitivity(gpu, file, images, 12, { eps, batch: 8 });
  equal(await at(0), 0);
  const [small, large] = [await at(2 / 255), await at(16 / 255)];
  ok(small > 0 && large > small, `sensitivity ${small} at 2/255, ${large} at 16/255`);
});

Deno.test("presets: controls and paper-gpu grids, and what a run scales down", () => {
  const controls = controlsGrid(3);
  deepStrictEqual(
    controls.filter((m) => m.seed === undefined).map((m) => m.name),
    [
      ...["None", "None_fgsm-rs", "None_ladder", "TO_oracle", "V1_oracle", "TO_oracle-perturbed"],
      ...["V1_oracle-perturbed", "TO_oracle-shuffled", "TO_oracle-adversarial", "V1_oracle-adversarial"],
      ...["TO_oracle-adversarial-head", "V1_oracle-adversarial-head", "TO_oracle-adversarial-sham"],
      ...["V1_oracle-adversarial-sham", "V1", "TO"],
    ],
  );
  equal(controls.length, 48);
  equal(new Set(controls.map((m) => m.seed ?? 0)).size, 3);
  ok(controls.some((m) => m.name === "None_fgsm-rs_s2" && m.augment?.kind === "fgsm-rs" && m.checks));
  // amendment 2: a 5-epoch ladder beside the 3-epoch None in every seed, and the adversarial oracle pair
  equal(controls.filter((m) => m.ladder).length, 6, "None and the None ladder in every seed");
  deepStrictEqual(controls.find((m) => m.name === "None_ladder_s1"), {
    name: "None_ladder_s1",
    roi: "none",
    shuffle: false,
    ladder: true,
    epochs: 5,
    seed: 1,
  });
  deepStrictEqual(controls.find((m) => m.name === "V1_oracle-adversarial_s2")?.teacher, {
    kind: "oracle-adversarial",
    eps: 8 / 255,
  });
  // amendment 3: the head-only pair; amendment 4: its shams
  deepStrictEqual(controls.find((m) => m.name === "TO_oracle-adversarial-head_s1")?.teacher, {
    kind: "oracle-adversarial-head",
    eps: 8 / 255,
  });
  deepStrictEqual(controls.find((m) => m.name === "V1_oracle-adversarial-sham_s2")?.teacher, {
    kind: "oracle-adversarial-sham",
    eps: 8 / 255,
  });
  deepStrictEqual(
    controls.find((m) => m.name === "TO_oracle-perturbed_s2"),
    {
      name: "TO_oracle-perturbed_s2",
      roi: "TO",
      shuffle: false,
      teacher: { kind: "oracle-perturbed", eps: 8 / 255 },
      seed: 2,
    },
  );
  deepStrictEqual(controls.find((m) => m.name === "TO_oracle-shuffled_s1")?.teacher, {
    kind: "oracle-shuffled",
  });
  // amendment 5: the head/sham pair and the shuffled negative trained longer, on a longer ladder, every seed
  // of the controls before the predictor-guided models
  const long = PRESETS["controls-long"];
  const longGrid = long.models(3);
  deepStrictEqual(longGrid.map((m) => m.name).slice(0, 4), [
    ...["None_ladder", "TO_oracle-shuffled", "TO_oracle-adversarial-head", "TO_oracle-adversarial-sham"],
  ]);
  deepStrictEqual(longGrid.slice(-6).map((m) => m.name), ["V1", "TO", "V1_s1", "TO_s1", "V1_s2", "TO_s2"]);
  equal(longGrid.length, 18);
  equal(longGrid.find((m) => m.name === "None_ladder_s2")?.epochs, 10);
  deepStrictEqual(longGrid.find((m) => m.name === "TO_oracle-adversarial-sham_s1")?.teacher, {
    kind: "oracle-adversarial-sham",
    eps: 8 / 255,
  });
  equal(long.settings.epochs, 8);
  equal(long.settings.ladderEvery, 2);
  equal(long.settings.attackN, PRESETS.controls.settings.attackN);
  equal(long.sim, PRESETS.controls.sim, "the controls' world, so its predictors serve both");
  const gpu = paperGpuGrid(3);
  // (10 guided × 2 α + None + 5 WD + 2 augmentation controls) × 3 seeds
  equal(gpu.length, 28 * 3);
  ok(gpu.some((m) => m.name === "TO_a0.5_s1" && m.alpha === 0.5 && m.seed === 1));
  equal(PRESETS.controls.settings.attackN, 500);
  const settings = {
    sim: "/sim",
    subject: 1,
    arch: "resnet-tiny",
    size: 32,
    batch: 32,
    epochs: 4,
    cropScale: 0.35,
    predictorEpochs: 8,
    lr: 0.05,
    alpha: 0.5,
    wd: 1e-4,
    seed: 0,
    attacks: ["pgd"],
    eps: "0.009,0.019",
    epsUnits: "normalized",
    attackN: 500,
    analyses: [],
    analysisN: 8,
    transferEps: "0.009",
  } as SweepSettings;
  const lines = paperDeviations(settings, 500, 3);
  for (
    const expected of [
      "architecture: resnet-tiny (paper resnet18)",
      "epochs: 4 (paper 60)",
      "ε grid: 0.009,0.019 (paper 0.001:0.019:0.002)",
      "attacked images: 500 (paper 2500, the whole validation set)",
    ]
  ) ok(lines.includes(expected), `${expected} in ${lines.join(" | ")}`);
  ok(!lines.some((l) => l.startsWith("weight decay")), "weight decay is the paper's");
});

Deno.test("buildPlan: the gate before guided models, augmentation and ladder steps, masking probes", () => {
  const plan = buildPlan("/r", SETTINGS, controlsGrid(1));
  const job = (id: string) => plan.jobs.find((j) => j.id === id)!;
  equal(
    plan.jobs.map((j) => j.id).join(","),
    [
      "prep/TO,prep/V1,predictor/V1,predictor/TO,gate,model/None,model/None_fgsm-rs,model/None_ladder,",
      "model/TO_oracle,model/V1_oracle,model/TO_oracle-perturbed,model/V1_oracle-perturbed,",
      "model/TO_oracle-shuffled,model/TO_oracle-adversarial,model/V1_oracle-adversarial,",
      "model/TO_oracle-adversarial-head,model/V1_oracle-adversarial-head,",
      "model/TO_oracle-adversarial-sham,model/V1_oracle-adversarial-sham,model/V1,model/TO,",
      "report",
    ].join(""),
  );
  equal(job("prep/TO").steps.map((s) => s.task).join(","), "nsd-prep");
  equal(job("prep/TO").steps[0].done, "/r/prep/TO.h5");
  equal(job("predictor/TO").deps.join(","), "prep/TO");
  ok(job("predictor/TO").steps[0].args.join(" ").includes("--prepared /r/prep/TO.h5"));
  equal(job("gate").deps.join(","), "predictor/V1,predictor/TO");
  equal(job("gate").steps[0].done, "/r/gate.json");
  equal(job("model/TO").deps.join(","), "predictor/TO,gate");
  ok(job("model/TO").steps[0].args.join(" ").includes("--predictor /r/predictors/TO"));
  ok(!job("model/TO").steps[0].args.includes("--teacher"));
  // oracle-taught: the ROI's prepared file, no predictor, no gate
  equal(job("model/TO_oracle-perturbed").deps.join(","), "prep/TO");
  equal(job("model/V1_oracle").deps.join(","), "prep/V1");
  const perturbed = job("model/TO_oracle-perturbed").steps[0].args.join(" ");
  ok(
    perturbed.includes(`--teacher oracle-perturbed --prepared /r/prep/TO.h5 --teacher-eps ${8 / 255}`),
    perturbed,
  );
  ok(!perturbed.includes("--predictor") && !perturbed.includes("--shuffle"), perturbed);
  const shuffled = job("model/TO_oracle-shuffled").steps[0].args.join(" ");
  ok(shuffled.includes("--teacher oracle-shuffled --prepared /r/prep/TO.h5 "), shuffled);
  ok(!shuffled.includes("--teacher-eps") && !shuffled.includes("--predictor"), shuffled);
  equal(job("model/None").deps.join(","), "", "None does not wait for the gate");
  ok(!job("report").deps.includes("gate"));
  // None: train (keeping epochs), fgsm, pgd, then pgd on the initial weights and epochs 1 and 2 (epoch 3 is
  // the model itself)
  const none = job("model/None").steps;
  ok(none[0].args.includes("--keep-epochs"));
  equal(
    none.slice(1).map((s) => s.done).join(" "),
    "/r/attacks/None/fgsm.json /r/attacks/None/pgd.json /r/attacks/None/epoch_0/pgd.json " +
      "/r/attacks/None/epoch_1/pgd.json /r/attacks/None/epoch_2/pgd.json",
  );
  ok(none[3].args.join(" ").includes("--model /r/models/None/epochs/epoch_0.safetensors"));
  ok(none[4].args.join(" ").includes("--model /r/models/None/epochs/epoch_1.safetensors"));
  const fgsmRs = job("model/None_fgsm-rs").steps;
  // FGSM-RS trains at the attacked ε: 0.019 normalized × the mean ImageNet std (0.229 + 0.224 + 0.225) / 3
  const trainEps = Number(fgsmRs[0].args[fgsmRs[0].args.indexOf("--aug-eps") + 1]);
  assertClose([trainEps], [0.019 * 0.226], { atol: 1e-12 });
  ok(fgsmRs[0].args.join(" ").includes("--augment fgsm-rs --aug-eps"), fgsmRs[0].args.join(" "));
  ok(fgsmRs[2].args.join(" ").includes("--check-n 32"), "masking probes on the augmentation control");
  ok(job("model/TO").steps[2].args.join(" ").includes("--check-n 0"));
});

Deno.test("grid: teacher entries are validated with one line naming the entry", () => {
  const grid = (models: unknown[]) => parseGrid(JSON.stringify({ models }), "g.json");
  deepStrictEqual(grid([{ name: "TO_o", roi: "TO", teacher: "oracle-perturbed" }])[0].teacher, {
    kind: "oracle-perturbed",
    eps: 8 / 255,
  });
  deepStrictEqual(
    grid([{ name: "V1_o", roi: "V1", teacher: "oracle-perturbed", teacher_eps: 0.01 }])[0].teacher,
    {
      kind: "oracle-perturbed",
      eps: 0.01,
    },
  );
  // the adversarial oracle takes a δ radius like the perturbed one
  deepStrictEqual(
    grid([{ name: "TO_a", roi: "TO", teacher: "oracle-adversarial", teacher_eps: 0.02 }])[0].teacher,
    { kind: "oracle-adversarial", eps: 0.02 },
  );
  deepStrictEqual(grid([{ name: "TO_a", roi: "TO", teacher: "oracle-adversarial" }])[0].teacher, {
    kind: "oracle-adversarial",
    eps: 8 / 255,
  });
  deepStrictEqual(grid([{ name: "TO_o", roi: "TO", teacher: "oracle" }])[0].teacher, { kind: "oracle" });
  equal(grid([{ name: "TO", roi: "TO" }])[0].teacher, undefined);
  const cases: [Record<string, unknown>, string][] = [
    [
      { teacher: "predictor" },
      'g.json: models[0]: "teacher" must be one of oracle, oracle-shuffled, oracle-perturbed, oracle-adversarial, ' +
      "oracle-adversarial-head, oracle-adversarial-sham",
    ],
    [
      { teacher: "brain" },
      'g.json: models[0]: "teacher" must be one of oracle, oracle-shuffled, oracle-perturbed, oracle-adversarial, ' +
      "oracle-adversarial-head, oracle-adversarial-sham",
    ],
    [
      { roi: "none", teacher: "oracle" },
      `g.json: models[0]: "teacher" needs an ROI (the simulated brain's), not 'none'`,
    ],
    [
      { shuffle: true, teacher: "oracle" },
      'g.json: models[0]: "shuffle" applies to a predictor; use "teacher": "oracle-shuffled"',
    ],
    [{ teacher_eps: 0.01 }, 'g.json: models[0]: "teacher_eps" needs "teacher"'],
    [
      { teacher: "oracle", teacher_eps: 0.01 },
      'g.json: models[0]: "teacher_eps" needs "teacher" to be one of "oracle-perturbed", "oracle-adversarial", ' +
      '"oracle-adversarial-head", "oracle-adversarial-sham"',
    ],
    [
      { teacher: "oracle-shuffled", teacher_eps: 0.01 },
      'g.json: models[0]: "teacher_eps" needs "teacher" to be one of "oracle-perturbed", "oracle-adversarial", ' +
      '"oracle-adversarial-head", "oracle-adversarial-sham"',
    ],
    [
      { teacher: "oracle-adversarial", teacher_eps: 2 },
      'g.json: models[0]: "teacher_eps" must be a number in (0, 1] (pixel units)',
    ],
    [
      { teacher: "oracle-perturbed", teacher_eps: 0 },
      'g.json: models[0]: "teacher_eps" must be a number in (0, 1] (pixel units)',
    ],
    [
      { teacher: "oracle-perturbed", teacher_eps: "8/255" },
      'g.json: models[0]: "teacher_eps" must be a number in (0, 1] (pixel units)',
    ],
  ];
  for (const [extra, message] of cases) {
    equal(userErrorMessage(() => grid([{ name: "m", roi: "TO", ...extra }])), message);
  }
});

Deno.test("grid: a model's own epochs are a positive integer", () => {
  const grid = (epochs: unknown) =>
    parseGrid(JSON.stringify({ models: [{ name: "None", roi: "none", epochs }] }), "g.json");
  equal(grid(5)[0].epochs, 5);
  equal(grid(undefined)[0].epochs, undefined);
  for (const [epochs, shown] of [[0, "0"], [2.5, "2.5"], ["5", '"5"']]) {
    equal(
      userErrorMessage(() => grid(epochs)),
      `g.json: models[0]: "epochs" must be a positive integer, got ${shown}`,
    );
  }
});

Deno.test("buildPlan and checkSamePlan: a model's own epochs train it, size its ladder and are compared", () => {
  const settings: SweepSettings = { ...SETTINGS, attacks: ["pgd"] };
  const models = (noneEpochs?: number): ModelSpec[] => [
    { name: "None", roi: "none", shuffle: false, ladder: true, epochs: noneEpochs },
    { name: "TO_oracle", roi: "TO", shuffle: false, teacher: { kind: "oracle" } },
  ];
  const plan = buildPlan("/r", settings, models(5));
  const steps = (id: string) => plan.jobs.find((j) => j.id === id)!.steps;
  const epochsArg = (args: string[]) => args[args.indexOf("--epochs") + 1];
  equal(epochsArg(steps("model/None")[0].args), "5");
  equal(epochsArg(steps("model/TO_oracle")[0].args), "3", "the others train the sweep's --epochs");
  // the ladder: pgd on the weights after epochs 0…4 (epoch 5 is the model itself)
  deepStrictEqual(
    steps("model/None").slice(2).map((s) => s.done),
    [0, 1, 2, 3, 4].map((k) => `/r/attacks/None/epoch_${k}/pgd.json`),
  );
  const message = userErrorMessage(() =>
    checkSamePlan(buildPlan("/r", settings, models(6)), plan, "plan.json")
  );
  ok(message.startsWith("plan.json: model 'None' was planned with epochs 5, the grid now says 6;"), message);
  // a plan.json written before grid entries had epochs: its models trained the sweep's
  const old = JSON.parse(JSON.stringify(buildPlan("/r", settings, models()))) as SweepPlan;
  ok(old.models.every((m) => !("epochs" in m)));
  checkSamePlan(buildPlan("/r", settings, models()), old, "plan.json");
  checkSamePlan(buildPlan("/r", settings, models(3)), old, "plan.json");
  const longer = userErrorMessage(() =>
    checkSamePlan(buildPlan("/r", settings, models(5)), old, "plan.json")
  );
  ok(longer.startsWith("plan.json: model 'None' was planned with epochs 3, the grid now says 5;"), longer);
});

Deno.test("checkSamePlan: a model renamed to another teacher or augmentation is refused; report order groups the oracles", () => {
  const settings: SweepSettings = { ...SETTINGS, epochs: 1, attacks: [] };
  const before = buildPlan("/r", settings, [{
    name: "TO_x",
    roi: "TO",
    shuffle: false,
    teacher: { kind: "oracle" },
  }]);
  const same = buildPlan("/r", settings, [{
    name: "TO_x",
    roi: "TO",
    shuffle: false,
    teacher: { kind: "oracle" },
  }]);
  checkSamePlan(same, before, "plan.json");
  for (const teacher of [undefined, { kind: "oracle-perturbed" as const, eps: 0.01 }]) {
    const now = buildPlan("/r", settings, [{ name: "TO_x", roi: "TO", shuffle: false, teacher }]);
    const message = userErrorMessage(() => checkSamePlan(now, before, "plan.json"));
    ok(message.startsWith(`plan.json: model 'TO_x' was planned with teacher {"kind":"oracle"}`), message);
  }
  // another augmentation radius under the same name would keep the old model's results
  const augmented = (eps: number) =>
    buildPlan("/r", settings, [{
      name: "A",
      roi: "none",
      shuffle: false,
      augment: { kind: "fgsm-rs", eps },
    }]);
  checkSamePlan(augmented(0.01), augmented(0.01), "plan.json");
  const message = userErrorMessage(() => checkSamePlan(augmented(0.02), augmented(0.01), "plan.json"));
  ok(
    message.startsWith(`plan.json: model 'A' was planned with augment {"kind":"fgsm-rs","eps":0.01}`),
    message,
  );
  deepStrictEqual(
    orderModels([
      ...["zzz", "TO_oracle-shuffled", "TO", "TO_oracle_s1", "V1_oracle-perturbed", "WD_0.003", "TO_oracle"],
      ...["V1_oracle", "TO_oracle-perturbed", "None", "V1"],
    ]),
    [
      ...["None", "V1", "TO", "WD_0.003", "V1_oracle", "TO_oracle", "TO_oracle_s1", "TO_oracle-shuffled"],
      ...["V1_oracle-perturbed", "TO_oracle-perturbed", "zzz"],
    ],
  );
});

Deno.test("sweep: a tiny controls grid runs end to end and reports finite statistics", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sweep-controls-" });
  try {
    const models = [
      // a ladder trained longer than the sweep's 1 epoch, as the controls preset's None_ladder is
      { name: "None", roi: "none", ladder: true, epochs: 2 },
      { name: "None_fgsm-rs", roi: "none", augment: "fgsm-rs", aug_eps: 0.03 },
      { name: "TO_oracle-adversarial", roi: "TO", teacher: "oracle-adversarial", teacher_eps: 0.03 },
    ];
    const args = await tinySweepArgs(dir, models, [
      "--epochs",
      "1",
      "--attacks",
      "pgd",
      "--analyses",
      "none",
    ]);
    const { code, stderr } = await runSweep(args);
    equal(code, 0, stderr);
    const out = join(dir, "out");
    for (const k of [0, 1]) {
      ok(await Deno.stat(join(out, `attacks/None/epoch_${k}/pgd.json`)), `ladder rung ${k}`);
    }
    equal(JSON.parse(await Deno.readTextFile(join(out, "models/None/summary.json"))).epochs, 2);
    const csv = (await Deno.readTextFile(join(out, "tables/statistics.csv"))).trim().split("\n");
    const header = csv[0].split(",");
    for (
      const column of ["clean_accuracy", "robust_accuracy", "normalize_acc", "matched_gain", "gain_ci_low"]
    ) ok(header.includes(column), `${column} in ${header}`);
    const rows = Object.fromEntries(
      csv.slice(1).map((line) => {
        const cells = line.split(",");
        return [cells[0], Object.fromEntries(header.map((h, i) => [h, cells[i]]))];
      }),
    );
    deepStrictEqual(Object.keys(rows).sort(), ["None", "None_fgsm-rs", "TO_oracle-adversarial"]);
    // the oracle-taught model trained from the prepared file alone: no predictor, no gate
    const summary = JSON.parse(
      await Deno.readTextFile(join(out, "models/TO_oracle-adversarial/summary.json")),
    );
    equal(summary.teacher.kind, "oracle-adversarial");
    equal(summary.teacher.epsilon, 0.03);
    ok(!(await Deno.stat(join(out, "predictors")).catch(() => null)), "no predictor trained");
    ok(!(await Deno.stat(join(out, "gate.json")).catch(() => null)), "no gate");
    for (const row of Object.values(rows)) {
      for (const column of ["clean_accuracy", "robust_accuracy"]) ok(Number.isFinite(Number(row[column])));
    }
    // None is its own ladder's last point: always inside the ladder, so its gain and interval exist
    for (const column of ["normalize_acc", "matched_gain", "gain_ci_low", "gain_ci_high"]) {
      ok(Number.isFinite(Number(rows.None[column])) && rows.None[column] !== "", `None ${column}`);
    }
    ok(Number(rows.None.gain_ci_low) <= Number(rows.None.gain_ci_high));
    equal(rows["None_fgsm-rs"].masking_checks, "not run");
    const report = await Deno.readTextFile(join(out, "report.md"));
    ok(report.includes("Settings that differ from the paper's"), report);
    ok(report.includes("## Robustness at matched clean accuracy"), report);
    ok(/None ladder \(clean, robust\) by epoch: 0: \(.*\), 1: \(.*\), 2: \(/.test(report), report);
    // the pre-registered reading: this grid's FGSM-RS model ran without masking probes, so it cannot hold
    const controls = (await Deno.readTextFile(join(out, "tables/controls.csv"))).trim().split("\n").slice(1);
    deepStrictEqual(controls.map((line) => line.split(",").slice(0, 2).join(",")), [
      "positive control,None_fgsm-rs",
      "guaranteed positive,TO_oracle-adversarial",
    ]);
    ok(/,"?(FAILS|UNTESTABLE): /.test(controls[0]), controls[0]);
    ok(report.includes("### Controls (pre-registered in the README)"), report);
    ok(report.includes("THE PREDICTOR-GUIDED RESULT IS INCONCLUSIVE"), report);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
