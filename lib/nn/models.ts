/**
 * Model definitions: torchvision's ResNet (and narrower/shallower variants for CPU-sized runs), a linear
 * classifier and an MLP. Every model takes images in [0, 1] and normalises inside, and may carry a neural head
 * `Linear(features → K)` beside the classifier, as in the paper.
 * @module
 */
import { GraphBuilder, type Node } from "./graph.ts";

/** ImageNet normalisation (torchvision). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

/**
 * Where the neural head reads from (docs/method.md#head-position): the pooled penultimate vector or an
 * earlier stage.
 */
export type HeadPosition = "layer1" | "layer2" | "layer3" | "layer4";

interface CommonConfig {
  /** Classifier outputs (for a neural predictor: K PCA components). */
  classes: number;
  /** Neural-head outputs K; 0 or absent = no neural head. */
  neuralDim?: number;
  imageSize: number;
  channels?: number;
  mean?: number[];
  std?: number[];
}

/** Everything needed to rebuild a model; stored in checkpoint metadata. */
export type ModelConfig =
  | CommonConfig & {
    arch: "resnet";
    /** BasicBlocks per stage (torchvision resnet18: [2, 2, 2, 2]). */
    blocks: number[];
    /** Channels per stage (torchvision: [64, 128, 256, 512]). */
    widths: number[];
    /** "imagenet": 7×7/2 conv + 3×3/2 max-pool; "cifar": 3×3/1 conv, no pool (for 32–64 px inputs). */
    stem: "imagenet" | "cifar";
    headPosition?: HeadPosition;
  }
  | CommonConfig & { arch: "linear" }
  | CommonConfig & { arch: "mlp"; hidden: number[] };

/** Named presets for `--arch`. */
export const ARCHITECTURES = {
  /** torchvision resnet18, exactly. */
  resnet18: { arch: "resnet", blocks: [2, 2, 2, 2], widths: [64, 128, 256, 512], stem: "imagenet" },
  /** CIFAR-style ResNet-18 layout for 32–64 px images. */
  "resnet18-cifar": { arch: "resnet", blocks: [2, 2, 2, 2], widths: [64, 128, 256, 512], stem: "cifar" },
  /** The CPU default: one block per stage, a quarter of the width. */
  "resnet-tiny": { arch: "resnet", blocks: [1, 1, 1, 1], widths: [16, 32, 64, 128], stem: "cifar" },
  linear: { arch: "linear" },
  mlp: { arch: "mlp", hidden: [256] },
} as const;

/** Name of a preset in {@link ARCHITECTURES}. */
export type ArchitectureName = keyof typeof ARCHITECTURES;

/**
 * A full config from a preset name and the task sizes.
 *
 * @example
 * ```ts
 * const config = modelConfig("resnet-tiny", { classes: 10, imageSize: 32, neuralDim: 20 });
 * ```
 */
export function modelConfig(name: string, sizes: CommonConfig): ModelConfig {
  const preset = (ARCHITECTURES as Record<string, unknown>)[name];
  if (!preset) {
    throw new Error(`unknown architecture '${name}'; choose one of ${Object.keys(ARCHITECTURES).join(", ")}`);
  }
  const channels = sizes.channels ?? 3;
  // ImageNet statistics for RGB; other channel counts map [0, 1] to [−1, 1].
  const rgb = channels === 3;
  return structuredClone({
    mean: rgb ? IMAGENET_MEAN : Array(channels).fill(0.5),
    std: rgb ? IMAGENET_STD : Array(channels).fill(0.5),
    ...preset,
    ...sizes,
    channels,
  }) as ModelConfig;
}

/** The recorded graph of a model at a batch size, with the nodes callers read. */
export interface BuiltModel {
  readonly config: ModelConfig;
  readonly graph: GraphBuilder;
  readonly logits: Node;
  /** The neural head's output, when the model has one. */
  readonly neural?: Node;
  /** Penultimate features (pooled vector for ResNets). */
  readonly features: Node;
  /** The output of each ResNet stage (`layer1`…, after its last block); empty for models without stages. */
  readonly stages: ReadonlyMap<string, Node>;
}

/** Records `config`'s layers for a batch of `batch` images. */
export function buildModel(config: ModelConfig, batch: number): BuiltModel {
  const channels = config.channels ?? 3;
  const g = new GraphBuilder([batch, channels, config.imageSize, config.imageSize]);
  const x = g.normalize(g.input, config.mean ?? IMAGENET_MEAN, config.std ?? IMAGENET_STD);
  const { features, headInput, stages = new Map() }: {
    features: Node;
    headInput?: Node;
    stages?: Map<string, Node>;
  } = config.arch === "resnet"
    ? resnetTrunk(g, x, config)
    : config.arch === "mlp"
    ? mlpTrunk(g, x, config.hidden)
    : { features: g.flatten(x) };
  const logits = g.linear("fc", features, config.classes);
  const neural = config.neuralDim
    ? g.linear("neural_head", headInput ?? features, config.neuralDim)
    : undefined;
  return { config, graph: g, logits, neural, features, stages };
}

const HEAD_POOL: Record<HeadPosition, number> = { layer1: 4, layer2: 2, layer3: 2, layer4: 1 };

function resnetTrunk(
  g: GraphBuilder,
  x: Node,
  config: Extract<ModelConfig, { arch: "resnet" }>,
): { features: Node; headInput?: Node; stages: Map<string, Node> } {
  let h = config.stem === "imagenet"
    ? g.conv("conv1", x, config.widths[0], 7, 2, 3)
    : g.conv("conv1", x, config.widths[0], 3, 1, 1);
  h = g.relu(g.batchnorm("bn1", h));
  if (config.stem === "imagenet") h = g.maxpool(h, 3, 2, 1);
  const position = config.headPosition ?? "layer4";
  let headInput: Node | undefined;
  const stages = new Map<string, Node>();
  config.widths.forEach((width, stage) => {
    for (let block = 0; block < config.blocks[stage]; block++) {
      const stride = block === 0 && stage > 0 ? 2 : 1;
      h = basicBlock(g, `layer${stage + 1}.${block}`, h, width, stride);
    }
    stages.set(`layer${stage + 1}`, h);
    if (position === `layer${stage + 1}` && position !== "layer4") {
      headInput = g.avgpool(h, HEAD_POOL[position]);
    }
  });
  return { features: g.avgpool(h, 1), headInput, stages };
}

/** torchvision BasicBlock: conv3×3-bn-relu-conv3×3-bn, plus identity or 1×1 conv-bn downsample, then relu. */
function basicBlock(g: GraphBuilder, name: string, x: Node, width: number, stride: number): Node {
  let out = g.relu(g.batchnorm(`${name}.bn1`, g.conv(`${name}.conv1`, x, width, 3, stride, 1)));
  out = g.batchnorm(`${name}.bn2`, g.conv(`${name}.conv2`, out, width, 3, 1, 1));
  const identity = stride !== 1 || x.shape[1] !== width
    ? g.batchnorm(`${name}.downsample.1`, g.conv(`${name}.downsample.0`, x, width, 1, stride, 0))
    : x;
  return g.relu(g.add(out, identity));
}

function mlpTrunk(g: GraphBuilder, x: Node, hidden: number[]): { features: Node } {
  let h = g.flatten(x);
  hidden.forEach((width, i) => h = g.relu(g.linear(`hidden.${i}`, h, width)));
  return { features: h };
}
