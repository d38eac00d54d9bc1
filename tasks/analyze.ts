/**
 * `deno task analyze <kind> …`: representational-geometry analyses over feature files (RSA, CKA, manifold
 * geometry, shape bias). Writes JSON plus a CSV beside it, atomically. See `--help`.
 * @module
 */
import { numberFlag, parseFlags, UsageError } from "../lib/cli/args.ts";
import { runMain, UserError } from "../lib/cli/main.ts";
import {
  centredGram,
  ckaFromGrams,
  classicalMds,
  COMPARE_METHODS,
  type CompareMethod,
  compareRdmSets,
  type CueConflictTrial,
  type GramOptions,
  linearSeparability,
  manifoldAnalysis,
  type Matrix,
  type NamedMatrix,
  rdm,
  RDM_METHODS,
  type RdmMethod,
  readFeatures,
  readLabels,
  selectRows,
  shapeBias,
} from "../lib/analysis/mod.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";

const KINDS = ["rsa", "cka", "manifold", "shape-bias"] as const;
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
                --compare M       ${COMPARE_METHODS.join(" | ")} (default spearman)
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
  shape-bias  Geirhos cue-conflict shape bias from decisions
                --predictions F   CSV with header columns 'file' and 'decision' (class name or index)
                --classes LIST    comma-separated class names (maps numeric decisions; checks names)

Common:
  --out FILE.json   results (required); the CSV goes to FILE.csv
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

async function runShapeBias(flags: Values): Promise<Output> {
  if (!flags.predictions) throw new UsageError("shape-bias: --predictions is required (see --help)");
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
  const classNames = flags.classes ? (flags.classes as string).split(",").map((c) => c.trim()) : undefined;
  let result;
  try {
    result = shapeBias(trials, classNames);
  } catch (e) {
    throw new UserError(`${path}: ${(e as Error).message}`);
  }
  const csv = ["class,shape_bias,shape,texture,neither,excluded"];
  for (const [name, c] of [["all", result], ...Object.entries(result.perClass)] as const) {
    csv.push([name, c.shapeBias ?? "", c.shape, c.texture, c.neither, c.excluded].join(","));
  }
  return { json: { predictions: path, ...result }, csv: csv.join("\n") + "\n" };
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
}

if (import.meta.main) await runMain("analyze", () => main(Deno.args));
