/**
 * Model checkpoints as safetensors with torchvision parameter names (BN `num_batches_tracked` as I64, like
 * PyTorch), the model config in the metadata, so weights move to and from PyTorch unchanged.
 * @module
 */
import {
  checkStateDict,
  readConfig,
  readSafetensors,
  SafetensorsError,
  type TensorInput,
  writeSafetensors,
} from "../io/safetensors.ts";
import { buildModel, type ModelConfig } from "./models.ts";
import { UsageError } from "../errors.ts";

/** A checkpoint: the config it was trained with and every tensor by name (counters as 1-element floats). */
export interface Checkpoint {
  readonly config: ModelConfig;
  readonly weights: Map<string, Float32Array>;
  /** Free-form metadata stored beside the config (epoch, seed, …). */
  readonly metadata: Record<string, string>;
  /** Tensors in the file that are not model weights (e.g. `optim.*` state), unchanged. */
  readonly extra: Map<string, TensorInput>;
}

/** Prefix of the non-model tensors a checkpoint may carry (optimizer state). */
const EXTRA_PREFIXES = ["optim."];

/**
 * Writes weights (+ optional extra tensors such as optimizer state) atomically to `path`.
 *
 * @example
 * ```ts
 * import type { ModelConfig } from "./models.ts";
 * import type { Plan } from "./plan.ts";
 * // Saves a model with its config, so {@link loadCheckpoint} needs only the path.
 * async function save(plan: Plan, config: ModelConfig, path: string) {
 *   await saveCheckpoint(path, config, await plan.stateDict(), { epoch: "3" });
 * }
 * ```
 */
export async function saveCheckpoint(
  path: string,
  config: ModelConfig,
  weights: Map<string, Float32Array>,
  metadata: Record<string, string> = {},
  extra: Map<string, TensorInput> = new Map(),
): Promise<void> {
  const specs = buildModel(config, 1).graph.params;
  const tensors = new Map<string, TensorInput>();
  for (const spec of specs) {
    const data = weights.get(spec.name);
    if (!data) throw new Error(`saveCheckpoint: missing weight '${spec.name}'`);
    tensors.set(
      spec.name,
      spec.counter
        ? { shape: [], data: BigInt64Array.of(BigInt(Math.round(data[0]))) }
        : { shape: spec.shape, data },
    );
  }
  for (const [name, tensor] of extra) tensors.set(name, tensor);
  await writeSafetensors(path, tensors, { config, metadata });
}

/**
 * Reads a checkpoint, checking every tensor name and shape against the model its config describes (or
 * `config`, for torchvision files that carry none), and naming the first mismatch.
 */
export async function loadCheckpoint(path: string, config?: ModelConfig): Promise<Checkpoint> {
  const exists = await Deno.stat(path).then(() => true, () => false);
  if (!exists) {
    throw new SafetensorsError(
      `${path}: no such checkpoint (check the path, or train one with deno task train)`,
    );
  }
  const file = await readSafetensors(path);
  const stored = readConfig(file.metadata, path) as ModelConfig | undefined;
  const resolved = config ?? stored;
  if (!resolved) {
    throw new SafetensorsError(`${path}: no model config in the metadata; pass the architecture explicitly`);
  }
  if (!config) checkModelConfig(resolved, path);
  const specs = buildModel(resolved, 1).graph.params;
  const modelTensors = new Map(
    [...file.tensors].filter(([name]) => !EXTRA_PREFIXES.some((p) => name.startsWith(p))),
  );
  checkStateDict(new Map(specs.map((s) => [s.name, s.shape])), modelTensors, path);
  const weights = new Map<string, Float32Array>();
  for (const [name, tensor] of modelTensors) {
    const data = tensor.data instanceof Float32Array
      ? tensor.data
      : Float32Array.from(tensor.data as ArrayLike<number>, Number);
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new SafetensorsError(
        `${path}: tensor '${name}' holds ${
          data[bad]
        } at index ${bad}; the weights are unusable (a diverged ` +
          `run?), use an earlier checkpoint or retrain`,
      );
    }
    weights.set(name, data);
  }
  const extra = new Map<string, TensorInput>();
  for (const [name, tensor] of file.tensors) if (!modelTensors.has(name)) extra.set(name, tensor);
  const { [`neuroguide.config`]: _config, ...metadata } = file.metadata;
  return { config: resolved, weights, metadata, extra };
}

/**
 * The checkpoint file behind `path`: `path` itself, or `model.safetensors` inside a run folder. Errors start
 * with `path`.
 *
 * @example
 * ```ts
 * const run = await Deno.makeTempDir(); // a run folder holding its final weights
 * await Deno.writeFile(`${run}/model.safetensors`, new Uint8Array(8));
 * console.log(await checkpointPath(run) === `${run}/model.safetensors`); // true
 * ```
 */
export async function checkpointPath(path: string): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    throw new UsageError(
      `${path}: no such file or run folder (train one with deno task train --out ${path}; with no ` +
        `arguments, deno task train runs the demo into runs/demo/)`,
    );
  }
  if (!info.isDirectory) return path;
  const inside = `${path.replace(/\/+$/, "")}/model.safetensors`;
  try {
    await Deno.stat(inside);
  } catch {
    throw new UsageError(`${path}: the run folder has no model.safetensors`);
  }
  return inside;
}

/** Largest values a stored config may claim, far beyond any model this toolkit trains. */
const CONFIG_LIMITS = { classes: 1_000_000, imageSize: 4096, channels: 16, width: 1 << 16, depth: 64 };

/**
 * Checks a config read from a file's metadata before a model is built from it, so a damaged or foreign file
 * is reported as such (naming the file and the field), not as a shape mismatch or a GPU limit later.
 */
export function checkModelConfig(config: unknown, file: string): asserts config is ModelConfig {
  const c = config as Record<string, unknown>;
  const bad = (field: string, expected: string): never => {
    throw new SafetensorsError(
      `${file}: the model config in its metadata has ${field} = ${JSON.stringify(c?.[field])}, expected ` +
        `${expected}; the file is damaged or was not written by neuroguide`,
    );
  };
  const count = (v: unknown, min: number, max: number) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
  if (typeof c !== "object" || c === null) bad("config", "an object");
  if (!["resnet", "linear", "mlp"].includes(c.arch as string)) bad("arch", "resnet, linear or mlp");
  if (!count(c.classes, 1, CONFIG_LIMITS.classes)) bad("classes", `an integer in 1…${CONFIG_LIMITS.classes}`);
  if (!count(c.imageSize, 1, CONFIG_LIMITS.imageSize)) {
    bad("imageSize", `an integer in 1…${CONFIG_LIMITS.imageSize}`);
  }
  if (c.channels !== undefined && !count(c.channels, 1, CONFIG_LIMITS.channels)) {
    bad("channels", `an integer in 1…${CONFIG_LIMITS.channels}`);
  }
  if (c.neuralDim !== undefined && !count(c.neuralDim, 0, CONFIG_LIMITS.classes)) {
    bad("neuralDim", `an integer in 0…${CONFIG_LIMITS.classes}`);
  }
  const counts = (field: string, min: number) => {
    const v = c[field];
    if (
      !Array.isArray(v) || v.length > CONFIG_LIMITS.depth ||
      !v.every((x) => count(x, min, CONFIG_LIMITS.width))
    ) {
      bad(field, `a list of at most ${CONFIG_LIMITS.depth} integers in ${min}…${CONFIG_LIMITS.width}`);
    }
  };
  if (c.arch === "resnet") {
    counts("blocks", 1);
    counts("widths", 1);
    if (
      (c.blocks as number[]).length !== (c.widths as number[]).length || (c.blocks as number[]).length === 0
    ) {
      bad("blocks", "one entry per entry of widths");
    }
    if (!["imagenet", "cifar"].includes(c.stem as string)) bad("stem", "imagenet or cifar");
  }
  if (c.arch === "mlp") counts("hidden", 1);
}
