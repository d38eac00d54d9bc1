/**
 * `deno task analyze <kind> …`: representational-geometry analyses over feature files (RSA, CKA, manifold
 * geometry, shape bias) and model-side analyses (features, smoothness, landscapes, shape bias from a model).
 * Writes JSON plus a CSV beside it (features: a safetensors file), atomically. See `--help`.
 * @module
 */
import { analysisHeadline } from "../lib/analysis/headline.ts";
import { forFlag, numberFlag, parseFlags } from "../lib/cli/args.ts";
import { UsageError, UserError } from "../lib/errors.ts";
import { runMain } from "../lib/cli/main.ts";
import { checkOutputPath } from "../lib/io/output_path.ts";
import {
  centredGram,
  ckaFromGrams,
  classicalMds,
  COMPARE_METHODS,
  type CompareMethod,
  compareRdmSets,
  type CueConflictTrial,
  cueConflictTrials,
  type GramOptions,
  landscape,
  LANDSCAPE_DIRECTIONS,
  linearSeparability,
  manifoldAnalysis,
  type Matrix,
  modelFeatures,
  type NamedMatrix,
  rdm,
  RDM_METHODS,
  type RdmMethod,
  readFeatures,
  readLabels,
  selectRows,
  shapeBias,
  smoothness,
} from "../lib/analysis/mod.ts";
import { getGpu, type Gpu } from "../lib/gpu/device.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { type TensorInput, writeSafetensors } from "../lib/io/safetensors.ts";
import { createAttackModel } from "../lib/attacks/model.ts";
import { type DatasetModel, loadDataset } from "../lib/attacks/dataset.ts";
import type { Dataset } from "../lib/attacks/evaluate.ts";
import { parseEpsGrid } from "../lib/attacks/eps_grid.ts";
import { AttackOps } from "../lib/attacks/ops.ts";
import { type Checkpoint, checkpointPath, loadCheckpoint } from "../lib/nn/checkpoint.ts";
import { IMAGENET_STD } from "../lib/nn/models.ts";
import { Plan } from "../lib/nn/plan.ts";
import { readPreparedTargets } from "../lib/data/nsd/prepared.ts";
import { readStimuli } from "../lib/data/nsd/stimuli.ts";
import { nsdPaths } from "../lib/data/nsd/paths.ts";
import { largestFittingBatch } from "../lib/nn/micro_batch.ts";
import { openImageFolder } from "../lib/data/images/mod.ts";

const KINDS = ["rsa", "cka", "manifold", "shape-bias", "features", "smoothness", "landscape"] as const;
type Kind = typeof KINDS[number];

const HELP = `deno task analyze <kind> [options] --out FILE.json

Representational-geometry analyses. Writes FILE.json and FILE.csv (atomically).

Feature sources (SPEC): FILE.safetensors[:TENSOR] (without TENSOR: every tensor of rank ≥ 2, each an input;
rank > 2 is flattened to stimuli × features) or FILE.h5[:DATASET] (a prepared-ROI file from nsd-prep;
default dataset 'val'). Every input of one run must list the same stimuli in the same order (for ROI files:
the file's val_ids order).

Kinds:
  rsa         RDM per input, then comparison matrices (rsatoolbox definitions)
                --features SPEC   (repeatable) model features; compared model × model
                --roi SPEC        (repeatable) brain data; adds a model × ROI matrix
                --distance D      ${
  RDM_METHODS.join(" | ")
} (default correlation; euclidean = squared/channels)
                --compare M       ${COMPARE_METHODS.join(" | ")}
                                  (default spearman)
                --mds K           also write K classical-MDS coordinates of each RDM's stimuli (default 0)
  cka         linear and unbiased CKA matrices (model × model, model × ROI); --features, --roi as above
  manifold    per-class MFTMA capacity, radius, dimension + linear-readout accuracy, per --features input
                --features SPEC   (repeatable)
                --labels SPEC     FILE.safetensors:TENSOR (integer, one per stimulus) or FILE.json (array)
                --kappa K         margin (default 0)        --nt N   t-vectors per class (default 200)
                --per-class N     use the first N stimuli of each class (default all)
                --test-fraction F held-out fraction for the readout (default 0.25)
                --ridge R         relative ridge penalty (default 1e-3)
                --seed S          seed of t-vectors and split (default 0)
  shape-bias  Geirhos cue-conflict shape bias from decisions, either read or made by a model
                --predictions F   CSV with header columns 'file' and 'decision' (class name or index)
                --model M --cue-conflict DIR   instead: the model's arg-max on
                                  DIR/<shape>/<shape><i>-<tex><j>.png
                --classes LIST    comma-separated class names (maps numeric decisions and the model's
                                  outputs; default with --cue-conflict: DIR/classes.txt)

Model-side kinds (--model RUN|CKPT: a checkpoint or a run folder holding model.safetensors; --data sim-val |
sim:DIR | imagefolder:DIR | cifar100:DIR | FILE.safetensors with 'images' and 'labels'; --n N first images):
  features    eval-mode features → --out FILE.safetensors: avgpool (pooled penultimate), logits,
              neural_head (when present), each [N, width], and labels [N] (for manifold --labels F:labels)
                --layers          also layer1… (ResNet stage outputs, averaged over space)
                --stimuli ROI.h5  instead of --data: the prepared ROI file's validation stimuli, in its
                                  val_ids order, so that rsa/cka --roi ROI.h5 can compare the model with
                                  the brain (writes stimulus_ids [N] instead of labels)
                --nsd DIR         with --stimuli: the NSD (or simulated world) folder the ROI file was
                                  prepared from, holding nsd_stimuli.hdf5 (default data/sim)
  smoothness  L∞ PGD (rel_stepsize 0.01, 40 steps, random start) at each ε, then mean ‖∇ₓCE‖₂² × 2 × 200 at
              the adversarial point (docs/method.md#smoothness); ε = 0 is the clean point
                --eps LIST        comma list or START:STOP:STEP (default 0.08,0.12,0.18,0.26,0.38)
                --eps-units U     normalized (default: ε × the model's mean std, as the reference) | pixel
  landscape   CE loss and true-class logit margin on a grid × grid plane around each of --n inputs (default 8)
                --grid G          points per axis (default 21)
                --span S          half-width, pixel units (default 0.1)
                --directions D    ${LANDSCAPE_DIRECTIONS.join(" | ")} (default adv-rand; sign vectors)
  --batch B   fixed GPU batch (default 32)        --seed S   PGD start / random directions (default 0)

Common:
  --out FILE.json   results (required); the CSV goes to FILE.csv (features: FILE.safetensors)
  --device D        auto (GPU for large Gram products on a hardware adapter; float64 CPU otherwise) |
                    gpu (always, even a software adapter) | cpu (float64 only). Default auto
  -h, --help        this text

Exit codes: 0 ok, 1 data error (one line naming the file), 2 usage error.`;

const FLAGS = {
  features: { type: "string", multiple: true },
  roi: { type: "string", multiple: true },
  distance: { type: "string", default: "correlation" },
  compare: { type: "string", default: "spearman" },
  mds: { type: "string", default: "0" },
  labels: { type: "string" },
  kappa: { type: "string", default: "0" },
  nt: { type: "string", default: "200" },
  "per-class": { type: "string" },
  "test-fraction": { type: "string", default: "0.25" },
  ridge: { type: "string", default: "1e-3" },
  seed: { type: "string", default: "0" },
  predictions: { type: "string" },
  classes: { type: "string" },
  model: { type: "string" },
  data: { type: "string" },
  n: { type: "string" },
  eps: { type: "string", default: "0.08,0.12,0.18,0.26,0.38" },
  "eps-units": { type: "string", default: "normalized" },
  grid: { type: "string", default: "21" },
  span: { type: "string", default: "0.1" },
  directions: { type: "string", default: "adv-rand" },
  "cue-conflict": { type: "string" },
  layers: { type: "boolean" },
  stimuli: { type: "string" },
  nsd: { type: "string" },
  batch: { type: "string", default: "32" },
  out: { type: "string" },
  device: { type: "string", default: "auto" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = Record<string, string | boolean | string[] | undefined>;

function choice<T extends string>(flags: Values, name: string, allowed: readonly T[]): T {
  const value = flags[name] as T;
  if (!allowed.includes(value)) {
    throw new UsageError(`--${name}: '${value}' is not one of ${allowed.join(", ")}`);
  }
  return value;
}

function list(flags: Values, name: string): string[] {
  return (flags[name] as string[] | undefined) ?? [];
}

async function readAll(specs: string[]): Promise<NamedMatrix[]> {
  return (await Promise.all(specs.map(readFeatures))).flat();
}

/** Checks that every input has the same stimulus count (rows), naming the first mismatch. */
function sameStimuli(inputs: NamedMatrix[]): void {
  const first = inputs[0];
  const other = inputs.find((x) => x.matrix.rows !== first.matrix.rows);
  if (other) {
    throw new UserError(
      `${other.source} has ${other.matrix.rows} stimuli but ${first.source} has ${first.matrix.rows}; ` +
        "every input must list the same stimuli",
    );
  }
}

/** `auto` uses the GPU only on a hardware adapter: on a software one the float64 CPU product is faster. */
async function gramOptions(device: string): Promise<GramOptions> {
  if (device === "cpu") return {};
  if (device === "gpu") return { gpu: await getGpu() };
  try {
    const gpu = await getGpu();
    return gpu.kind === "gpu" ? { gpu } : {};
  } catch {
    return {};
  }
}

/** Long-format CSV lines `row,column,value…` of same-shaped matrices (one value column per matrix). */
function csvLines(rows: string[], cols: string[], values: (number[][] | null)[]): string[] {
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  return rows.flatMap((r, i) =>
    cols.map((c, j) => [quote(r), quote(c), ...values.map((m) => m ? m[i][j] : "")].join(","))
  );
}

interface Output {
  json: Record<string, unknown>;
  csv: string;
}

async function runRsa(flags: Values, options: GramOptions): Promise<Output> {
  const method = choice(flags, "distance", RDM_METHODS) as RdmMethod;
  const compare = choice(flags, "compare", COMPARE_METHODS) as CompareMethod;
  const mdsDims = numberFlag("mds", flags.mds, { min: 0, integer: true });
  const models = await readAll(list(flags, "features")), rois = await readAll(list(flags, "roi"));
  sameStimuli([...models, ...rois]);
  const rdms = new Map<string, Float64Array>();
  for (const input of [...models, ...rois]) rdms.set(input.name, await rdm(input.matrix, method, options));
  const vectors = (inputs: NamedMatrix[]) => inputs.map((x) => rdms.get(x.name)!);
  const modelNames = models.map((x) => x.name), roiNames = rois.map((x) => x.name);
  const modelMatrix = compareRdmSets(vectors(models), vectors(models), compare);
  const roiMatrix = rois.length ? compareRdmSets(vectors(models), vectors(rois), compare) : null;
  const mds = mdsDims > 0
    ? Object.fromEntries([...rdms].map(([name, vector]) => {
      const { coordinates, eigenvalues } = classicalMds(vector, mdsDims);
      const n = coordinates.length / mdsDims;
      return [name, {
        eigenvalues: [...eigenvalues],
        coordinates: Array.from(
          { length: n },
          (_, i) => [...coordinates.subarray(i * mdsDims, (i + 1) * mdsDims)],
        ),
      }];
    }))
    : undefined;
  const csv = [
    `row,column,${compare}`,
    ...csvLines(modelNames, modelNames, [modelMatrix]),
    ...(roiMatrix ? csvLines(modelNames, roiNames, [roiMatrix]) : []),
  ];
  return {
    json: {
      distance: method,
      compare,
      modelByModel: { rows: modelNames, columns: modelNames, values: modelMatrix },
      ...(roiMatrix ? { modelByRoi: { rows: modelNames, columns: roiNames, values: roiMatrix } } : {}),
      ...(mds ? { mds } : {}),
    },
    csv: csv.join("\n") + "\n",
  };
}

async function runCka(flags: Values, options: GramOptions): Promise<Output> {
  const models = await readAll(list(flags, "features")), rois = await readAll(list(flags, "roi"));
  sameStimuli([...models, ...rois]);
  const n = models[0].matrix.rows;
  const grams = new Map<string, Float64Array>();
  for (const input of [...models, ...rois]) grams.set(input.name, await centredGram(input.matrix, options));
  const table = (rows: NamedMatrix[], cols: NamedMatrix[], unbiased: boolean) =>
    rows.map((a) => cols.map((b) => ckaFromGrams(grams.get(a.name)!, grams.get(b.name)!, n, unbiased)));
  const names = (inputs: NamedMatrix[]) => inputs.map((x) => x.name);
  const section = (rows: NamedMatrix[], cols: NamedMatrix[]) => ({
    rows: names(rows),
    columns: names(cols),
    linear: table(rows, cols, false),
    unbiased: n >= 4 ? table(rows, cols, true) : null,
  });
  const byModel = section(models, models), byRoi = rois.length ? section(models, rois) : null;
  const csv = ["row,column,linear,unbiased"];
  for (const block of byRoi ? [byModel, byRoi] : [byModel]) {
    csv.push(...csvLines(block.rows, block.columns, [block.linear, block.unbiased]));
  }
  return {
    json: { modelByModel: byModel, ...(byRoi ? { modelByRoi: byRoi } : {}) },
    csv: csv.join("\n") + "\n",
  };
}

async function runManifold(flags: Values): Promise<Output> {
  if (!flags.labels) throw new UsageError("manifold: --labels is required (see --help)");
  const kappa = numberFlag("kappa", flags.kappa);
  const nT = numberFlag("nt", flags.nt, { min: 1, integer: true });
  const seed = numberFlag("seed", flags.seed, { min: 0, max: 2 ** 32 - 1, integer: true });
  const perClass = flags["per-class"] === undefined
    ? Infinity
    : numberFlag("per-class", flags["per-class"], { min: 1, integer: true });
  const testFraction = numberFlag("test-fraction", flags["test-fraction"], { min: 1e-9, max: 1 - 1e-9 });
  const ridge = numberFlag("ridge", flags.ridge, { min: 1e-300 });
  const labels = await readLabels(flags.labels as string);
  const inputs = await readAll(list(flags, "features"));
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  const results: Record<string, unknown> = {};
  const csv = ["input,label,points,capacity,radius,dimension"];
  for (const input of inputs) {
    if (input.matrix.rows !== labels.length) {
      throw new UserError(
        `${input.source} has ${input.matrix.rows} stimuli but ${flags.labels} has ${labels.length} labels`,
      );
    }
    const members = classes.map((c) => [...labels.keys()].filter((i) => labels[i] === c).slice(0, perClass));
    const manifolds: Matrix[] = members.map((rows) => selectRows(input.matrix, rows));
    const summary = manifoldAnalysis(manifolds, { kappa, nT, seed });
    const used = members.flat().sort((a, b) => a - b);
    const readout = linearSeparability(selectRows(input.matrix, used), used.map((i) => labels[i]), {
      testFraction,
      ridge,
      seed,
    });
    const { perManifold, ...overall } = summary;
    results[input.name] = {
      ...overall,
      perClass: perManifold.map((g, i) => ({ label: classes[i], points: members[i].length, ...g })),
      separability: readout,
    };
    perManifold.forEach((g, i) =>
      csv.push([input.name, classes[i], members[i].length, g.capacity, g.radius, g.dimension].join(","))
    );
  }
  return { json: { labels: flags.labels, inputs: results }, csv: csv.join("\n") + "\n" };
}

/** Loads `--model` (a checkpoint or a run folder). */
async function modelFlag(flags: Values, kind: Kind): Promise<{ file: string; checkpoint: Checkpoint }> {
  if (!flags.model) throw new UsageError(`${kind}: --model is required (see --help)`);
  const file = await forFlag("--model", () => checkpointPath(flags.model as string));
  return { file, checkpoint: await loadCheckpoint(file) };
}

/** Loads `--data` at the model's input size. */
function dataFlag(flags: Values, model: DatasetModel, limit: number | undefined): Promise<Dataset> {
  return forFlag("--data", () => loadDataset(flags.data as string, model, limit));
}

/** A frozen eval-mode plan of the whole model (neural head included), for feature reads. */
async function featurePlan(gpu: Gpu, checkpoint: Checkpoint, batch: number): Promise<Plan> {
  const fitting = Math.min(batch, largestFittingBatch([checkpoint.config], gpu.bindingLimit));
  const plan = await Plan.create(gpu, checkpoint.config, fitting, { paramGrads: false });
  plan.loadStateDict(checkpoint.weights);
  return plan;
}

function planShape(plan: Plan) {
  const [n, c, h, w] = plan.model.graph.input.shape;
  return { inputShape: [n, c, h, w] as const, classes: plan.model.logits.shape[1] };
}

async function runFeatures(flags: Values, out: string): Promise<string> {
  const { file, checkpoint } = await modelFlag(flags, "features");
  const gpu = await getGpu(), batch = numberFlag("batch", flags.batch, { min: 1, integer: true });
  const limit = flags.n === undefined ? undefined : numberFlag("n", flags.n, { min: 1, integer: true });
  const plan = await featurePlan(gpu, checkpoint, batch);
  if (flags.stimuli) return await roiStimulusFeatures(flags, plan, file, out, limit);
  const data = await dataFlag(flags, planShape(plan), limit);
  const tables = await modelFeatures(plan, data.images, data.count, { stages: Boolean(flags.layers) });
  const tensors = new Map<string, TensorInput>(
    [...tables].map(([name, t]) => [name, { shape: [t.rows, t.cols], data: t.data }]),
  );
  tensors.set("labels", { shape: [data.count], data: Int32Array.from(data.labels) });
  await writeSafetensors(out, tensors);
  return `${[...tables.keys()].join(", ")} of ${data.count} images from ${file}`;
}

/**
 * `features --stimuli ROI.h5`: the model's features on the prepared ROI file's validation images, read from the
 * NSD stimuli file in the file's `val_ids` order (the rows of its `val` dataset), so the features and the ROI
 * describe the same stimuli in the same order.
 */
async function roiStimulusFeatures(
  flags: Values,
  plan: Plan,
  model: string,
  out: string,
  limit: number | undefined,
): Promise<string> {
  const roiFile = flags.stimuli as string;
  const prepared = await readPreparedTargets(roiFile);
  const nsd = (flags.nsd as string | undefined) ?? "data/sim";
  const stimuliFile = nsdPaths(nsd, prepared.subject).stimuli;
  if (!(await Deno.stat(stimuliFile).catch(() => null))) {
    throw new UserError(
      `--nsd ${nsd}: no ${stimuliFile}; point --nsd at the folder ${roiFile} was prepared from`,
    );
  }
  const ids = prepared.valIds.subarray(0, limit ?? prepared.valIds.length);
  const [, channels, size] = plan.model.graph.input.shape;
  if (channels !== 3) throw new UserError(`--model ${model}: takes ${channels} channels, NSD stimuli have 3`);
  const { data } = await readStimuli(stimuliFile, ids, { size, dtype: "float32" });
  const tables = await modelFeatures(plan, data as Float32Array, ids.length, {
    stages: Boolean(flags.layers),
  });
  const tensors = new Map<string, TensorInput>(
    [...tables].map(([name, t]) => [name, { shape: [t.rows, t.cols], data: t.data }]),
  );
  tensors.set("stimulus_ids", { shape: [ids.length], data: Int32Array.from(ids) });
  await writeSafetensors(out, tensors);
  return `${[...tables.keys()].join(", ")} of the ${ids.length} validation stimuli of ${roiFile} ` +
    `(ROI ${prepared.roi}, subject ${prepared.subject}) from ${model}`;
}

/** The model's attack ops and `--data`, shared by smoothness and landscape. */
async function attackSetup(flags: Values, kind: Kind, defaultN?: number) {
  const { file, checkpoint } = await modelFlag(flags, kind);
  const gpu = await getGpu(), batch = numberFlag("batch", flags.batch, { min: 1, integer: true });
  const limit = flags.n === undefined ? defaultN : numberFlag("n", flags.n, { min: 1, integer: true });
  const model = await createAttackModel(gpu, checkpoint.config, checkpoint.weights, batch);
  const data = await dataFlag(flags, model, limit);
  return { file, checkpoint, ops: await AttackOps.create(model), data };
}

async function runSmoothness(flags: Values): Promise<Output> {
  const eps = forFlag("--eps:", () => parseEpsGrid(flags.eps as string));
  const units = choice(flags, "eps-units", ["normalized", "pixel"] as const);
  const seed = numberFlag("seed", flags.seed, { min: 0, max: 2 ** 32 - 1, integer: true });
  const { file, checkpoint, ops, data } = await attackSetup(flags, "smoothness");
  // Normalised-unit ε is ε·std in pixels (the attack task's conversion, one mean std for all channels).
  const std = checkpoint.config.std ?? IMAGENET_STD;
  const scale = units === "normalized" ? std.reduce((a, b) => a + b, 0) / std.length : 1;
  const curve = await smoothness(ops, data.images, data.labels, data.count, eps.map((e) => e * scale), seed);
  const rows = curve.map((p, i) => ({ eps: eps[i], epsPixel: p.eps, value: p.value }));
  return {
    json: { model: file, data: flags.data, n: data.count, epsUnits: units, smoothness: rows },
    csv: ["eps,eps_pixel,smoothness", ...rows.map((r) => `${r.eps},${r.epsPixel},${r.value}`)].join("\n") +
      "\n",
  };
}

async function runLandscape(flags: Values): Promise<Output> {
  const grid = numberFlag("grid", flags.grid, { min: 1, integer: true });
  const span = numberFlag("span", flags.span, { min: 0 });
  const directions = choice(flags, "directions", LANDSCAPE_DIRECTIONS);
  const seed = numberFlag("seed", flags.seed, { min: 0, max: 2 ** 32 - 1, integer: true });
  const { file, ops, data } = await attackSetup(flags, "landscape", 8);
  const grids = await landscape(ops, data.images, data.labels, data.count, { grid, span, directions, seed });
  const csv = ["index,label,a,b,loss,margin"];
  for (const g of grids) {
    g.loss.forEach((row, i) =>
      row.forEach((v, j) =>
        csv.push([g.index, g.label, g.coordinates[i], g.coordinates[j], v, g.margin[i][j]].join(","))
      )
    );
  }
  return {
    json: { model: file, data: flags.data, directions, grid, span, inputs: grids },
    csv: csv.join("\n") + "\n",
  };
}

/** Shape-bias trials from a model's arg-max on a cue-conflict folder. */
async function modelTrials(flags: Values, classNames: string[] | undefined): Promise<CueConflictTrial[]> {
  const dir = flags["cue-conflict"] as string;
  const { checkpoint } = await modelFlag(flags, "shape-bias");
  const folder = await openImageFolder(dir);
  const names = classNames ?? await Deno.readTextFile(`${dir}/classes.txt`).then(
    (text) => text.split(/\r?\n/).map((c) => c.trim()).filter((c) => c !== ""),
    () => [...folder.classes],
  );
  const batch = numberFlag("batch", flags.batch, { min: 1, integer: true });
  const plan = await featurePlan(await getGpu(), checkpoint, batch);
  if (names.length !== planShape(plan).classes) {
    throw new UserError(
      `${dir}: ${names.length} class names but the model has ${
        planShape(plan).classes
      } outputs (pass --classes)`,
    );
  }
  const unknown = folder.classes.find((c) => !names.includes(c));
  if (unknown !== undefined) {
    throw new UserError(
      `${dir}/${unknown}: shape folder is not one of the model's classes (${names.join(", ")})`,
    );
  }
  const data = await forFlag(
    "--cue-conflict",
    () => loadDataset(`imagefolder:${dir}`, planShape(plan), undefined),
  );
  const logits = (await modelFeatures(plan, data.images, data.count)).get("logits")!;
  return cueConflictTrials(
    folder.paths,
    logits,
    names,
    data.labels.map((l) => names.indexOf(folder.classes[l])),
  );
}

async function runShapeBias(flags: Values): Promise<Output> {
  const classNames = flags.classes ? (flags.classes as string).split(",").map((c) => c.trim()) : undefined;
  if (flags["cue-conflict"]) {
    const trials = await modelTrials(flags, classNames);
    return shapeBiasOutput(flags["cue-conflict"] as string, trials, classNames);
  }
  if (!flags.predictions) {
    throw new UsageError("shape-bias: --predictions or --model with --cue-conflict is required (see --help)");
  }
  const path = flags.predictions as string;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as Error).message})`);
  }
  const [header, ...lines] = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  const columns = (header ?? "").split(",").map((c) => c.trim());
  const fileColumn = columns.indexOf("file"), decisionColumn = columns.indexOf("decision");
  if (fileColumn < 0 || decisionColumn < 0) {
    throw new UserError(
      `${path}: the header needs columns 'file' and 'decision' (found: ${columns.join(", ")})`,
    );
  }
  const trials: CueConflictTrial[] = lines.map((line) => {
    const cells = line.split(",").map((c) => c.trim());
    const decision = cells[decisionColumn] ?? "";
    return { file: cells[fileColumn] ?? "", decision: /^\d+$/.test(decision) ? Number(decision) : decision };
  });
  return shapeBiasOutput(path, trials, classNames);
}

/** Scores trials; `source` (the predictions file or cue-conflict folder) names errors and the JSON. */
function shapeBiasOutput(source: string, trials: CueConflictTrial[], classNames?: string[]): Output {
  let result;
  try {
    result = shapeBias(trials, classNames);
  } catch (e) {
    throw new UserError(`${source}: ${(e as Error).message}`);
  }
  const csv = ["class,shape_bias,shape,texture,neither,excluded"];
  for (const [name, c] of [["all", result], ...Object.entries(result.perClass)] as const) {
    csv.push([name, c.shapeBias ?? "", c.shape, c.texture, c.neither, c.excluded].join(","));
  }
  return { json: { predictions: source, ...result }, csv: csv.join("\n") + "\n" };
}

/** Runs one analysis; exported so tests can call it without a subprocess. */
export async function main(args: string[]): Promise<void> {
  const [kindArg, ...rest] = args;
  if (kindArg === undefined || kindArg === "-h" || kindArg === "--help") {
    console.log(HELP);
    return;
  }
  if (!KINDS.includes(kindArg as Kind)) {
    throw new UsageError(`unknown kind '${kindArg}' (one of ${KINDS.join(", ")}; see --help)`);
  }
  const kind = kindArg as Kind;
  const { values: flags } = parseFlags(rest, FLAGS);
  if (flags.help) {
    console.log(HELP);
    return;
  }
  if (!flags.out) throw new UsageError("--out is required (see --help)");
  const out = flags.out as string;
  await checkOutputPath(out, "--out", "file");
  if (kind === "features" && flags.data && flags.stimuli) {
    throw new UsageError("features: --data and --stimuli are alternatives; pass one");
  }
  if (kind !== "features" && (flags.stimuli || flags.nsd)) {
    throw new UsageError(`--${flags.stimuli ? "stimuli" : "nsd"} applies to features only`);
  }
  if (
    (kind === "features" || kind === "smoothness" || kind === "landscape") && !flags.data &&
    !(kind === "features" && flags.stimuli)
  ) {
    throw new UsageError(
      `${kind}: --data is required${kind === "features" ? " (or --stimuli ROI.h5)" : ""} (see --help)`,
    );
  }
  if (kind === "features") {
    if (!/\.safetensors$/i.test(out)) throw new UsageError(`--out: '${out}' should end in .safetensors`);
    const started = performance.now();
    const what = await runFeatures(flags, out);
    console.log(
      `analyze features: wrote ${out} (${what}) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    return;
  }
  if (!/\.json$/i.test(out)) {
    throw new UsageError(`--out: '${out}' should end in .json (the CSV goes beside it)`);
  }
  const device = choice(flags, "device", ["auto", "gpu", "cpu"] as const);
  if ((kind === "rsa" || kind === "cka" || kind === "manifold") && list(flags, "features").length === 0) {
    throw new UsageError(`${kind}: at least one --features is required (see --help)`);
  }
  const started = performance.now();
  const options = kind === "rsa" || kind === "cka" ? await gramOptions(device) : {};
  const output = kind === "rsa"
    ? await runRsa(flags, options)
    : kind === "cka"
    ? await runCka(flags, options)
    : kind === "manifold"
    ? await runManifold(flags)
    : kind === "smoothness"
    ? await runSmoothness(flags)
    : kind === "landscape"
    ? await runLandscape(flags)
    : await runShapeBias(flags);
  const seconds = (performance.now() - started) / 1000;
  const json = {
    kind,
    ...output.json,
    device: options.gpu ? `gpu (${options.gpu.description})` : "cpu (float64)",
    seconds,
  };
  const csvPath = out.replace(/\.json$/i, ".csv");
  await writeFileAtomic(out, JSON.stringify(json, null, 1) + "\n");
  await writeFileAtomic(csvPath, output.csv);
  console.log(`analyze ${kind}: wrote ${out} and ${csvPath} in ${seconds.toFixed(1)} s`);
  console.log(`analyze ${kind}: ${analysisHeadline(kind, json)}`);
}

if (import.meta.main) await runMain("analyze", () => main(Deno.args));
