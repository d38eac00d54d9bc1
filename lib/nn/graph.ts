/**
 * A model is written once as straight-line code against {@link GraphBuilder}; the builder records a tape of
 * layers with their shapes and torchvision parameter names. A {@link import("./plan.ts").Plan} later turns the
 * tape into GPU buffers and dispatch lists, forward in tape order and backward in reverse.
 * @module
 */

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

/** One recorded layer. Parameter names refer to {@link ParamSpec.name}. */
export type Layer =
  | { op: "normalize"; input: Node; output: Node; mean: number[]; std: number[] }
  | {
    op: "conv";
    input: Node;
    output: Node;
    weight: string;
    bias?: string;
    kernel: number;
    stride: number;
    padding: number;
  }
  | { op: "batchnorm"; input: Node; output: Node; prefix: string }
  | { op: "relu"; input: Node; output: Node }
  | { op: "maxpool"; input: Node; output: Node; kernel: number; stride: number; padding: number }
  | { op: "add"; inputs: [Node, Node]; output: Node }
  | { op: "avgpool"; input: Node; output: Node; size: number }
  | { op: "linear"; input: Node; output: Node; weight: string; bias?: string };

/** Records layers and parameters while model code runs; shapes are checked as it goes. */
export class GraphBuilder {
  readonly layers: Layer[] = [];
  readonly params: ParamSpec[] = [];
  readonly nodes: Node[] = [];
  readonly input: Node;

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

  /** Per-channel `(x − mean) / std`, so models take images in [0, 1]. */
  normalize(x: Node, mean: number[], std: number[]): Node {
    const output = this.#node(x.shape);
    this.layers.push({ op: "normalize", input: x, output, mean, std });
    return output;
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
    const [n, c, h, w] = x.shape;
    const oh = Math.floor((h + 2 * padding - kernel) / stride) + 1;
    const ow = Math.floor((w + 2 * padding - kernel) / stride) + 1;
    if (oh < 1 || ow < 1) throw new Error(`${name}: input ${h}×${w} is too small for kernel ${kernel}`);
    const weight = this.#param({
      name: `${name}.weight`,
      shape: [out, c, kernel, kernel],
      init: { kind: "kaiming_normal_fan_out" },
      trainable: true,
    });
    const biasName = bias
      ? this.#param({
        name: `${name}.bias`,
        shape: [out],
        init: { kind: "uniform_fan_in", fanIn: c * kernel * kernel },
        trainable: true,
      })
      : undefined;
    const output = this.#node([n, out, oh, ow]);
    this.layers.push({ op: "conv", input: x, output, weight, bias: biasName, kernel, stride, padding });
    return output;
  }

  /** `nn.BatchNorm2d` named `prefix` (weight, bias, running_mean, running_var, num_batches_tracked). */
  batchnorm(prefix: string, x: Node): Node {
    const c = x.shape[1];
    this.#param({ name: `${prefix}.weight`, shape: [c], init: { kind: "const", value: 1 }, trainable: true });
    this.#param({ name: `${prefix}.bias`, shape: [c], init: { kind: "const", value: 0 }, trainable: true });
    this.#param({
      name: `${prefix}.running_mean`,
      shape: [c],
      init: { kind: "const", value: 0 },
      trainable: false,
    });
    this.#param({
      name: `${prefix}.running_var`,
      shape: [c],
      init: { kind: "const", value: 1 },
      trainable: false,
    });
    this.#param({
      name: `${prefix}.num_batches_tracked`,
      shape: [],
      init: { kind: "const", value: 0 },
      trainable: false,
      counter: true,
    });
    const output = this.#node(x.shape);
    this.layers.push({ op: "batchnorm", input: x, output, prefix });
    return output;
  }

  relu(x: Node): Node {
    const output = this.#node(x.shape);
    this.layers.push({ op: "relu", input: x, output });
    return output;
  }

  maxpool(x: Node, kernel: number, stride: number, padding: number): Node {
    const [n, c, h, w] = x.shape;
    const oh = Math.floor((h + 2 * padding - kernel) / stride) + 1;
    const ow = Math.floor((w + 2 * padding - kernel) / stride) + 1;
    const output = this.#node([n, c, oh, ow]);
    this.layers.push({ op: "maxpool", input: x, output, kernel, stride, padding });
    return output;
  }

  add(a: Node, b: Node): Node {
    if (a.shape.join() !== b.shape.join()) {
      throw new Error(`add: shapes [${a.shape}] and [${b.shape}] differ`);
    }
    const output = this.#node(a.shape);
    this.layers.push({ op: "add", inputs: [a, b], output });
    return output;
  }

  /** Adaptive average pool to `size`×`size` (1 = global average pool), flattened to [N, C·size²]. */
  avgpool(x: Node, size: number): Node {
    const [n, c, h, w] = x.shape;
    if (h % size !== 0 || w % size !== 0) {
      throw new Error(`avgpool: ${h}×${w} is not divisible into ${size}×${size}`);
    }
    const output = this.#node([n, c * size * size]);
    this.layers.push({ op: "avgpool", input: x, output, size });
    return output;
  }

  /** Views [N, …] as [N, product] without copying. */
  flatten(x: Node): Node {
    const features = x.shape.slice(1).reduce((a, b) => a * b, 1);
    return this.#node([x.shape[0], features], x.storage);
  }

  /** `nn.Linear(in, out)` named `name`, on a [N, in] input. */
  linear(name: string, x: Node, out: number, bias = true): Node {
    if (x.shape.length !== 2) {
      throw new Error(`${name}: linear needs a [N, features] input, got [${x.shape}]`);
    }
    const fanIn = x.shape[1];
    const weight = this.#param({
      name: `${name}.weight`,
      shape: [out, fanIn],
      init: { kind: "uniform_fan_in", fanIn },
      trainable: true,
    });
    const biasName = bias
      ? this.#param({
        name: `${name}.bias`,
        shape: [out],
        init: { kind: "uniform_fan_in", fanIn },
        trainable: true,
      })
      : undefined;
    const output = this.#node([x.shape[0], out]);
    this.layers.push({ op: "linear", input: x, output, weight, bias: biasName });
    return output;
  }
}
