/**
 * Static execution plan of a model at a fixed batch size: every parameter, activation, gradient and saved
 * statistic is allocated once, and the forward and backward passes are bound once into dispatch lists that a
 * training step or an attack re-submits without allocating or reading back.
 * @module
 */
import type { Dispatch, Gpu } from "../gpu/device.ts";
import type { BuiltModel, ModelConfig } from "./models.ts";
import { buildModel } from "./models.ts";
import type { Node, ParamSpec } from "./graph.ts";
import {
  createLayerKernels,
  hasTrainableParams,
  type Layer,
  layerInputs,
  type LayerKernels,
} from "./layers.ts";
import { initialValues } from "./init.ts";

/** Batch statistics ("train") or running statistics ("eval") in BatchNorm. */
export type Mode = "train" | "eval";

/** What backward must produce. */
export interface PlanOptions {
  /** Allocate and compute the gradient w.r.t. the input images (attacks). Default false. */
  inputGrad?: boolean;
  /** Compute parameter gradients in backward (false for frozen models under attack). Default true. */
  paramGrads?: boolean;
  /** Use this buffer as the input images instead of allocating one (a predictor sharing a batch). */
  input?: GPUBuffer;
  /**
   * BatchNorm running-statistics momentum (PyTorch's 0.1). 0 keeps the running statistics fixed while
   * train-mode forwards still normalise with batch statistics: a frozen predictor stays frozen.
   */
  bnMomentum?: number;
}

/**
 * @example
 * ```ts
 * import { getGpu } from "../gpu/mod.ts";
 * import { modelConfig } from "./models.ts";
 * const gpu = await getGpu();
 * const plan = await Plan.create(gpu, modelConfig("mlp", { classes: 10, imageSize: 8 }), 2);
 * plan.initialize(0);
 * plan.setInput(new Float32Array(2 * 3 * 8 * 8).fill(0.5)); // NCHW in [0, 1]
 * gpu.submit(plan.forward("eval"));
 * const logits = await plan.read(plan.model.logits); // 2 × 10
 * ```
 */
export class Plan {
  /** Parameters and BN running statistics, by torchvision name. */
  readonly params: Map<string, GPUBuffer> = new Map();
  /** Gradients of trainable parameters, by name. */
  readonly paramGrads: Map<string, GPUBuffer> = new Map();
  /** BN `num_batches_tracked`, kept on the CPU and advanced by {@link countTrainStep}. */
  readonly counters: Map<string, number> = new Map();
  readonly #values = new Map<number, GPUBuffer>();
  readonly #grads = new Map<number, GPUBuffer>();
  readonly #forward = new Map<Mode, Dispatch[]>();
  readonly #backward = new Map<Mode, Dispatch[]>();

  private constructor(
    readonly gpu: Gpu,
    readonly model: BuiltModel,
    readonly batch: number,
    readonly options: Required<Omit<PlanOptions, "input" | "bnMomentum">>,
    readonly kernels: LayerKernels[],
  ) {}

  /** Allocates everything for `config` at `batch` and binds both passes. */
  static async create(
    gpu: Gpu,
    config: ModelConfig,
    batch: number,
    options: PlanOptions = {},
  ): Promise<Plan> {
    const model = buildModel(config, batch);
    const resolved = { inputGrad: options.inputGrad ?? false, paramGrads: options.paramGrads ?? true };
    const { graph } = model;
    const needsGrad = gradientFlow(graph.layers, graph.input, resolved.inputGrad);

    const values = new Map<number, GPUBuffer>();
    const grads = new Map<number, GPUBuffer>();
    for (const node of graph.nodes) {
      if (node.storage !== node.id) continue;
      const bytes = 4 * node.shape.reduce((a, b) => a * b, 1);
      const external = node.id === graph.input.id ? options.input : undefined;
      if (external && external.size < bytes) {
        throw new Error(`Plan: shared input buffer has ${external.size} bytes, the model needs ${bytes}`);
      }
      values.set(node.id, external ?? gpu.buffer(bytes, `node${node.id}`));
      if (needsGrad.has(node.id)) grads.set(node.id, gpu.buffer(bytes, `grad${node.id}`));
    }
    const params = new Map<string, GPUBuffer>();
    const paramGrads = new Map<string, GPUBuffer>();
    for (const spec of graph.params) {
      if (spec.counter) continue;
      const bytes = 4 * Math.max(1, spec.shape.reduce((a, b) => a * b, 1));
      params.set(spec.name, gpu.buffer(bytes, spec.name));
      if (spec.trainable) paramGrads.set(spec.name, gpu.buffer(bytes, `grad:${spec.name}`));
    }
    const storage = (node: Node) => values.get(node.storage)!;
    const gradOf = (node: Node) => grads.get(node.storage);
    const kernels = await Promise.all(
      graph.layers.map((layer) =>
        createLayerKernels(gpu, layer, {
          storage,
          gradOf,
          params,
          paramGrads,
          bnMomentum: options.bnMomentum ?? 0.1,
        })
      ),
    );
    const plan = new Plan(gpu, model, batch, resolved, kernels);
    for (const [id, buffer] of values) plan.#values.set(id, buffer);
    for (const [id, buffer] of grads) plan.#grads.set(id, buffer);
    for (const [name, buffer] of params) plan.params.set(name, buffer);
    for (const [name, buffer] of paramGrads) plan.paramGrads.set(name, buffer);
    for (const spec of graph.params) if (spec.counter) plan.counters.set(spec.name, 0);
    return plan;
  }

  /** The parameter specs (names, shapes, trainability) in torchvision order. */
  get specs(): readonly ParamSpec[] {
    return this.model.graph.params;
  }

  /** The buffer holding a node's values. */
  value(node: Node): GPUBuffer {
    return this.#values.get(node.storage)!;
  }

  /** The buffer holding the loss gradient w.r.t. a node (seed the outputs' before {@link backward}). */
  grad(node: Node): GPUBuffer {
    const buffer = this.#grads.get(node.storage);
    if (!buffer) throw new Error(`node ${node.id} carries no gradient in this plan`);
    return buffer;
  }

  /** The input images buffer. */
  get input(): GPUBuffer {
    return this.value(this.model.graph.input);
  }

  /** Gradient w.r.t. the input images (plans created with `inputGrad: true`). */
  get inputGrad(): GPUBuffer {
    return this.grad(this.model.graph.input);
  }

  /** Forward pass dispatches (bound on first use, then reused). */
  forward(mode: Mode): Dispatch[] {
    let list = this.#forward.get(mode);
    if (!list) {
      list = this.kernels.flatMap((k) => k.forward(mode));
      this.#forward.set(mode, list);
    }
    return list;
  }

  /**
   * Backward pass dispatches, in reverse layer order, for a forward run in `mode`. Gradients of the output
   * nodes must have been written (by a loss) first. A node consumed twice (a residual input) gets its first
   * gradient written and later ones accumulated.
   */
  backward(mode: Mode): Dispatch[] {
    let list = this.#backward.get(mode);
    if (!list) {
      const written = new Set<number>();
      list = [];
      for (let i = this.kernels.length - 1; i >= 0; i--) {
        const inputs = layerInputs(this.model.graph.layers[i]);
        const accumulate = inputs.map((n) => written.has(n.storage));
        list.push(...this.kernels[i].backward(mode, accumulate, this.options.paramGrads));
        for (const n of inputs) if (this.#grads.has(n.storage)) written.add(n.storage);
      }
      this.#backward.set(mode, list);
    }
    return list;
  }

  /** Advances every BN `num_batches_tracked` (call once per submitted train-mode forward). */
  countTrainStep(): void {
    for (const [name, value] of this.counters) this.counters.set(name, value + 1);
  }

  /** Uploads a batch of images, NCHW float32 in [0, 1]. */
  setInput(images: Float32Array): void {
    const expected = this.model.graph.input.shape.reduce((a, b) => a * b, 1);
    if (images.length !== expected) {
      throw new Error(
        `Plan.setInput: got ${images.length} values, the model takes [${this.model.graph.input.shape}]`,
      );
    }
    this.gpu.write(this.input, images);
  }

  /** Reads a node's values back. */
  async read(node: Node): Promise<Float32Array> {
    return await this.gpu.readF32(this.value(node), node.shape.reduce((a, b) => a * b, 1));
  }

  /** Fresh torchvision-style initial values for every parameter, from `seed`. */
  initialize(seed: number): void {
    const values = initialValues(this.specs, seed);
    this.loadStateDict(values);
  }

  /** Uploads named tensors; every name and shape of the model must be present (BN counters as 1-element). */
  loadStateDict(tensors: Map<string, Float32Array>, source = "state dict"): void {
    for (const spec of this.specs) {
      const data = tensors.get(spec.name);
      const size = Math.max(1, spec.shape.reduce((a, b) => a * b, 1));
      if (!data) throw new Error(`${source}: missing tensor '${spec.name}' [${spec.shape}]`);
      if (data.length !== size) {
        throw new Error(
          `${source}: '${spec.name}' has ${data.length} values, the model expects [${spec.shape}]`,
        );
      }
      if (spec.counter) this.counters.set(spec.name, data[0]);
      else this.gpu.write(this.params.get(spec.name)!, data);
    }
    const known = new Set(this.specs.map((s) => s.name));
    const extra = [...tensors.keys()].find((name) => !known.has(name));
    if (extra) throw new Error(`${source}: unexpected tensor '${extra}' (not part of this model)`);
  }

  /** Reads every parameter and buffer back, by name (counters as 1-element arrays). */
  async stateDict(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const spec of this.specs) {
      if (spec.counter) out.set(spec.name, new Float32Array([this.counters.get(spec.name) ?? 0]));
      else {
        const size = Math.max(1, spec.shape.reduce((a, b) => a * b, 1));
        out.set(spec.name, await this.gpu.readF32(this.params.get(spec.name)!, size));
      }
    }
    return out;
  }
}

/** Storage ids whose gradient backward needs: downstream of a trainable layer or of the input (if asked). */
function gradientFlow(layers: readonly Layer[], input: Node, inputGrad: boolean): Set<number> {
  const needs = new Set<number>(inputGrad ? [input.storage] : []);
  for (const layer of layers) {
    if (hasTrainableParams(layer) || layerInputs(layer).some((n) => needs.has(n.storage))) {
      needs.add(layer.output.storage);
    }
  }
  return needs;
}
