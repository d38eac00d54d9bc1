/**
 * Bench row for the attack suite: one PGD L∞ iteration (forward, per-example CE seed, input backward, sign
 * step + projection) on the default model, `resnet-tiny` at 32 px with 10 classes. PGD-40 iterations/s =
 * 1000 / the row's ms per iteration; the FLOP count is the forward pass's conv and linear work plus the same
 * again for the input gradient (parameter gradients are off under attack).
 * @module
 */
import { AttackOps } from "../lib/attacks/ops.ts";
import { createAttackModel } from "../lib/attacks/model.ts";
import type { Gpu } from "../lib/gpu/device.ts";
import { initialValues } from "../lib/nn/init.ts";
import { buildModel, modelConfig } from "../lib/nn/models.ts";
import { addRow } from "./suite.ts";

/** Multiply-add FLOPs of a model's forward pass (convolutions and linear layers). */
export function forwardFlops(model: ReturnType<typeof buildModel>): number {
  let flops = 0;
  for (const layer of model.graph.layers) {
    if (layer.op === "conv") {
      const [n, out, h, w] = layer.output.shape, inChannels = layer.input.shape[1];
      flops += 2 * n * out * h * w * inChannels * layer.kernel ** 2;
    } else if (layer.op === "linear") {
      const [n, inFeatures] = layer.input.shape;
      flops += 2 * n * inFeatures * layer.output.shape[1];
    }
  }
  return flops;
}

/** Adds the PGD iteration row. */
export function addAttackRows(gpu: Gpu, { batch = 32, eps = 8 / 255 } = {}): void {
  const config = modelConfig("resnet-tiny", { classes: 10, imageSize: 32 });
  const built = buildModel(config, batch);
  addRow({
    task: `PGD L∞ iteration resnet-tiny 32px b${batch}`,
    flops: 2 * forwardFlops(built),
    contenders: {
      neuroguide: async () => {
        const weights = initialValues(built.graph.params, 0);
        const model = await createAttackModel(gpu, config, weights, batch);
        const ops = await AttackOps.create(model);
        ops.setBatch(
          Float32Array.from({ length: batch * ops.dim }, () => Math.random()),
          Uint32Array.from({ length: batch }, (_, i) => i % 10),
        );
        const step = [
          ...ops.gradient("ce"),
          ...ops.step("linf", model.input, model.inputGrad, ops.constant(eps / 30), eps),
        ];
        return async (iterations) => {
          gpu.submit(Array.from({ length: iterations }, () => step).flat());
          await gpu.sync("bench pgd");
        };
      },
    },
  });
}
