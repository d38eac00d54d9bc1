/**
 * The oracle teachers (`lib/train/oracle_teacher.ts`): targets from the simulated brain track the world's
 * measured targets (and the shuffled control does not), the modes relate as documented, a tiny guided run
 * trains with each, and the CLI rejects misuse.
 */
import { join } from "node:path";
import { getGpu } from "../lib/gpu/device.ts";
import { nsdPaths, readPreparedTargets, readStimuli } from "../lib/data/nsd/mod.ts";
import { trainGuidedRun } from "../lib/train/guided_run.ts";
import { createGuidedTrainer, type LabeledBatch } from "../lib/train/guided.ts";
import { loadOracleTeacher, ORACLE_EPSILON, type OracleMode } from "../lib/train/oracle_teacher.ts";
import { assertClose, equal, ok } from "../lib/testing/assert.ts";
import { readSafetensors } from "../lib/io/safetensors.ts";
import { ORACLE_TEACHERS } from "../lib/sweep/grid.ts";
import {
  TINY_GUIDED,
  TINY_WORLD,
  tinyClassificationData,
  tinyPrepared,
  tinyWorld,
} from "./fixtures/world.ts";
import { runTask } from "./fixtures/run_task.ts";

const size = TINY_WORLD.size!;

/** Pearson r between columns j of two row-major n×k matrices. */
function columnR(a: Float32Array, b: Float32Array, n: number, k: number, j: number): number {
  let sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i * k + j], y = b[i * k + j];
    sa += x, sb += y, sab += x * y, saa += x * x, sbb += y * y;
  }
  return (sab - (sa * sb) / n) / Math.sqrt((saa - (sa * sa) / n) * (sbb - (sb * sb) / n));
}

Deno.test("oracle targets track the world's measured targets; shuffled and perturbed modes relate as documented", async () => {
  const world = await tinyWorld(), prepared = await tinyPrepared("TO", 6);
  const measured = await readPreparedTargets(prepared);
  const n = measured.trainIds.length, k = measured.k;
  const { data } = await readStimuli(nsdPaths(world, 1).stimuli, Array.from(measured.trainIds), {
    size,
    dtype: "uint8",
  });
  const images = Float32Array.from(data, (v) => v / 255);
  const teacher = (mode: OracleMode) => loadOracleTeacher({ mode, sim: world, prepared, seed: 3 });
  const oracle = await teacher("oracle");
  equal(oracle.k, k);
  equal(oracle.roi, "TO");
  const clean = oracle.targets(images, n, size);
  // The measured scores are the oracle's plus trial noise, component by component (measured here: 0.61–0.94).
  const meanR = (targets: Float32Array) =>
    Array.from({ length: k }, (_, j) => columnR(targets, measured.train, n, k, j)).reduce((a, b) => a + b) /
    k;
  const rOracle = meanR(clean);
  ok(rOracle > 0.6, `oracle vs measured: mean component r = ${rOracle}`);
  const { images: same, targets } = await oracle.trainBatch(images, n, size);
  equal(same, images);
  ok(targets.every((v, i) => v === clean[i]), "oracle mode: targets of the batch itself");

  const shuffled = (await (await teacher("oracle-shuffled")).trainBatch(images, n, size)).targets;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) equal(shuffled[i * k + j], clean[((i + 1) % n) * k + j], `row ${i}`);
  }
  const rShuffled = meanR(shuffled);
  ok(Math.abs(rShuffled) < 0.25, `shuffled vs measured: mean component r = ${rShuffled}`);

  const perturbed = await teacher("oracle-perturbed");
  equal(perturbed.epsilon, ORACLE_EPSILON);
  const batch = await perturbed.trainBatch(images, n, size);
  for (let i = 0; i < images.length; i++) {
    const d = batch.images[i] - images[i];
    const clipped = batch.images[i] === 0 || batch.images[i] === 1;
    ok(clipped || Math.abs(Math.abs(d) - ORACLE_EPSILON) < 1e-6, `pixel ${i} moved by ${d}`);
  }
  const onPerturbed = oracle.targets(batch.images, n, size);
  ok(batch.targets.every((v, i) => v === onPerturbed[i]), "perturbed mode: target = brain(x + δ)");
  ok(batch.targets.some((v, i) => v !== clean[i]), "δ must move the targets at least a little");

  // oracle-adversarial: the attack gets a start in the ε-ball and the clean images' targets; whatever it
  // returns is what the student sees, and the targets are the brain's response to that
  const adversarial = await teacher("oracle-adversarial");
  equal(adversarial.epsilon, ORACLE_EPSILON);
  const moved = Float32Array.from(images, (v) => Math.min(1, v + ORACLE_EPSILON));
  let seen: { start: Float32Array; cleanTargets: Float32Array } | null = null;
  // a stand-in student whose head is a fixed linear map of the pixels (row n, unit j: Σ pixels·(j + 1)/100)
  const plane = images.length / n;
  const student = {
    attack(start: Float32Array, cleanTargets: Float32Array) {
      seen = { start, cleanTargets };
      return Promise.resolve(moved);
    },
    head: (x: Float32Array) =>
      Promise.resolve(Float32Array.from({ length: n * k }, (_, i) => {
        const row = Math.floor(i / k), unit = i % k;
        let sum = 0;
        for (let p = row * plane; p < (row + 1) * plane; p++) sum += x[p];
        return (sum * (unit + 1)) / 100;
      })),
  };
  const attacked = await adversarial.trainBatch(images, n, size, student);
  const { start, cleanTargets } = seen!;
  ok(start.every((v, i) => Math.abs(v - images[i]) <= ORACLE_EPSILON + 1e-6 && v >= 0 && v <= 1));
  ok(start.some((v, i) => v !== images[i]), "a random start");
  ok(cleanTargets.every((v, i) => v === clean[i]), "the attack is given brain(x)");
  equal(attacked.images, moved);
  const onMoved = oracle.targets(moved, n, size);
  ok(attacked.targets.every((v, i) => v === onMoved[i]), "adversarial mode: target = brain(x + δ)");
  await adversarial.trainBatch(images, n, size).then(
    () => ok(false, "oracle-adversarial without an attack must throw"),
    (e) => ok(String(e).includes("head attack"), String(e)),
  );
  equal(adversarial.movement, undefined, "only the sham measures movement");

  // oracle-adversarial-head: the head alone sees x + δ, towards brain(x + δ)
  const headOnly = await (await teacher("oracle-adversarial-head")).trainBatch(images, n, size, student);
  equal(headOnly.images, images);
  equal(headOnly.headImages, moved);
  ok(headOnly.targets.every((v, i) => v === onMoved[i]), "head mode: target = brain(x + δ)");

  // oracle-adversarial-sham: target brain(x) + head(x + δ) − head(x), and the movements' mean norms
  const shamTeacher = await teacher("oracle-adversarial-sham");
  equal(shamTeacher.movement!(), null, "no batch yet");
  const sham = await shamTeacher.trainBatch(images, n, size, student);
  equal(sham.images, images);
  equal(sham.headImages, moved);
  const [headClean, headMoved] = [await student.head(images), await student.head(moved)];
  const expected = clean.map((t, j) => t + headMoved[j] - headClean[j]);
  assertClose(sham.targets, expected, { atol: 1e-5, label: "sham targets" });
  const rowNorm = (a: Float32Array, b: Float32Array, row: number) =>
    Math.hypot(...Array.from({ length: k }, (_, j) => a[row * k + j] - b[row * k + j]));
  const meanNorm = (a: Float32Array, b: Float32Array) =>
    Array.from({ length: n }, (_, row) => rowNorm(a, b, row)).reduce((x, y) => x + y) / n;
  const movement = shamTeacher.movement!()!;
  assertClose(
    [movement.head, movement.target],
    [meanNorm(headMoved, headClean), meanNorm(onMoved, clean)],
    { rtol: 1e-6, label: "mean movements" },
  );
  ok(movement.head > 0 && movement.target > 0, JSON.stringify(movement));
  equal(shamTeacher.movement!(), null, "read once, then reset");
});

Deno.test("guided training with each oracle teacher runs and records it", async () => {
  const gpu = await getGpu();
  const world = await tinyWorld(), prepared = await tinyPrepared("TO", 6);
  for (const mode of ORACLE_TEACHERS) {
    const data = await tinyClassificationData();
    try {
      const { summary } = await trainGuidedRun(gpu, data, {
        ...TINY_GUIDED,
        out: join(await Deno.makeTempDir(), "g"),
        roi: "TO",
        oracle: { mode, sim: world, prepared },
      });
      equal(summary.teacher?.kind, mode);
      equal(summary.roi, "TO");
      ok(Number.isFinite(summary.final.val_neural_r as number), `${mode}: val_neural_r`);
      ok(Number.isFinite(summary.final.val_neural_mse as number), `${mode}: val_neural_mse`);
      const moves = [summary.final.train_head_move, summary.final.train_target_move];
      if (mode === "oracle-adversarial-sham") ok(moves.every((v) => (v as number) > 0), `${mode}: ${moves}`);
      else ok(moves.every((v) => v === undefined), `${mode}: no movement logged`);
    } finally {
      data.close();
    }
  }
});

Deno.test("oracle-adversarial-head: at α 1 (the head's MSE alone) it trains the weights oracle-adversarial does", async () => {
  // the head-only view differs only in what the cross-entropy sees, which α 1 weighs by 0; BatchNorm's running
  // statistics differ (the clean view's forward updates them too), so they are left out
  const gpu = await getGpu();
  const world = await tinyWorld(), prepared = await tinyPrepared("TO", 6);
  const weights = async (mode: OracleMode, alpha: number) => {
    const data = await tinyClassificationData();
    const out = join(await Deno.makeTempDir(), "g");
    try {
      const run = { ...TINY_GUIDED, out, roi: "TO", alpha, oracle: { mode, sim: world, prepared } };
      const { summary } = await trainGuidedRun(gpu, data, run);
      equal(summary.teacher?.kind, mode);
      const { tensors } = await readSafetensors(join(out, "model.safetensors"));
      return new Map([...tensors].filter(([name]) => !/running_|num_batches/.test(name)));
    } finally {
      data.close();
      await Deno.remove(join(out, ".."), { recursive: true });
    }
  };
  const head = await weights("oracle-adversarial-head", 1);
  const whole = await weights("oracle-adversarial", 1);
  for (const [name, t] of head) {
    assertClose(t.data as Float32Array, whole.get(name)!.data as Float32Array, {
      rtol: 1e-5,
      atol: 1e-6,
      label: name,
    });
  }
  // at α 0.5 the clean view's cross-entropy moves the weights elsewhere
  const mixed = await weights("oracle-adversarial-head", 0.5),
    wholeMixed = await weights("oracle-adversarial", 0.5);
  const conv = "conv1.weight";
  ok(
    mixed.get(conv)!.data.some((v, i) => Math.abs(Number(v) - Number(wholeMixed.get(conv)!.data[i])) > 1e-4),
    conv,
  );
});

Deno.test("oracle-adversarial-sham: on x + δ the head's distance to the target is its distance to brain(x) on x", async () => {
  // the invariant that makes it a sham: the target moves with the head, so no invariance is asked for. The
  // head is read back from the student's own train-mode forward pass, the one the step's head pass runs.
  const gpu = await getGpu();
  const world = await tinyWorld(), prepared = await tinyPrepared("TO", 6);
  const oracle = await loadOracleTeacher({ mode: "oracle-adversarial-sham", sim: world, prepared, seed: 2 });
  let staged: { targets: Float32Array; headImages?: Float32Array } | null = null;
  const spy = {
    ...oracle,
    trainBatch: async (
      ...args: Parameters<typeof oracle.trainBatch>
    ) => (staged = await oracle.trainBatch(...args)),
  };
  const data = await tinyClassificationData();
  try {
    const trainer = await createGuidedTrainer(gpu, {
      arch: "resnet-tiny",
      classes: data.classes.length,
      imageSize: size,
      batch: 8,
      roi: "TO",
      alpha: 0.5,
      shuffle: false,
      predictorBatchNorm: "train",
      optimizer: { kind: "sgd", momentum: 0.9 },
      seed: 4,
      oracle: spy,
    });
    let batch: LabeledBatch | null = null;
    for await (const b of data.train(0, 8)) if (!batch) batch = b;
    const load = await trainer.stage!(batch!);
    const { targets, headImages } = staged!;
    const plan = trainer.plan, k = oracle.k, count = batch!.count;
    const headOn = async (view: number) => {
      load(view);
      gpu.submit(plan.forward("train"));
      return await plan.read(plan.model.neural!);
    };
    equal(await headOn(1).then((h) => h.length), 8 * k);
    ok(headImages!.some((v, i) => v !== batch!.images[i]), "the head pass sees x + δ");
    const [onClean, onMoved] = [await headOn(0), await headOn(1)];
    const brain = oracle.targets(batch!.images, count, size);
    const rows = count * k;
    assertClose(
      onMoved.subarray(0, rows).map((h, i) => h - targets[i]),
      onClean.subarray(0, rows).map((h, i) => h - brain[i]),
      { atol: 1e-4, label: "head − target on x + δ vs head − brain(x) on x" },
    );
    const moved = onMoved.subarray(0, rows).reduce((m, h, i) => Math.max(m, Math.abs(h - onClean[i])), 0);
    ok(moved > 1e-3, `δ must move the head (max ${moved})`);
  } finally {
    data.close();
  }
});

Deno.test("an oracle teacher does not combine with a training augmentation", async () => {
  const gpu = await getGpu();
  const data = await tinyClassificationData();
  try {
    const oracle = { mode: "oracle-adversarial" as const, sim: await tinyWorld(), prepared: "x.h5" };
    const augment = { kind: "noise" as const, eps: 0.01 };
    const run = { ...TINY_GUIDED, out: join(await Deno.makeTempDir(), "g"), roi: "TO", oracle, augment };
    await trainGuidedRun(gpu, data, run).then(
      () => ok(false, "oracle + augment must be refused"),
      (e) =>
        ok(String(e).includes("--augment does not combine with --teacher oracle-adversarial"), String(e)),
    );
  } finally {
    data.close();
  }
});

Deno.test("train CLI: oracle teachers reject misuse with usage errors", async () => {
  const cases: [string[], string][] = [
    [["--teacher", "oracle", "--roi", "TO"], "--prepared"],
    [["--teacher", "oracle", "--roi", "none", "--prepared", "x.h5"], "needs an ROI"],
    [["--teacher", "oracle", "--roi", "TO", "--prepared", "x.h5", "--predictor", "np"], "--predictor"],
    [
      ["--teacher", "oracle", "--roi", "TO", "--prepared", "x.h5", "--teacher-eps", "0.1"],
      "oracle-perturbed",
    ],
    [["--teacher", "sage"], "--teacher"],
    [["--roi", "TO", "--prepared", "x.h5"], "oracle --teacher"],
  ];
  for (const [args, fragment] of cases) {
    const { code, stderr } = await runTask("train", args);
    equal(code, 2, `${args.join(" ")}: ${stderr}`);
    ok(stderr.includes(fragment), `${args.join(" ")}: ${stderr}`);
  }
});
