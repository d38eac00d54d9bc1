/**
 * What a training run costs before it starts: the model's multiply–accumulates per image, and on a software
 * adapter a plain warning when the run is sized for a GPU (the paper's ResNet-18 at 224 px takes hours per
 * step there, and its first ETA would only come after the first steps).
 * @module
 */
import type { AdapterKind } from "../gpu/device.ts";
import { buildModel, type ModelConfig } from "./models.ts";

/**
 * Multiply–accumulates of one forward pass for one image: the convolutions and linear layers (BatchNorm,
 * ReLU, pooling and additions add well under 1 %, as in the usual published counts).
 *
 * @example torchvision's ResNet-18 at 224 px: 1.82 G multiply–accumulates
 * ```ts
 * import { modelConfig } from "./models.ts";
 * const macs = forwardMacsPerImage(modelConfig("resnet18", { classes: 1000, imageSize: 224 }));
 * console.log((macs / 1e9).toFixed(2)); // "1.82"
 * ```
 */
export function forwardMacsPerImage(config: ModelConfig): number {
  const { graph } = buildModel(config, 1);
  const shapes = new Map(graph.params.map((p) => [p.name, p.shape]));
  const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  let macs = 0;
  for (const layer of graph.layers) {
    if (layer.op === "conv") {
      const [, , height, width] = layer.output.shape;
      macs += count(shapes.get(layer.weight)!) * height * width;
    } else if (layer.op === "linear") {
      macs += count(shapes.get(layer.weight)!);
    }
  }
  return macs;
}

/**
 * FLOP/s of a ResNet-18 training step at 224 px on Mesa's software adapter with 2 CPU cores: a paper step
 * (2.79 TFLOP) took about 2 h there (0.4 GFLOP/s), and the machine's speed varies about 2× from day to day.
 * Small models run faster per FLOP (resnet-tiny at 32 px: 1.6–3.3 GFLOP/s in `deno task bench`).
 */
export const SOFTWARE_TRAIN_FLOPS = { low: 0.2e9, high: 0.6e9 } as const;

/** Years, days, hours, minutes or seconds, rounded for a human. */
function roughDuration(seconds: number): string {
  if (seconds >= 365 * 86400) return `${(seconds / (365 * 86400)).toFixed(1)} years`;
  if (seconds >= 2 * 86400) return `${Math.round(seconds / 86400)} days`;
  if (seconds >= 2 * 3600) return `${Math.round(seconds / 3600)} h`;
  if (seconds >= 120) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds)} s`;
}

/**
 * One line saying what a run of `steps` steps of `batch` images of `config` (named `arch`, e.g. `resnet18`)
 * costs when `adapter` is the software one and one step would take over a minute even at its best measured
 * speed; undefined otherwise (a GPU, or a run this machine is meant for); `instead` says what runs here. A
 * training image costs about three forward passes (forward, and a backward pass of twice the work).
 *
 * @example The paper's run is sized for a GPU; the demo's tiny model is not worth a warning
 * ```ts
 * import { modelConfig } from "./models.ts";
 * const paper = modelConfig("resnet18", { classes: 50, imageSize: 224 });
 * console.log(softwareAdapterWarning("cpu", "resnet18", paper, 256, 6000)?.startsWith("resnet18 at 224 px")); // true
 * console.log(softwareAdapterWarning("gpu", "resnet18", paper, 256, 6000)); // undefined
 * const tiny = modelConfig("resnet-tiny", { classes: 10, imageSize: 32 });
 * console.log(softwareAdapterWarning("cpu", "resnet-tiny", tiny, 32, 300)); // undefined
 * ```
 */
export function softwareAdapterWarning(
  adapter: AdapterKind,
  arch: string,
  config: ModelConfig,
  batch: number,
  steps: number,
  instead = "deno task train with no arguments runs the small demo",
): string | undefined {
  if (adapter !== "cpu") return undefined;
  const stepFlops = 3 * 2 * forwardMacsPerImage(config) * batch;
  // Sized for a GPU: one step takes over a minute even at the best speed. A long run of small steps (the
  // controls grid) is this machine's own work, whose time the progress bars measure.
  if (stepFlops / SOFTWARE_TRAIN_FLOPS.high < 60) return undefined;
  const perStep = (rate: number) => roughDuration(stepFlops / rate);
  const total = (rate: number) => roughDuration((stepFlops * steps) / rate);
  return `${arch} at ${config.imageSize} px: ${(stepFlops / 1e12).toFixed(2)} TFLOP per step of ` +
    `${batch} images; at the 0.2–0.6 GFLOP/s such a step reaches on this software adapter that is ` +
    `${perStep(SOFTWARE_TRAIN_FLOPS.high)}–${perStep(SOFTWARE_TRAIN_FLOPS.low)} per step and ` +
    `${total(SOFTWARE_TRAIN_FLOPS.high)}–${total(SOFTWARE_TRAIN_FLOPS.low)} for the ${steps} steps: ` +
    `this run is sized for a GPU (${instead})`;
}
