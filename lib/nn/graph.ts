/**
 * A model is written once as straight-line code against {@link GraphBuilder}; the builder records a tape of
 * layers with their shapes and torchvision parameter names. A {@link import("./plan.ts").Plan} later turns the
 * tape into GPU buffers and dispatch lists, forward in tape order and backward in reverse. What each layer kind
 * records and binds is in `layers.ts`.
 * @module
 */
import { type Layer, LAYER_KINDS, type LayerArgs, type LayerKind, type LayerKindName } from "./layers.ts";

export type { Layer };

/** How a tensor is initialised (torchvision's defaults for ResNet). */
export type Init =
  | { kind: "kaiming_normal_fan_out" } // conv weights: N(0, 2 / (out·kh·kw))
  | { kind: "uniform_fan_in"; fanIn: number } // nn.Linear default: U(±1/√fanIn)
  | { kind: "const"; value: number };

/** One entry of the state dict, named as torchvision names it. */
export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: Init;
  /** Trainable parameters get gradients and optimizer state; buffers (BN running stats) do not. */
  readonly trainable: boolean;
  /** Stored as I64 in torch (BN `num_batches_tracked`); kept on the CPU. */
  readonly counter?: boolean;
}

/** A value in the graph: its shape, and the node whose storage it shares (for reshapes). */
export interface Node {
  readonly id: number;
  readonly shape: readonly number[];
  /** The node that owns the buffer; itself unless this node is a view (flatten). */
  readonly storage: number;
}

/** What a layer kind may do while it is recorded: create nodes and declare parameters. */
export interface LayerRecorder {
  /** A new node of `shape` with its own storage. */
  node(shape: readonly number[]): Node;
  /** Declares a parameter (or buffer) and returns its name; names are unique in a model. */
  param(spec: ParamSpec): string;
}

/**
 * Records layers and parameters while model code runs; shapes are checked as it goes. The named methods
 * (`conv`, `relu`, …) are shorthands for {@link GraphBuilder.layer} with the kinds the ResNets use.
 */
export class GraphBuilder {
  readonly layers: Layer[] = [];
  readonly params: ParamSpec[] = [];
  readonly nodes: Node[] = [];
  readonly input: Node;
  readonly #recorder: LayerRecorder = {
    node: (shape) => this.#node(shape),
    param: (spec) => this.#param(spec),
  };

  constructor(inputShape: readonly number[]) {
    this.input = this.#node(inputShape);
  }

  #node(shape: readonly number[], storage?: number): Node {
    const id = this.nodes.length;
    const node = { id, shape: [...shape], storage: storage ?? id };
    this.nodes.push(node);
    return node;
  }

  #param(spec: ParamSpec): string {
    if (this.params.some((p) => p.name === spec.name)) throw new Error(`duplicate parameter ${spec.name}`);
    this.params.push(spec);
    return spec.name;
  }

  /**
   * Records a layer of kind `op` (see `LAYER_KINDS` in `layers.ts`) and returns its output.
   *
   * @example
   * ```ts
   * const g = new GraphBuilder([8, 16]);
   * const y = g.layer("gelu", { input: g.layer("linear", { name: "fc", input: g.input, out: 4 }) });
   * ```
   */
  layer<K extends LayerKindName>(op: K, args: LayerArgs<K>): Node {
    const kind = LAYER_KINDS[op] as unknown as LayerKind<LayerArgs<K>, { output: Node }>;
    const fields = kind.record(this.#recorder, args);
    this.layers.push({ op, ...fields } as unknown as Layer);
    return fields.output;
  }

  /** Per-channel `(x − mean) / std`, so models take images in [0, 1]. */
  normalize(x: Node, mean: number[], std: number[]): Node {
    return this.layer("normalize", { input: x, mean, std });
  }

  /** `nn.Conv2d(in, out, kernel, stride, padding, bias)` named `name`. */
  conv(
    name: string,
    x: Node,
    out: number,
    kernel: number,
    stride: number,
    padding: number,
    bias = false,
  ): Node {
    return this.layer("conv", { name, input: x, out, kernel, stride, padding, bias });
  }

  /** `nn.BatchNorm2d` named `prefix`. */
  batchnorm(prefix: string, x: Node): Node {
    return this.layer("batchnorm", { prefix, input: x });
  }

  relu(x: Node): Node {
    return this.layer("relu", { input: x });
  }

  maxpool(x: Node, kernel: number, stride: number, padding: number): Node {
    return this.layer("maxpool", { input: x, kernel, stride, padding });
  }

  add(a: Node, b: Node): Node {
    return this.layer("add", { inputs: [a, b] });
  }

  /** Adaptive average pool to `size`×`size` (1 = global average pool), flattened to [N, C·size²]. */
  avgpool(x: Node, size: number): Node {
    return this.layer("avgpool", { input: x, size });
  }

  /** Views [N, …] as [N, product] without copying. */
  flatten(x: Node): Node {
    const features = x.shape.slice(1).reduce((a, b) => a * b, 1);
    return this.#node([x.shape[0], features], x.storage);
  }

  /** `nn.Linear(in, out)` named `name`, on a [N, in] input. */
  linear(name: string, x: Node, out: number, bias = true): Node {
    return this.layer("linear", { name, input: x, out, bias });
  }
}
