/**
 * The training step of a recorded model written with jax-js: the layer tape of {@link BuiltModel} interpreted
 * with jax-js ops (NCHW, `lax.conv`), softmax cross-entropy, `valueAndGrad`, and the SGD-momentum update, all
 * under one `jit`. jax-js has no batch-norm or pooling layer, so train-mode BatchNorm (batch statistics, biased
 * variance, ε = 1e-5, as `torch.nn.BatchNorm2d`) and the (adaptive) average pool are built here from its
 * reductions; max-pool (only the imagenet stem has one) is not. Unlike our step, it does not update the BN
 * running statistics, which a train-mode step never reads (a few per-channel ops per BN layer).
 * @module
 */
import type { Node } from "../lib/nn/graph.ts";
import { layerInputs } from "../lib/nn/layers.ts";
import type { BuiltModel } from "../lib/nn/models.ts";
import { loadJax } from "./peers.ts";

type Jax = Awaited<ReturnType<typeof loadJax>>;
type JArray = InstanceType<Jax["Array"]>;
type Params = Record<string, JArray>;

/** torch's BatchNorm2d default. */
const BN_EPS = 1e-5;

/** A bound jax-js training step: `run()` advances the weights one step and returns that step's loss. */
export interface JaxTrainStep {
  /** One step at the fixed learning rate; the returned loss is of the weights before the update. */
  run(): JArray;
}

/**
 * Binds a jit-compiled SGD-momentum training step (torch semantics: `b = μ·b + g`, `p −= lr·b`, zero initial
 * buffers) of `model` on one fixed batch, starting from `weights` (a state dict by torchvision name; only the
 * trainable tensors are used — BN running statistics play no part in a train-mode step).
 */
export async function jaxTrainStep(
  model: BuiltModel,
  weights: ReadonlyMap<string, Float32Array>,
  batch: { images: Float32Array<ArrayBuffer>; labels: Uint32Array },
  { lr, momentum }: { lr: number; momentum: number },
): Promise<JaxTrainStep> {
  const jax = await loadJax();
  const { jit, valueAndGrad, numpy: np, tree } = jax;
  const classes = model.logits.shape[1];
  let params: Params = {};
  let buffers: Params = {};
  for (const spec of model.graph.params) {
    if (!spec.trainable) continue;
    // Copied: jax-js's typings take only ArrayBuffer-backed arrays.
    params[spec.name] = np.array(new Float32Array(weights.get(spec.name)!)).reshape([...spec.shape]);
    buffers[spec.name] = np.zeros([...spec.shape]);
  }
  const x = np.array(batch.images).reshape([...model.graph.input.shape]);
  const oneHot = np.array(
    Float32Array.from(
      { length: batch.labels.length * classes },
      (_, i) => batch.labels[Math.floor(i / classes)] === i % classes ? 1 : 0,
    ),
  ).reshape([batch.labels.length, classes]);

  const loss = (p: Params, images: JArray, target: JArray): JArray => {
    const logits = forward(jax, model, p, images);
    const n = target.shape[0];
    return jax.nn.logSoftmax(logits, 1).mul(target).sum().mul(-1 / n);
  };
  const step = jit((p: Params, b: Params, images: JArray, target: JArray) => {
    const [value, grads] = valueAndGrad(loss)(tree.ref(p), images, target);
    const nextB = tree.map((bb: JArray, g: JArray) => bb.mul(momentum).add(g), b, grads as Params);
    const nextP = tree.map((pp: JArray, bb: JArray) => pp.sub(bb.mul(lr)), p, tree.ref(nextB));
    return [value, nextP, nextB] as [JArray, Params, Params];
  });
  return {
    run() {
      const [value, nextP, nextB] = step(params, buffers, x.ref, oneHot.ref);
      params = nextP;
      buffers = nextB;
      return value;
    },
  };
}

/** Logits of `model` for `images` under parameters `p` (train-mode BatchNorm); consumes `p` and `images`. */
function forward(jax: Jax, model: BuiltModel, p: Params, images: JArray): JArray {
  const { lax, numpy: np } = jax;
  const { layers } = model.graph;
  // jax-js arrays are reference-counted and every op consumes its operands: count each storage's readers so
  // the last read hands the value over and earlier ones take a reference.
  const readers = new Map<number, number>();
  for (const layer of layers) {
    for (const n of layerInputs(layer)) readers.set(n.storage, (readers.get(n.storage) ?? 0) + 1);
  }
  const values = new Map<number, JArray>([[model.graph.input.storage, images]]);
  const read = (node: Node): JArray => {
    const left = readers.get(node.storage)! - 1;
    readers.set(node.storage, left);
    const value = values.get(node.storage)!;
    const taken = left > 0 ? value.ref : value;
    // A flatten view shares its source's storage; give it its own shape.
    return taken.shape.join() === node.shape.join() ? taken : taken.reshape([...node.shape]);
  };
  const param = (name: string) => p[name].ref;
  const perChannel = (name: string, c: number) => param(name).reshape([1, c, 1, 1]);
  for (const layer of layers) {
    let y: JArray;
    switch (layer.op) {
      case "normalize": {
        const c = layer.mean.length;
        const mean = np.array(Float32Array.from(layer.mean)).reshape([1, c, 1, 1]);
        const invStd = np.array(Float32Array.from(layer.std, (s) => 1 / s)).reshape([1, c, 1, 1]);
        y = read(layer.input).sub(mean).mul(invStd);
        break;
      }
      case "conv": {
        const pad: [number, number][] = [[layer.padding, layer.padding], [layer.padding, layer.padding]];
        y = lax.conv(read(layer.input), param(layer.weight), [layer.stride, layer.stride], pad);
        if (layer.bias) y = y.add(param(layer.bias).reshape([1, -1, 1, 1]));
        break;
      }
      case "batchnorm": {
        const c = layer.input.shape[1];
        const x = read(layer.input);
        const centered = x.ref.sub(x.mean([0, 2, 3], { keepdims: true }));
        const variance = np.square(centered.ref).mean([0, 2, 3], { keepdims: true });
        const invStd = np.reciprocal(np.sqrt(variance.add(BN_EPS)));
        y = centered.mul(invStd).mul(perChannel(`${layer.prefix}.weight`, c))
          .add(perChannel(`${layer.prefix}.bias`, c));
        break;
      }
      case "relu":
        y = jax.nn.relu(read(layer.input));
        break;
      case "add":
        y = read(layer.inputs[0]).add(read(layer.inputs[1]));
        break;
      case "avgpool": {
        // Adaptive pool to s×s of an evenly divisible input: mean over each (h/s)×(w/s) tile, flattened.
        const [n, c, h, w] = layer.input.shape, s = layer.size;
        y = read(layer.input).reshape([n, c, s, h / s, s, w / s]).mean([3, 5]).reshape([n, c * s * s]);
        break;
      }
      case "linear":
        y = np.matmul(read(layer.input), np.transpose(param(layer.weight)));
        if (layer.bias) y = y.add(param(layer.bias));
        break;
      default:
        // maxpool is the imagenet stem's pool; the bench models (cifar stem) have none.
        throw new Error(`jax-js train step: ${layer.op} is not implemented`);
    }
    values.set(layer.output.storage, y);
  }
  // Parameters were all taken by reference; the function must consume its argument once.
  jax.tree.dispose(p);
  return values.get(model.logits.storage)!;
}
