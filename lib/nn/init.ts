/**
 * Initial parameter values as torchvision initialises ResNets: conv weights Kaiming-normal (fan_out, ReLU gain),
 * BN weight 1 / bias 0, Linear weight and bias U(±1/√fan_in). Seeded, so runs are reproducible.
 * @module
 */
import type { ParamSpec } from "./graph.ts";
import { Random } from "../random.ts";

/** One Float32Array per spec (BN counters as a 1-element array), drawn from `seed` in spec order. */
export function initialValues(specs: readonly ParamSpec[], seed: number): Map<string, Float32Array> {
  const random = new Random(seed);
  const out = new Map<string, Float32Array>();
  for (const spec of specs) {
    const size = Math.max(1, spec.shape.reduce((a, b) => a * b, 1));
    const data = new Float32Array(size);
    const init = spec.init;
    if (init.kind === "const") data.fill(init.value);
    else if (init.kind === "uniform_fan_in") {
      const bound = 1 / Math.sqrt(init.fanIn);
      for (let i = 0; i < size; i++) data[i] = (2 * random.next() - 1) * bound;
    } else {
      const [out, , kh, kw] = spec.shape;
      const std = Math.sqrt(2 / (out * kh * kw));
      for (let i = 0; i < size; i++) data[i] = random.normal() * std;
    }
    out.set(spec.name, data);
  }
  return out;
}
