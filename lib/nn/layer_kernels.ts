/**
 * Binds one recorded {@link Layer} to its op objects and buffers: the forward dispatches for each mode and the
 * backward dispatches, with per-input accumulation chosen by the plan.
 * @module
 */
import type { Dispatch, Gpu } from "../gpu/device.ts";
import type { Layer, Node } from "./graph.ts";
import { Conv2d } from "../ops/conv2d.ts";
import { Linear } from "../ops/linear.ts";
import { BatchNorm2d } from "../ops/batchnorm.ts";
import { Add, Copy, Relu } from "../ops/elementwise.ts";
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

const size = (node: Node) => node.shape.reduce((a, b) => a * b, 1);
const nchw = (node: Node) => {
  const [batch, channels, height, width] = node.shape;
  return { batch, channels, height, width };
};

/** Creates the op objects for `layer` (compiling pipelines) and returns its bound passes. */
export async function createLayerKernels(gpu: Gpu, layer: Layer, b: LayerBuffers): Promise<LayerKernels> {
  const param = (name: string) => b.params.get(name)!;
  const none: Dispatch[] = [];
  switch (layer.op) {
    case "normalize": {
      const op = await Normalize.create(gpu, { ...nchw(layer.input), mean: layer.mean, std: layer.std });
      const x = b.storage(layer.input), y = b.storage(layer.output);
      const dx = b.gradOf(layer.input), dy = b.gradOf(layer.output);
      return {
        forward: () => op.forward({ x, y }),
        backward: (_mode, [acc]) => dx && dy ? op.backward({ dy, dx }, acc) : none,
      };
    }
    case "conv": {
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
      const x = b.storage(layer.input), y = b.storage(layer.output);
      const dx = b.gradOf(layer.input), dy = b.gradOf(layer.output)!;
      const weight = param(layer.weight), bias = layer.bias ? param(layer.bias) : undefined;
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
    case "linear": {
      const [batch, inFeatures] = layer.input.shape;
      const op = await Linear.create(gpu, {
        batch,
        inFeatures,
        outFeatures: layer.output.shape[1],
        bias: layer.bias !== undefined,
      });
      const x = b.storage(layer.input), y = b.storage(layer.output);
      const dx = b.gradOf(layer.input), dy = b.gradOf(layer.output)!;
      const weight = param(layer.weight), bias = layer.bias ? param(layer.bias) : undefined;
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
    case "batchnorm": {
      const shape = nchw(layer.input);
      const op = await BatchNorm2d.create(gpu, { ...shape, momentum: b.bnMomentum });
      const p = layer.prefix;
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
    }
    case "relu": {
      const op = await Relu.create(gpu, { count: size(layer.input) });
      const x = b.storage(layer.input), y = b.storage(layer.output);
      const dx = b.gradOf(layer.input), dy = b.gradOf(layer.output);
      return {
        forward: () => op.forward({ x, y }),
        backward: (_mode, [acc]) => dx && dy ? op.backward({ y, dy, dx }, acc) : none,
      };
    }
    case "maxpool": {
      const op = await MaxPool2d.create(gpu, {
        ...nchw(layer.input),
        kernel: layer.kernel,
        stride: layer.stride,
        padding: layer.padding,
      });
      const x = b.storage(layer.input), y = b.storage(layer.output);
      const dx = b.gradOf(layer.input), dy = b.gradOf(layer.output);
      const argmax = gpu.buffer(size(layer.output) * 4, "maxpool.argmax");
      return {
        forward: () => op.forward({ x, y, argmax }),
        backward: (_mode, [acc]) => dx && dy ? op.backward({ dy, argmax, dx }, acc) : none,
      };
    }
    case "add": {
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
    }
    case "avgpool": {
      const op = await AdaptiveAvgPool2d.create(gpu, { ...nchw(layer.input), size: layer.size });
      const x = b.storage(layer.input), y = b.storage(layer.output);
      const dx = b.gradOf(layer.input), dy = b.gradOf(layer.output);
      return {
        forward: () => op.forward({ x, y }),
        backward: (_mode, [acc]) => dx && dy ? op.backward({ dy, dx }, acc) : none,
      };
    }
  }
}
