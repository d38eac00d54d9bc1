/**
 * `deno task attack`: adversarial robustness of a trained model over an ε grid, per attack, with built-in
 * sanity checks (gradient masking) and an optional transfer matrix. Writes a JSON report and a CSV beside it,
 * atomically. See `--help`.
 * @module
 */
import { forFlag, numberFlag, parseFlags } from "../lib/cli/args.ts";
import { UsageError, UserError } from "../lib/errors.ts";
import { runMain } from "../lib/cli/main.ts";
import { progressReporter } from "../lib/cli/progress.ts";
import { checkOutputPath } from "../lib/io/output_path.ts";
import { computeChecks, failureBanner, notesLine } from "../lib/attacks/checks.ts";
import {
  bitString,
  cleanCorrect,
  probe,
  sweep,
  type SweepRow,
  type TransferTarget,
} from "../lib/attacks/evaluate.ts";
import { createAttackModel } from "../lib/attacks/model.ts";
import { loadDataset } from "../lib/attacks/dataset.ts";
import { parseEpsGrid } from "../lib/attacks/eps_grid.ts";
import { AttackOps } from "../lib/attacks/ops.ts";
import { ATTACK_NAMES, type AttackKind, attackNorm, attackUnit } from "../lib/attacks/registry.ts";
import { getGpu, type Gpu } from "../lib/gpu/device.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { checkpointPath, loadCheckpoint } from "../lib/nn/checkpoint.ts";
import { IMAGENET_STD, type ModelConfig } from "../lib/nn/models.ts";

const HELP =
  `deno task attack --model RUN_OR_CKPT --data DATA --attack NAME[,NAME…] --eps GRID --out FILE.json

Adversarial robustness over an ε grid. Each attack sweeps ε upwards, attacking only the points still robust
and carrying fooled points forward (worst case per point, AutoAttack's bookkeeping). A point counts as
fooled only if the model misclassifies the returned image and it lies within ε and the [0, 1] box. Robust
accuracy is over all points (points wrong when clean count as fooled). Writes FILE.json and FILE.csv; the
JSON keeps per-point outcomes for bootstrap intervals (clean_points, and robust_points in each row: one
"0"/"1" per point in data order).

  --model PATH      checkpoint (.safetensors with the model config in its metadata) or a run folder holding
                    model.safetensors
  --data DATA       FILE.safetensors with 'images' (uint8 0–255 or float32 in [0, 1], N×C×H×W) and 'labels'
                    (integer, N); or sim-val (the simulated world's validation split, data/sim), sim:DIR,
                    imagefolder:DIR, cifar100:DIR — validation split, Resize + CenterCrop to the model size.
  --attack LIST     comma-separated (default pgd), all under one threat model, from:
                    ${ATTACK_NAMES.join(", ")}
                      fgsm (L∞) / fgm (L2): one gradient step (Foolbox)
                      pgd: Foolbox defaults (L∞ 40 steps of ε/30, L2 50 of 0.025ε, random start)
                      deepfool: Foolbox (50 steps, top-10 classes, overshoot 0.02 on the total), clipped to ε
                      apgd-ce, apgd-t (9 targets): AutoAttack's APGD, 100 iterations
                      fab-t: AutoAttack's FAB-T (9 targets, 100 iterations), kept only where ‖δ‖ ≤ ε
                      cw: Carlini–Wagner L2, Foolbox defaults (9 × 10 000 Adam steps: very costly; see
                      --cw-steps, --cw-search), clipped to ε
                      square: Square (L∞ or L2), 5000 queries
                      autoattack: standard version, APGD-CE → APGD-T → FAB-T → Square
  --norm N          linf | l2 (default linf; fgsm implies linf, fgm and cw l2)
  --eps GRID        START:STOP:STEP (inclusive) or a comma list, ascending, each ≥ 0
                    (default 0.001:0.019:0.002; with --norm l2 that grid × √(3·224·224), the paper's)
  --eps-units U     normalized (default, as in sweep and analyze; the paper's units: ε_pixel = ε · mean of
                    the model's std, 0.226 for ImageNet; the reference's ≈ 0.225) | pixel (images in [0, 1])
  --cw-steps N      Adam steps per CW binary-search step (default 10000)
  --cw-search N     CW binary-search steps (default 9)
  --n N             evaluate the first N points (default all)
  --batch B         points per GPU batch (default 32); the attacks use a smaller one when fewer points
                    are classified correctly (each step costs in proportion to the batch on a CPU adapter)
  --seed S          random starts and Square's draws (default 0)
  --transfer LIST   comma-separated checkpoints/run folders: score each ε's adversarial images (crafted on
                    --model) on these models too, giving the transfer matrix
  --check-n N       points for the extra masking probes, PGD runs on the first N clean-correct points:
                    doubled steps, a very large ε, the smallest ε afresh, white-box on each --transfer
                    model. 0 skips them (default 32). The other checks use the sweep itself. Comparisons of
                    attacks fail only when an exact McNemar test on the per-image outcomes is significant
                    (α 0.05, Bonferroni); failures are printed to stderr in a banner, inversions within
                    chance as one 'note' line, and all are recorded in the report's 'checks'.
  --out FILE.json   report (required); the CSV goes to FILE.csv
  --quiet           no progress bars
  -h, --help        this text`;

const FLAGS = {
  model: { type: "string" },
  data: { type: "string" },
  attack: { type: "string", default: "pgd" },
  norm: { type: "string", default: "linf" },
  eps: { type: "string" },
  "eps-units": { type: "string", default: "normalized" },
  n: { type: "string" },
  batch: { type: "string", default: "32" },
  seed: { type: "string", default: "0" },
  transfer: { type: "string" },
  "check-n": { type: "string", default: "32" },
  "cw-steps": { type: "string", default: "10000" },
  "cw-search": { type: "string", default: "9" },
  out: { type: "string" },
  quiet: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** The paper's L∞ grid (docs/method.md#robustness-evaluation); its L2 grid is this × √(3·224·224). */
const DEFAULT_GRID = "0.001:0.019:0.002";
const PAPER_L2_SCALE = Math.sqrt(3 * 224 * 224);

async function loadModel(gpu: Gpu, path: string, flag: string, batch: number) {
  const file = await forFlag(`--${flag}`, () => checkpointPath(path));
  const checkpoint = await loadCheckpoint(file);
  const model = await createAttackModel(gpu, checkpoint.config, checkpoint.weights, batch);
  if (model.inputShape[0] < batch && flag === "model") {
    console.log(
      `attack: --batch ${batch} runs as GPU batches of ${model.inputShape[0]} (a larger batch would exceed ` +
        `this adapter's storage binding limit)`,
    );
  }
  return { file, config: checkpoint.config, weights: checkpoint.weights, ops: await AttackOps.create(model) };
}

const CSV_COLUMNS = [
  "attack",
  "norm",
  "eps",
  "eps_pixel",
  "n",
  "clean_accuracy",
  "robust_accuracy",
  "attacked",
  "max_norm",
  "median_norm",
  "evaluations",
  "seconds",
  "out_of_bounds",
] as const;

/** The report's rows as CSV (one line per attack × ε; transfer accuracies as extra columns). */
export function toCsv(rows: readonly SweepRow[], targets: readonly string[]): string {
  const header = [...CSV_COLUMNS, ...targets.map((t) => `transfer:${t}`)];
  const quote = (v: unknown) => {
    const text = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = rows.map((r) =>
    [...CSV_COLUMNS.map((c) => r[c]), ...targets.map((t) => r.transfer?.[t])].map(quote).join(",")
  );
  return [header.map(quote).join(","), ...lines].join("\n") + "\n";
}

async function main(): Promise<void> {
  const { values } = parseFlags(Deno.args, FLAGS);
  if (values.help) {
    console.log(HELP);
    return;
  }
  const required = (name: "model" | "data" | "out") => {
    const value = values[name];
    if (typeof value !== "string" || value === "") throw new UsageError(`--${name} is required (see --help)`);
    return value;
  };
  const modelPath = required("model"), dataSpec = required("data"), out = required("out");
  await checkOutputPath(out, "--out", "file");
  const norm = values.norm as string;
  if (norm !== "linf" && norm !== "l2") throw new UsageError(`--norm: expected linf or l2, got '${norm}'`);
  const units = values["eps-units"] as string;
  if (units !== "pixel" && units !== "normalized") {
    throw new UsageError(`--eps-units: expected pixel or normalized, got '${units}'`);
  }
  const names = (values.attack as string).split(",").map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError("--attack: no attack given");
  const batch = numberFlag("batch", values.batch, { min: 1, integer: true });
  const seed = numberFlag("seed", values.seed, { integer: true });
  const checkN = numberFlag("check-n", values["check-n"], { min: 0, integer: true });
  const cw = {
    steps: numberFlag("cw-steps", values["cw-steps"], { min: 1, integer: true }),
    binarySearchSteps: numberFlag("cw-search", values["cw-search"], { min: 1, integer: true }),
  };
  const limit = values.n === undefined ? undefined : numberFlag("n", values.n, { min: 1, integer: true });
  // One ε grid serves one threat model, so every attack of a run must share it.
  const threat = attackNorm(names[0], norm);
  const other = names.find((name) => attackNorm(name, norm) !== threat);
  if (other) {
    throw new UsageError(
      `--attack: ${names[0]} and ${other} use different norms; run L∞ and L2 attacks separately (--norm)`,
    );
  }
  const grid = forFlag("--eps:", () =>
    parseEpsGrid(
      (values.eps as string | undefined) ??
        (threat === "l2"
          ? parseEpsGrid(DEFAULT_GRID).map((e) => Number((e * PAPER_L2_SCALE).toPrecision(6))).join(",")
          : DEFAULT_GRID),
    ));
  // Resolve attack names before any loading so that a typo fails fast (classes are checked again below).
  for (const name of names) forFlag("--attack:", () => attackUnit(name, threat, 1000));

  const gpu = await getGpu();
  const source = await loadModel(gpu, modelPath, "model", batch);
  const model = source.ops.model;
  const data = await forFlag("--data", () => loadDataset(dataSpec, model, limit));
  const std = (source.config as ModelConfig).std ?? IMAGENET_STD;
  const scale = units === "normalized" ? std.reduce((a, b) => a + b, 0) / std.length : 1;
  const transfer: TransferTarget[] = [];
  for (const path of (values.transfer as string | undefined)?.split(",").filter(Boolean) ?? []) {
    const target = await loadModel(gpu, path, "transfer", batch);
    const [, c, h, w] = target.ops.model.inputShape;
    if (c * h * w !== data.dim || target.ops.model.classes !== model.classes) {
      throw new UserError(
        `--transfer ${path}: takes ${c}×${h}×${w} images and ${target.ops.model.classes} classes, unlike --model`,
      );
    }
    transfer.push({ name: path, ops: target.ops });
  }

  const correct = await cleanCorrect(source.ops, data);
  // Only correctly classified points are attacked; on a CPU adapter a step costs in proportion to the fixed GPU
  // batch, so a batch larger than those points would pay for padding rows.
  const toAttack = correct.reduce((a, b) => a + b, 0);
  const gpuBatch = source.ops.batch;
  const attackBatch = toAttack > 0 && toAttack < gpuBatch ? toAttack : gpuBatch;
  const ops = attackBatch === gpuBatch
    ? source.ops
    : await AttackOps.create(await createAttackModel(gpu, source.config, source.weights, attackBatch));
  const rows: SweepRow[] = [];
  const kinds: Record<string, AttackKind> = {};
  const omitted: Record<string, string[]> = {};
  for (const name of names) {
    const unit = forFlag("--attack:", () => attackUnit(name, threat, model.classes, cw));
    kinds[unit.name] = unit.kind;
    if (unit.omitted.length) {
      omitted[unit.name] = unit.omitted;
      console.error(`attack: ${unit.name} runs without ${unit.omitted.join("; ")}`);
    }
    rows.push(
      ...await sweep(ops, data, correct, unit, {
        eps: grid.map((e) => e * scale),
        epsReported: grid,
        seed,
        progress: progressReporter("attack", values.quiet as boolean),
        transfer,
      }),
    );
  }
  const smallest = grid.find((e) => e > 0);
  const probes = checkN > 0
    ? await probe(ops, data, correct, {
      norm: threat,
      eps: grid[grid.length - 1] * scale,
      smallEps: smallest === undefined ? null : smallest * scale,
      points: checkN,
      seed,
      transfer,
    })
    : null;
  const checks = computeChecks(rows, kinds, probes);
  const targets = transfer.map((t) => t.name);
  const transferClean: Record<string, number> = {};
  for (const target of transfer) {
    transferClean[target.name] = (await cleanCorrect(target.ops, data)).reduce((a, b) => a + b, 0) /
      data.count;
  }
  const report = {
    model: source.file,
    data: dataSpec,
    n: data.count,
    norm: threat,
    eps_units: units,
    eps_scale: scale,
    box: source.ops.box,
    seed,
    batch: attackBatch,
    adapter: gpu.description,
    attacks: names,
    omitted,
    // per point, in data order: "1" where classified correctly when clean (rows carry robust_points)
    clean_points: bitString(correct),
    rows,
    ...(transfer.length
      ? {
        transfer: {
          source: source.file,
          targets,
          clean_accuracy: transferClean,
          matrix: rows.map((r) => ({
            attack: r.attack,
            eps: r.eps,
            source: r.robust_accuracy,
            ...r.transfer,
          })),
        },
      }
      : {}),
    probes,
    checks,
  };
  const csvPath = out.replace(/\.json$/i, "") + ".csv";
  await writeFileAtomic(out, JSON.stringify(report, null, 2) + "\n");
  await writeFileAtomic(csvPath, toCsv(rows, targets));
  for (const r of rows) {
    console.log(
      `${r.attack.padEnd(10)} ε=${String(r.eps).padEnd(8)} clean ${(100 * r.clean_accuracy).toFixed(2)}%  ` +
        `robust ${(100 * r.robust_accuracy).toFixed(2)}%  ${r.seconds.toFixed(1)}s`,
    );
  }
  console.log(`attack: wrote ${out} and ${csvPath}`);
  const notes = notesLine(checks);
  if (notes) console.error(`attack: ${notes} (see the report's 'checks')`);
  const banner = failureBanner(checks);
  if (banner) console.error(banner);
}

if (import.meta.main) await runMain("attack", main);
