/**
 * The same models written with tfjs's CPU backend (an independent implementation) as the oracle for our
 * plans: logits, input gradient and parameter gradients from our weights.
 */
import * as tf from "./tfjs.ts";
import type { ModelConfig } from "../../lib/nn/models.ts";

await tf.setBackend("cpu");
export { tf };

type Weights = Map<string, tf.Tensor>;

/** Wraps a state dict (PyTorch layouts) as tfjs tensors; BN counters are left out. */
export function tfWeights(
  values: Map<string, Float32Array>,
  shapes: Map<string, readonly number[]>,
): Weights {
  const out: Weights = new Map();
  for (const [name, data] of values) {
    if (!name.endsWith("num_batches_tracked")) out.set(name, tf.tensor(data, [...shapes.get(name)!]));
  }
  return out;
}

/** Logits (and the neural head, when present) of `config` on NCHW images, in "train" or "eval" BN mode. */
export function tfForward(
  config: ModelConfig,
  w: Weights,
  images: tf.Tensor4D,
  mode: "train" | "eval",
): { logits: tf.Tensor2D; neural?: tf.Tensor2D } {
  const c = config.channels ?? 3;
  const mean = tf.tensor(config.mean!, [1, c, 1, 1]), std = tf.tensor(config.std!, [1, c, 1, 1]);
  const x = images.sub(mean).div(std) as tf.Tensor4D;
  const linear = (name: string, h: tf.Tensor2D) => {
    const y = tf.matMul(h, w.get(`${name}.weight`)!, false, true);
    return (w.has(`${name}.bias`) ? y.add(w.get(`${name}.bias`)!) : y) as tf.Tensor2D;
  };
  let features: tf.Tensor2D;
  let headInput: tf.Tensor2D | undefined;
  if (config.arch === "resnet") {
    // NHWC for tfjs convolutions; flatten back in NCHW order to match our layout.
    const conv = (name: string, h: tf.Tensor4D, stride: number, pad: number) =>
      tf.conv2d(h, w.get(`${name}.weight`)!.transpose([2, 3, 1, 0]) as tf.Tensor4D, stride, [
        [0, 0],
        [pad, pad],
        [pad, pad],
        [0, 0],
      ]);
    const bn = (name: string, h: tf.Tensor4D) => {
      const [m, v] = mode === "train"
        ? (() => {
          const moments = tf.moments(h, [0, 1, 2]);
          return [moments.mean, moments.variance];
        })()
        : [w.get(`${name}.running_mean`)!, w.get(`${name}.running_var`)!];
      return tf.batchNorm(
        h,
        m as tf.Tensor1D,
        v as tf.Tensor1D,
        w.get(`${name}.bias`)! as tf.Tensor1D,
        w.get(`${name}.weight`)! as tf.Tensor1D,
        1e-5,
      );
    };
    const pooled = (h: tf.Tensor4D, s: number) => {
      const [n, hh, ww, ch] = h.shape;
      const blocks = h.reshape([n, s, hh / s, s, ww / s, ch]).mean([2, 4]); // [n, s, s, ch]
      return blocks.transpose([0, 3, 1, 2]).reshape([n, ch * s * s]) as tf.Tensor2D;
    };
    let h = x.transpose([0, 2, 3, 1]) as tf.Tensor4D;
    h = config.stem === "imagenet" ? conv("conv1", h, 2, 3) : conv("conv1", h, 1, 1);
    h = tf.relu(bn("bn1", h));
    if (config.stem === "imagenet") {
      h = tf.maxPool(tf.pad(h, [[0, 0], [1, 1], [1, 1], [0, 0]], -Infinity), 3, 2, "valid");
    }
    config.widths.forEach((_width, stage) => {
      for (let b = 0; b < config.blocks[stage]; b++) {
        const name = `layer${stage + 1}.${b}`;
        const stride = b === 0 && stage > 0 ? 2 : 1;
        let out = tf.relu(bn(`${name}.bn1`, conv(`${name}.conv1`, h, stride, 1)));
        out = bn(`${name}.bn2`, conv(`${name}.conv2`, out, 1, 1));
        const identity = w.has(`${name}.downsample.0.weight`)
          ? bn(`${name}.downsample.1`, conv(`${name}.downsample.0`, h, stride, 0))
          : h;
        h = tf.relu(out.add(identity)) as tf.Tensor4D;
      }
      const position = config.headPosition ?? "layer4";
      if (position === `layer${stage + 1}` && position !== "layer4") {
        headInput = pooled(h, { layer1: 4, layer2: 2, layer3: 2 }[position]);
      }
    });
    features = pooled(h, 1);
  } else {
    let h = x.reshape([x.shape[0], -1]) as tf.Tensor2D;
    if (config.arch === "mlp") config.hidden.forEach((_, i) => h = tf.relu(linear(`hidden.${i}`, h)));
    features = h;
  }
  const logits = linear("fc", features);
  const neural = config.neuralDim ? linear("neural_head", headInput ?? features) : undefined;
  return { logits, neural };
}
