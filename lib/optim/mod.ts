/**
 * Optimizers as GPU programs over a model's parameters — {@link Sgd} (momentum, coupled weight decay, as
 * `torch.optim.SGD`) and {@link Adam} (coupled L2 as `torch.optim.Adam`, or decoupled as `AdamW`) — and
 * learning-rate schedules as plain functions of the epoch ({@link stepLR}, {@link cosineAnnealingLR},
 * {@link withWarmup}). {@link Optimizer} is the interface a {@link TrainStep} drives.
 *
 * @example The guided classifier's schedule
 * ```ts
 * import { stepLR } from "./mod.ts";
 * const lr = stepLR({ baseLr: 0.1, stepSize: 20 });
 * console.log(lr(0), lr(20), lr(40)); // 0.1 0.01 0.001 (up to rounding)
 * ```
 * @module
 */
export { Adam, type AdamOptions } from "./adam.ts";
export { Sgd, type SgdOptions } from "./sgd.ts";
export { Optimizer, type OptimParam } from "./optimizer.ts";
export {
  cosineAnnealingLR,
  type CosineOptions,
  type Schedule,
  stepLR,
  type StepLROptions,
  type WarmupOptions,
  withWarmup,
} from "./schedule.ts";
