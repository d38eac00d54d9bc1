/**
 * Writes a results folder's report: `report.md`, `tables/*.csv`, `figures/*.svg` + `*.png`, every file
 * atomically. Absent parts are reported as "not available" with the reason.
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { type ChartOptions, renderSvg, svgToPng } from "../plot/mod.ts";
import { collectResults, orderModels, type Results } from "./collect.ts";
import { configOf, type MatchedResults, matchedResults } from "./matched.ts";
import { mean } from "./stats.ts";
import { type ControlsVerdict, controlsVerdict, DESIGN_TEXT } from "./controls.ts";
import type { ModelSpec } from "../sweep/grid.ts";
import { modelEpochs, type SweepSettings } from "../sweep/plan.ts";
import type { GateVerdict } from "../sweep/gate.ts";
import { paperDeviations } from "../sweep/presets.ts";
import {
  brainRsaChart,
  brainRsaMatrix,
  ckaChart,
  gainChart,
  landscapeChart,
  manifoldChart,
  mdsChart,
  robustChart,
  rsaChart,
  shapeBiasChart,
  smoothnessChart,
  transferChart,
} from "./figures.ts";
import {
  attackNames,
  curves,
  fmt,
  gainsOverNone,
  hierarchyTrend,
  landscapeSlice,
  landscapeTable,
  manifoldPoints,
  matrixTable,
  modelTable,
  referenceAttack,
  robustTable,
  smoothnessTable,
  type Table,
  toCsv,
  toMarkdown,
  transferMatrix,
  transferTable,
} from "./tables.ts";

/** Files written, relative to the folder. */
export interface ReportOutput {
  files: string[];
  results: Results;
}

/**
 * Builds the report of `dir` (a `deno task sweep` folder, or any folder with the same layout).
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir(); // an empty results folder: every section says "not available"
 * const { files } = await writeReport(dir); // ["report.md"]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeReport(
  dir: string,
  onFile: (file: string) => void = () => {},
): Promise<ReportOutput> {
  const results = await collectResults(dir);
  const files: string[] = [];
  const write = async (file: string, data: string | Uint8Array) => {
    await writeFileAtomic(join(dir, file), data);
    files.push(file);
    onFile(file);
  };
  const table = async (name: string, t: Table) => {
    await write(`tables/${name}.csv`, toCsv(t));
    return `${toMarkdown(t)}\n\n(CSV: tables/${name}.csv)`;
  };
  const figure = async (name: string, chart: ChartOptions) => {
    const svg = renderSvg(chart);
    await write(`figures/${name}.svg`, svg);
    await write(`figures/${name}.png`, await svgToPng(svg, 1280));
    return `![${chart.title ?? name}](figures/${name}.png) ([SVG](figures/${name}.svg))`;
  };
  const na = (why: string) => `_not available: ${why}_`;

  const md: string[] = [`# Sweep report: ${dir}`, ""];
  md.push(
    `Models (${results.models.length}), in ROI-hierarchy order: ${
      results.models.map((m) => m.name).join(", ") || "none"
    }.`,
    "",
  );
  if (results.skipped.length) {
    md.push(
      "Stages not run by the sweep:",
      ...results.skipped.map((s) => `- ${s}`),
      "",
    );
  }

  const plan = await readPlan(dir);
  const reference = referenceAttack(results);
  const matched = reference ? await matchedResults(dir, reference, plan) : null;
  md.push(...settingsHeader(plan, matched?.configs[0]?.images ?? plan?.settings?.attackN ?? null));
  md.push(...gateBanner(matched?.gate ?? null, results));
  const controls = matched &&
    controlsVerdict(matched.configs, plan?.models ?? [], matched.gate, matched.shamContrasts);
  md.push(...await statisticsSection(matched, controls, results, { table, na }));

  md.push("## Models: clean accuracy and neural fit", "");
  md.push(results.models.length ? await table("models", modelTable(results)) : na("no model summaries"), "");

  md.push("## Adversarial robustness", "");
  const attacks = attackNames(results);
  if (attacks.length === 0) md.push(na("no attack results under attacks/"), "");
  for (const attack of attacks) {
    md.push(`### ${attack}`, "");
    const slug = attack.replace(/[^A-Za-z0-9_-]+/g, "_");
    md.push(await table(`robust_${slug}`, robustTable(results, attack)), "");
    md.push(
      await figure(`robust_${slug}`, robustChart(attack, curves(results, attack), results.epsUnits)),
      "",
    );
    const gains = gainsOverNone(results, attack);
    if (!gains) {
      md.push(`Gain over None: ${na("no None model attacked with " + attack)}`, "");
      continue;
    }
    md.push(
      "Max robust-accuracy gain over None (across ε; a seed's model against the None of its seed):",
      "",
    );
    md.push(
      await table(`gain_${slug}`, {
        header: ["model", "max_gain", "at_eps"],
        rows: gains.map((g) => [g.model, g.gain, g.eps]),
      }),
      "",
    );
    md.push(await figure(`gain_${slug}`, gainChart(attack, gains)), "");
    const trend = hierarchyTrend(gains);
    md.push(
      trend
        ? `Gain along the hierarchy V1 → TO (${trend.n} ROIs): Spearman ρ = ${fmt(trend.rho)} ` +
          `(${trend.rho > 0 ? "rises" : trend.rho < 0 ? "falls" : "flat"} toward TO).`
        : `Gain along the hierarchy: ${na("fewer than 3 of V1 … TO attacked")}`,
      "",
    );
  }

  md.push(...await analysisSections(results, { table, figure, na }));
  if (results.missing.length) {
    md.push(
      "## Unreadable or missing inputs",
      "",
      ...results.missing.map((m) => `- ${m}`),
      "",
    );
  }
  await write("report.md", md.join("\n"));
  return { files, results };
}

/** The sweep's plan (settings and grid), when the folder has one. */
async function readPlan(dir: string): Promise<{ models?: ModelSpec[]; settings?: SweepSettings } | null> {
  try {
    return JSON.parse(await Deno.readTextFile(join(dir, "plan.json")));
  } catch {
    return null;
  }
}

/** What differs from the paper (the sweep's settings against the paper's), at the top of the report. */
function settingsHeader(
  plan: { models?: ModelSpec[]; settings?: SweepSettings } | null,
  images: number | null,
): string[] {
  if (!plan?.settings) return ["Settings: _not available: no plan.json (not a deno task sweep folder)_", ""];
  const models = plan.models ?? [];
  const seeds = new Set(models.map((m) => m.seed ?? plan.settings!.seed)).size;
  const lines = paperDeviations(plan.settings, images, seeds);
  // a grid model may train its own epochs (a None ladder trained longer than the rest)
  const byEpochs = Map.groupBy(models, (m) => modelEpochs(m, plan.settings!));
  byEpochs.delete(plan.settings.epochs);
  for (const [epochs, group] of byEpochs) {
    lines.push(`epochs ${epochs} instead for ${group.map((m) => m.name).join(", ")}`);
  }
  return [
    "Settings that differ from the paper's (scaled down or changed):",
    ...lines.map((l) => `- ${l}`),
    "",
  ];
}

/** A failed (or absent) gate in front of predictor-guided models, said loudly. */
function gateBanner(gate: GateVerdict | null, results: Results): string[] {
  const guided = results.models.some((m) => m.roi && !["none", "random"].includes(m.roi));
  if (gate?.pass) {
    return [
      `Gate passed: every predictor reaches ${gate.fraction} × its noise-ceiling r` +
      (gate.orderingChecked ? " and the predictors' sensitivities are ordered like the ROIs'." : "; " +
        gate.reasons.join("; ") + "."),
      "",
    ];
  }
  if (!gate && !guided) return [];
  const why = gate ? gate.reasons.map((r) => `> - ${r}`) : ["> - no gate.json: the gate did not run"];
  return [
    "> **⚠ THE HIERARCHY TEST IS UNINTERPRETABLE.** The predictors did not pass the gate in front of the",
    "> paper's pipeline, so gains of predictor-guided models (and their order V1 → TO) say nothing about the",
    "> ROIs:",
    ...why,
    "",
  ];
}

/**
 * Clean/robust accuracy, normalize_acc, matched gains with CIs, the pre-registered controls' verdict and the
 * hierarchy trend.
 */
async function statisticsSection(
  matched: MatchedResults | null,
  controls: ControlsVerdict | null,
  results: Results,
  { table, na }: Pick<Writers, "table" | "na">,
): Promise<string[]> {
  const md = ["## Robustness at matched clean accuracy", ""];
  if (!matched) return [...md, na("no per-image attack outcomes (attack reports without robust_points)"), ""];
  md.push(
    `Attack ${matched.attack}; robust accuracy = mean over the ε grid (per image: the fraction of ε it ` +
      "survives); seeds pooled. Gain = robust accuracy − the None ladder's robust accuracy interpolated at the " +
      "model's clean accuracy; 95% percentile-bootstrap CI over images and seeds (2000 replicates).",
    "",
    await table("statistics", {
      header: [
        "config",
        "seeds",
        "images",
        "clean_accuracy",
        "robust_accuracy",
        "robust_over_clean",
        "normalize_acc",
        "none_at_matched_clean",
        "matched_gain",
        "gain_ci_low",
        "gain_ci_high",
        "masking_checks",
      ],
      rows: matched.configs.map((c) => [
        c.config,
        `${c.seeds}`,
        `${c.images}`,
        c.clean,
        c.robust,
        c.robustOverClean,
        c.normalizeAcc,
        c.baseline,
        c.gain,
        c.ci?.lo ?? null,
        c.ci?.hi ?? null,
        c.failedChecks === null
          ? "not run"
          : c.failedChecks.length
          ? `FAILED: ${c.failedChecks.join(", ")}`
          : "passed",
      ]),
    }),
    "",
  );
  if (matched.ladder.length) {
    md.push(
      "None ladder (clean, robust) by epoch: " +
        matched.ladder.map((p) => `${p.epoch}: (${fmt(p.clean)}, ${fmt(p.robust)})`).join(", ") +
        `; its models: ${matched.ladderModels.join(", ")}.`,
      "",
    );
  }
  if (controls) md.push(...await controlsSection(controls, table));
  for (const c of matched.shamContrasts) {
    md.push(
      `What the invariance demand adds on ${c.roi}: gain ${c.to} − gain ${c.from} = ` +
        `${fmt(c.difference)}, 95% bootstrap CI [${fmt(c.ci.lo)}, ${fmt(c.ci.hi)}].`,
      "",
    );
  }
  md.push(...await movementSection(results, table));
  for (const { alpha, contrast } of matched.trends) {
    if (!contrast) continue;
    md.push(
      `Gain ${contrast.to} − gain ${contrast.from} (α ${alpha}) = ${
        fmt(contrast.difference)
      }, 95% bootstrap CI ` +
        `[${fmt(contrast.ci.lo)}, ${fmt(contrast.ci.hi)}].`,
      "",
    );
  }
  for (const { alpha, trend } of matched.trends) {
    md.push(
      trend
        ? `Hierarchy (α ${alpha}, ${trend.rois.join(" → ")}): Spearman ρ of position vs matched gain = ` +
          `${fmt(trend.rho)}, permutation p = ${fmt(trend.p)}` +
          (trend.ci ? `, 95% bootstrap CI [${fmt(trend.ci.lo)}, ${fmt(trend.ci.hi)}]` : "") + "."
        : `Hierarchy (α ${alpha}): ${na("fewer than 3 ROIs with a matched gain")}`,
      "",
    );
  }
  if (matched.notes.length) md.push(...matched.notes.map((n) => `- ${n}`), "");
  return md;
}

/**
 * The sham models' movement under δ (README, amendment 4), seeds pooled: does the ROI's response move less
 * than the student's head? Empty when no model logged it.
 */
async function movementSection(results: Results, table: Writers["table"]): Promise<string[]> {
  const byConfig = new Map<string, { head: number; target: number }[]>();
  for (const m of results.models) {
    if (m.movement) byConfig.set(configOf(m.name), [...byConfig.get(configOf(m.name)) ?? [], m.movement]);
  }
  if (byConfig.size === 0) return [];
  const rows = [...byConfig].map(([config, moves]) => {
    const head = mean(moves.map((m) => m.head)), target = mean(moves.map((m) => m.target));
    return [config, `${moves.length}`, head, target, target / head];
  });
  return [
    "### Movement under δ",
    "",
    "Per image, the L2 distance the student's neural head moved under its δ, ‖head(x + δ) − head(x)‖, and " +
    "the ROI's target, ‖brain(x + δ) − brain(x)‖, in the prepared PCA's units; mean over training batches, " +
    "epochs and seeds (`train_head_move`, `train_target_move`).",
    "",
    await table("movement", {
      header: ["config", "seeds", "head_move", "target_move", "target_over_head"],
      rows,
    }),
    "",
  ];
}

/** The pre-registered controls against their expected outcomes, and whether the guided comparison is read. */
async function controlsSection(
  controls: ControlsVerdict,
  table: Writers["table"],
): Promise<string[]> {
  const md = [
    "### Controls (pre-registered in the README)",
    "",
    await table("controls", {
      header: [
        "control",
        "config",
        "counted",
        "expected",
        "matched_gain",
        "gain_ci_low",
        "gain_ci_high",
        "result",
      ],
      rows: controls.checks.map((c) => [
        c.role,
        c.config,
        c.counted ? "yes" : "no",
        c.expected,
        c.gain,
        c.ci?.lo ?? null,
        c.ci?.hi ?? null,
        c.outcome === "holds" ? "holds" : `${c.outcome.toUpperCase()}: ${c.why}`,
      ]),
    }),
    "",
  ];
  const superseded = controls.checks.filter((c) => !c.counted);
  if (superseded.length) {
    const designs = [...new Set(superseded.map((c) => c.design!))].map((d) => `${d}: ${DESIGN_TEXT[d]}`);
    md.push(
      `Not counted: ${superseded.map((c) => c.config).join(", ")}, earlier designs that the README's ` +
        `amendments replaced (${designs.join("; ")}); shown for the record.`,
      "",
    );
  }
  if (controls.checks.some((c) => c.pair)) {
    md.push(
      "The head-only construction counts through its pair (README, amendment 5): gain head − gain sham, the " +
        "difference of their matched gains on the same resampled images and seeds; the sham is trained alike " +
        "but its target moves under δ as the student's head does. The two models' own gains are in the table " +
        "above, not counted.",
      "",
    );
  }
  if (controls.missing.length) md.push(`Not in this grid: ${controls.missing.join(", ")}.`, "");
  const failed = controls.checks.filter((c) => c.counted && c.outcome !== "holds");
  if (controls.readable) {
    md.push(
      "Every counted control in the grid holds (and the gate passed): the predictor-guided comparison below " +
        "can be read.",
    );
  } else {
    const has = (outcome: string, negative: boolean) =>
      failed.some((c) => c.outcome === outcome && (c.role === "negative") === negative);
    const consequences = [
      has("fails", false) &&
      "A positive control failed: this grid cannot detect a gain of that size, and the gains below are not " +
        'evidence of "no effect".',
      has("fails", true) &&
      "A negative control shows a gain: a gain below may be an artefact of the pipeline.",
      failed.some((c) => c.outcome === "untestable") &&
      "A control without a matched gain cannot be judged: the None ladder must reach its clean accuracy " +
        "(train the ladder's None models longer).",
      failed.length === 0 && "The gate did not pass.",
    ].filter(Boolean);
    md.push(
      "> **⚠ THE PREDICTOR-GUIDED RESULT IS INCONCLUSIVE.** The pre-registration reads it only when every " +
        "counted control holds and the gate passes. " + failed.map((c) =>
          `${c.config} (${c.role}): ${c.why}. `
        ).join("") +
        consequences.join(" "),
    );
  }
  md.push("");
  return md;
}

/** The report's writers, shared by the sections. */
interface Writers {
  table: (name: string, t: Table) => Promise<string>;
  figure: (name: string, chart: ChartOptions) => Promise<string>;
  na: (why: string) => string;
}

/** Smoothness, landscapes, transfer, RSA, CKA, shape bias and manifold geometry (each "not available" when absent). */
async function analysisSections(results: Results, { table, figure, na }: Writers): Promise<string[]> {
  const md: string[] = [];
  md.push("## Output-surface smoothness", "");
  if (results.smoothness.size) {
    md.push(await table("smoothness", smoothnessTable(results)), "");
    md.push(await figure("smoothness", smoothnessChart(results.smoothness, results.epsUnits)), "");
  } else md.push(na("no analyses/smoothness/<model>.json"), "");

  md.push("## Loss landscapes", "");
  if (results.landscape.size) {
    md.push(
      "Means over the inputs; rise = largest loss on the plane − loss at the input (lower: flatter).",
      "",
      await table("landscape", landscapeTable(results)),
      "",
    );
    const slices = new Map([...results.landscape].map(([model, r]) => [model, landscapeSlice(r)]));
    const directions = [...new Set([...results.landscape.values()].map((r) => r.directions))].join(" / ");
    md.push(await figure("landscape", landscapeChart(slices, directions)), "");
  } else md.push(na("no analyses/landscape/<model>.json"), "");

  md.push("## Transfer", "");
  const transfer = transferMatrix(results);
  if (transfer) {
    md.push(
      `Robust accuracy of each target on PGD adversarials crafted on the source, ε = ${transfer.eps} ` +
        "(diagonal: the source itself, white-box). Every ε: tables/transfer.csv.",
      "",
      await table("transfer_matrix", matrixTable(transfer.matrix, "source / target")),
      "",
    );
    await table("transfer", transferTable(results));
    md.push(await figure("transfer", transferChart(transfer.eps, transfer.matrix)), "");
  } else md.push(na("no analyses/transfer/<model>.json with a common ε"), "");

  md.push("## Representational analyses", "", "### RSA", "");
  if (results.rsa) {
    md.push(await table("rsa", matrixTable(results.rsa.modelByModel, "input")), "");
    md.push(await figure("rsa", rsaChart(results.rsa)), "");
    md.push(
      results.rsa.mds && Object.keys(results.rsa.mds).length
        ? await figure("mds", mdsChart(results.rsa.mds))
        : `MDS: ${na("analyses/rsa.json has no MDS (deno task analyze rsa --mds 2)")}`,
      "",
    );
  } else md.push(na("no analyses/rsa.json"), "");

  md.push("### RSA: models × ROIs", "");
  if (results.brainRsa) {
    md.push(
      `Each model's avgpool RDM against each ROI's RDM (PCA scores) on the ROI files' validation stimuli ` +
        `(${results.brainRsa.compare} correlation of the RDMs; higher: more brain-like geometry).`,
      "",
      await table("brain_rsa", matrixTable(brainRsaMatrix(results.brainRsa), "model / ROI")),
      "",
      await figure("brain_rsa", brainRsaChart(results.brainRsa)),
      "",
    );
  } else md.push(na("no analyses/brain_rsa.json (sweep analysis brain-rsa)"), "");

  md.push("### CKA", "");
  if (results.cka) {
    md.push(await table("cka", matrixTable(results.cka, "input")), "");
    md.push(await figure("cka", ckaChart(results.cka)), "");
  } else md.push(na("no analyses/cka.json"), "");

  md.push("### Shape bias", "");
  const bias = orderModels([...results.shapeBias.keys()]).flatMap((model) => {
    const value = results.shapeBias.get(model);
    return value === null || value === undefined ? [] : [{ model, shapeBias: value }];
  });
  if (results.shapeBias.size) {
    md.push(
      await table("shape_bias", {
        header: ["model", "shape_bias"],
        rows: orderModels([...results.shapeBias.keys()]).map((m) => [m, results.shapeBias.get(m) ?? null]),
      }),
      "",
    );
    if (bias.length) md.push(await figure("shape_bias", shapeBiasChart(bias)), "");
  } else md.push(na("no analyses/shape_bias/<model>.json"), "");

  md.push("### Manifold geometry", "");
  const attack = referenceAttack(results);
  const points = manifoldPoints(results, attack);
  if (points.length) {
    md.push(
      await table("manifold", {
        header: [
          "input",
          "capacity",
          "radius",
          "dimension",
          "readout_accuracy",
          `max_gain_${attack ?? "none"}`,
        ],
        rows: points.map((p) => [p.input, p.capacity, p.radius, p.dimension, p.readoutAccuracy, p.gain]),
      }),
      "",
    );
    if (attack && points.some((p) => p.gain !== null)) {
      for (const metric of ["capacity", "radius"] as const) {
        md.push(await figure(`manifold_${metric}`, manifoldChart(points, metric, attack)), "");
      }
    } else {md.push(
        `Geometry vs robustness: ${na("no gain over None (needs a None model and an attack)")}`,
        "",
      );}
  } else md.push(na("no analyses/manifold.json"), "");
  return md;
}
