/**
 * Every layer kind in one place. A kind says what it records into the graph (its inputs, output shape and
 * parameters with their initialisation) and how it binds to the GPU (the forward dispatches of each mode and
 * the backward ones, with per-input accumulation chosen by the plan). Adding a kind is adding an entry to
 * {@link LAYER_KINDS}: `GraphBuilder.layer` records it and the `Plan` binds it, with no other change.
 * @module
 */
import type { Dispatch, Gpu } from "../gpu/device.ts";
import type { LayerRecorder, Node } from "./graph.ts";
import { Conv2d } from "../ops/conv2d.ts";
import { Linear } from "../ops/linear.ts";
import { BatchNorm2d } from "../ops/batchnorm.ts";
import { Add, Copy, Gelu, Relu } from "../ops/elementwise.ts";
import { AdaptiveAvgPool2d, MaxPool2d } from "../ops/pool.ts";
import { Normalize } from "../ops/normalize.ts";

/** Forward and backward of one layer, bound to the plan's buffers. */
export interface LayerKernels {
  forward(mode: "train" | "eval"): Dispatch[];
  /** `accumulate[i]`: add into input i's gradient instead of overwriting it. */
  backward(mode: "train" | "eval", accumulate: boolean[], paramGrads: boolean): Dispatch[];
}

/** Buffers a layer binds: node values and gradients (absent when not needed), parameters and their grads. */
export interface LayerBuffers {
  storage(node: Node): GPUBuffer;
  gradOf(node: Node): GPUBuffer | undefined;
  params: ReadonlyMap<string, GPUBuffer>;
  paramGrads: ReadonlyMap<string, GPUBuffer>;
  /** BatchNorm running-statistics momentum. */
  bnMomentum: number;
}

/** One layer kind: `Args` is what model code passes, `Fields` what the recorded layer holds. */
export interface LayerKind<Args, Fields extends { readonly output: Node }> {
  /** Checks `args` against the input shapes, declares the output and the parameters, returns the fields. */
  record(r: LayerRecorder, args: Args): Fields;
  /** The nodes the layer reads, in the order of `accumulate` in backward. */
  inputs(layer: Fields): Node[];
  /** Gradients flow out of the layer even when none flows in: it has trainable parameters. */
  readonly trainable: boolean;
  /** Creates the op objects (compiling pipelines) and binds both passes to the plan's buffers. */
  bind(gpu: Gpu, layer: Fields, b: LayerBuffers): Promise<LayerKernels>;
}

const size = (node: Node) => node.shape.reduce((a, b) => a * b, 1);
const nchw = (node: Node) => {
  const [batch, channels, height, width] = node.shape;
  return { batch, channels, height, width };
};
const none: Dispatch[] = [];
const single = <F extends { input: Node }>(layer: F) => [layer.input];

/** Output side of a `kernel`×`kernel` window sliding by `stride` over `side` + 2·`padding`. */
const windowSide = (side: number, kernel: number, stride: number, padding: number) =>
  Math.floor((side + 2 * padding - kernel) / stride) + 1;

/** A layer on one input whose op has `forward({x, y})` and `backward({…, dy, dx}, accumulate)`. */
function unaryKernels(
  layer: { input: Node; output: Node },
  b: LayerBuffers,
  op: {
    forward(io: { x: GPUBuffer; y: GPUBuffer }): Dispatch[];
    backward(
      io: { x: GPUBuffer; y: GPUBuffer; dy: GPUBuffer; dx: GPUBuffer },
      accumulate: boolean,
    ): Dispatch[];
  },
): LayerKernels {
  const x = b.storage(layer.input), y = b.storage(layer.output);
  const dx = b.gradOf(layer.input), dy = b.gradOf(layer.output);
  return {
    forward: () => op.forward({ x, y }),
    backward: (_mode, [acc]) => dx && dy ? op.backward({ x, y, dy, dx }, acc) : none,
  };
}

/**
 * Conv and linear share their binding: forward `y = op(x, weight) + bias`, backward parameter gradients
 * (when asked) and the input gradient (when the input carries one).
 */
function weightedKernels(
  layer: { input: Node; output: Node; weight: string; bias?: string },
  b: LayerBuffers,
  op: {
    forward(io: { x: GPUBuffer; weight: GPUBuffer; bias?: GPUBuffer; y: GPUBuffer }): Dispatch[];
    backwardParams(io: { x: GPUBuffer; dy: GPUBuffer; dWeight: GPUBuffer; dBias?: GPUBuffer }): Dispatch[];
    backwardInput(io: { dy: GPUBuffer; weight: GPUBuffer; dx: GPUBuffer }, accumulate: boolean): Dispatch[];
  },
): LayerKernels {
  const x = b.storage(layer.input), y = b.storage(layer.output);
  const dx = b.gradOf(layer.input), dy = b.gradOf(layer.output)!;
  const weight = b.params.get(layer.weight)!, bias = layer.bias ? b.params.get(layer.bias) : undefined;
  const dWeight = b.paramGrads.get(layer.weight)!;
  const dBias = layer.bias ? b.paramGrads.get(layer.bias) : undefined;
  return {
    forward: () => op.forward({ x, weight, bias, y }),
    backward: (_mode, [acc], paramGrads) => [
      ...(paramGrads ? op.backwardParams({ x, dy, dWeight, dBias }) : none),
      ...(dx ? op.backwardInput({ dy, weight, dx }, acc) : none),
    ],
  };
}

/** The two passes of an op on one input (what {@link unaryKernels} binds). */
type UnaryOp = Parameters<typeof unaryKernels>[2];

/** A parameter-free elementwise layer kind whose op class compiles for a `count` of values. */
function activation(
  op: { create(gpu: Gpu, shape: { count: number }): Promise<UnaryOp> },
): LayerKind<{ input: Node }, OneInput> {
  return {
    record: (r, { input }) => ({ input, output: r.node(input.shape) }),
    inputs: single,
    trainable: false,
    bind: async (gpu, layer, b) => unaryKernels(layer, b, await op.create(gpu, { count: size(layer.input) })),
  };
}

/** A layer reading one node. */
interface OneInput {
  input: Node;
  output: Node;
}

/** Every layer kind: what model code passes to record one, and what the recorded layer holds. */
export interface LayerKinds {
  normalize: LayerKind<
    { input: Node; mean: number[]; std: number[] },
    OneInput & { mean: number[]; std: number[] }
  >;
  conv: LayerKind<
    {
      name: string;
      input: Node;
      out: number;
      kernel: number;
      stride: number;
      padding: number;
      bias?: boolean;
    },
    OneInput & { weight: string; bias?: string; kernel: number; stride: number; padding: number }
  >;
  linear: LayerKind<
    { name: string; input: Node; out: number; bias?: boolean },
    OneInput & { weight: string; bias?: string }
  >;
  batchnorm: LayerKind<{ prefix: string; input: Node }, OneInput & { prefix: string }>;
  relu: LayerKind<{ input: Node }, OneInput>;
  gelu: LayerKind<{ input: Node }, OneInput>;
  maxpool: LayerKind<
    { input: Node; kernel: number; stride: number; padding: number },
    OneInput & { kernel: number; stride: number; padding: number }
  >;
  add: LayerKind<{ inputs: [Node, Node] }, { inputs: [Node, Node]; output: Node }>;
  avgpool: LayerKind<{ input: Node; size: number }, OneInput & { size: number }>;
}

/** The layer kinds, by the name layers record as `op`. */
export const LAYER_KINDS: LayerKinds = {
  /** Per-channel `(x − mean) / std`, so models take images in [0, 1]. */
  normalize: {
    record: (r, { input, mean, std }) => ({ input, output: r.node(input.shape), mean, std }),
    inputs: single,
    trainable: false,
    bind: async (gpu, layer, b) => {
      const op = await Normalize.create(gpu, { ...nchw(layer.input), mean: layer.mean, std: layer.std });
      return unaryKernels(layer, b, op);
    },
  },

  /** `nn.Conv2d(in, out, kernel, stride, padding, bias)` named `name`. */
  conv: {
    record: (r, { name, input, out, kernel, stride, padding, bias = false }) => {
      const [n, c, h, w] = input.shape;
      const oh = windowSide(h, kernel, stride, padding), ow = windowSide(w, kernel, stride, padding);
      if (oh < 1 || ow < 1) throw new Error(`${name}: input ${h}×${w} is too small for kernel ${kernel}`);
      const weight = r.param({
        name: `${name}.weight`,
        shape: [out, c, kernel, kernel],
        init: { kind: "kaiming_normal_fan_out" },
        trainable: true,
      });
      const biasName = bias
        ? r.param({
          name: `${name}.bias`,
          shape: [out],
          init: { kind: "uniform_fan_in", fanIn: c * kernel * kernel },
          trainable: true,
        })
        : undefined;
      const output = r.node([n, out, oh, ow]);
      return { input, output, weight, bias: biasName, kernel, stride, padding };
    },
    inputs: single,
    trainable: true,
    bind: async (gpu, layer, b) => {
      const { batch, channels: inChannels, height, width } = nchw(layer.input);
      const op = await Conv2d.create(gpu, {
        batch,
        inChannels,
        height,
        width,
        outChannels: layer.output.shape[1],
        kernel: layer.kernel,
        stride: layer.stride,
        padding: layer.padding,
        bias: layer.bias !== undefined,
      });
      return weightedKernels(layer, b, op);
    },
  },

  /** `nn.Linear(in, out)` named `name`, on a [N, in] input. */
  linear: {
    record: (r, { name, input, out, bias = true }) => {
      if (input.shape.length !== 2) {
        throw new Error(`${name}: linear needs a [N, features] input, got [${input.shape}]`);
      }
      const fanIn = input.shape[1];
      const weight = r.param({
        name: `${name}.weight`,
        shape: [out, fanIn],
        init: { kind: "uniform_fan_in", fanIn },
        trainable: true,
      });
      const biasName = bias
        ? r.param({
          name: `${name}.bias`,
          shape: [out],
          init: { kind: "uniform_fan_in", fanIn },
          trainable: true,
        })
        : undefined;
      return { input, output: r.node([input.shape[0], out]), weight, bias: biasName };
    },
    inputs: single,
    trainable: true,
    bind: async (gpu, layer, b) => {
      const [batch, inFeatures] = layer.input.shape;
      const op = await Linear.create(gpu, {
        batch,
        inFeatures,
        outFeatures: layer.output.shape[1],
        bias: layer.bias !== undefined,
      });
      return weightedKernels(layer, b, op);
    },
  },

  /** `nn.BatchNorm2d` named `prefix` (weight, bias, running_mean, running_var, num_batches_tracked). */
  batchnorm: {
    record: (r, { prefix, input }) => {
      const c = input.shape[1];
      const constant = (value: number) => ({ kind: "const", value }) as const;
      r.param({ name: `${prefix}.weight`, shape: [c], init: constant(1), trainable: true });
      r.param({ name: `${prefix}.bias`, shape: [c], init: constant(0), trainable: true });
      r.param({ name: `${prefix}.running_mean`, shape: [c], init: constant(0), trainable: false });
      r.param({ name: `${prefix}.running_var`, shape: [c], init: constant(1), trainable: false });
      r.param({
        name: `${prefix}.num_batches_tracked`,
        shape: [],
        init: constant(0),
        trainable: false,
        counter: true,
      });
      return { input, output: r.node(input.shape), prefix };
    },
    inputs: single,
    trainable: true,
    bind: async (gpu, layer, b) => {
      const shape = nchw(layer.input);
      const op = await BatchNorm2d.create(gpu, { ...shape, momentum: b.bnMomentum });
      const p = layer.prefix;
      const param = (name: string) => b.params.get(name)!;
      const x = b.storage(layer.input), y = b.storage(layer.output);
      const dx = b.gradOf(layer.input), dy = b.gradOf(layer.output)!;
      const weight = param(`${p}.weight`), bias = param(`${p}.bias`);
      const runningMean = param(`${p}.running_mean`), runningVar = param(`${p}.running_var`);
      // Batch statistics saved by the train forward for its backward: allocated once per layer.
      const saveMean = gpu.buffer(shape.channels * 4, `${p}.save_mean`);
      const saveInvStd = gpu.buffer(shape.channels * 4, `${p}.save_invstd`);
      // Backward with frozen parameters still needs somewhere to write dWeight/dBias in train mode.
      const dWeight = b.paramGrads.get(`${p}.weight`) ?? gpu.buffer(shape.channels * 4, `${p}.dweight`);
      const dBias = b.paramGrads.get(`${p}.bias`) ?? gpu.buffer(shape.channels * 4, `${p}.dbias`);
      return {
        forward: (mode) =>
          mode === "train"
            ? op.forwardTrain({ x, weight, bias, runningMean, runningVar, y, saveMean, saveInvStd })
            : op.forwardEval({ x, weight, bias, runningMean, runningVar, y }),
        backward: (mode, [acc]) => {
          if (mode === "eval") return dx ? op.backwardEval({ dy, weight, runningVar, dx }, acc) : none;
          // The train-mode kernel computes dx together with the parameter gradients.
          const target = dx ?? gpu.buffer(size(layer.input) * 4, `${p}.dx-unused`);
          return op.backwardTrain({ x, dy, weight, saveMean, saveInvStd, dx: target, dWeight, dBias }, acc);
        },
      };
    },
  },

  relu: activation(Relu),
  /** GELU, tanh approximation (`nn.GELU(approximate="tanh")`). */
  gelu: activation(Gelu),

  maxpool: {
    record: (r, { input, kernel, stride, padding }) => {
      const [n, c, h, w] = input.shape;
      const oh = windowSide(h, kernel, stride, padding), ow = windowSide(w, kernel, stride, padding);
      return { input, output: r.node([n, c, oh, ow]), kernel, stride, padding };
    },
    inputs: single,
    trainable: false,
    bind: async (gpu, layer, b) => {
      const op = await MaxPool2d.create(gpu, {
        ...nchw(layer.input),
        kernel: layer.kernel,
        stride: layer.stride,
        padding: layer.padding,
      });
      const argmax = gpu.buffer(size(layer.output) * 4, "maxpool.argmax");
      return unaryKernels(layer, b, {
        forward: ({ x, y }) => op.forward({ x, y, argmax }),
        backward: ({ dy, dx }, acc) => op.backward({ dy, argmax, dx }, acc),
      });
    },
  },

  /** Residual add; both inputs receive the output's gradient. */
  add: {
    record: (r, { inputs }) => {
      const [a, b] = inputs;
      if (a.shape.join() !== b.shape.join()) {
        throw new Error(`add: shapes [${a.shape}] and [${b.shape}] differ`);
      }
      return { inputs, output: r.node(a.shape) };
    },
    inputs: (layer) => layer.inputs,
    trainable: false,
    bind: async (gpu, layer, b) => {
      const [left, right] = layer.inputs;
      const add = await Add.create(gpu, { count: size(layer.output) });
      const copy = await Copy.create(gpu, { count: size(layer.output) });
      const a = b.storage(left), bb = b.storage(right), y = b.storage(layer.output);
      const da = b.gradOf(left), db = b.gradOf(right), dy = b.gradOf(layer.output);
      return {
        forward: () => add.forward({ a, b: bb, y }),
        backward: (_mode, [accA, accB]) => [
          ...(da && dy ? copy.forward({ x: dy, y: da }, accA) : none),
          ...(db && dy ? copy.forward({ x: dy, y: db }, accB) : none),
        ],
      };
    },
  },

  /** Adaptive average pool to `size`×`size` (1 = global average pool), flattened to [N, C·size²]. */
  avgpool: {
    record: (r, { input, size }) => {
      const [n, c, h, w] = input.shape;
      if (h % size !== 0 || w % size !== 0) {
        throw new Error(`avgpool: ${h}×${w} is not divisible into ${size}×${size}`);
      }
      return { input, output: r.node([n, c * size * size]), size };
    },
    inputs: single,
    trainable: false,
    bind: async (gpu, layer, b) => {
      const op = await AdaptiveAvgPool2d.create(gpu, { ...nchw(layer.input), size: layer.size });
      return unaryKernels(layer, b, op);
    },
  },
};

/** The name of a layer kind. */
export type LayerKindName = keyof LayerKinds;
/** What model code passes to record a layer of kind `K`. */
export type LayerArgs<K extends LayerKindName> = Parameters<LayerKinds[K]["record"]>[1];
/** A recorded layer of kind `K`: its `op` and the fields its kind records. */
export type LayerOf<K extends LayerKindName> =
  & { readonly op: K }
  & ReturnType<LayerKinds[K]["record"]>;
/** One recorded layer, of any kind. */
export type Layer = { [K in LayerKindName]: LayerOf<K> }[LayerKindName];

/** The kind of `layer`, typed for any layer. */
function kindOf(layer: Layer): LayerKind<unknown, Layer> {
  return LAYER_KINDS[layer.op] as unknown as LayerKind<unknown, Layer>;
}

/** The nodes `layer` reads, in backward's `accumulate` order. */
export function layerInputs(layer: Layer): Node[] {
  return kindOf(layer).inputs(layer);
}

/** Whether `layer` has trainable parameters. */
export function hasTrainableParams(layer: Layer): boolean {
  return kindOf(layer).trainable;
}

/** Creates the op objects for `layer` (compiling pipelines) and returns its bound passes. */
export async function createLayerKernels(gpu: Gpu, layer: Layer, b: LayerBuffers): Promise<LayerKernels> {
  return await kindOf(layer).bind(gpu, layer, b);
}
