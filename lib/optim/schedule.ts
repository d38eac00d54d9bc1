/**
 * Learning-rate schedules as pure functions of the epoch (or of any step unit, fractional values allowed),
 * following PyTorch's closed forms so a run's learning rates can be recomputed from the epoch alone (resume
 * needs no scheduler state).
 * @module
 */

/** Learning rate at epoch `t` (0-based: `t = 0` is the first epoch). */
export type Schedule = (t: number) => number;

/** Options of {@link stepLR} (torch `StepLR`). */
export interface StepLROptions {
  readonly baseLr: number;
  /** Epochs between decays. */
  readonly stepSize: number;
  /** Factor per decay. Default 0.1. */
  readonly gamma?: number;
}

/**
 * torch `StepLR`: `baseLr·γ^⌊t/stepSize⌋`.
 *
 * @example
 * ```ts
 * const lr = stepLR({ baseLr: 0.1, stepSize: 20 }); // ×0.1 every 20 epochs (docs/method.md#guided-training)
 * lr(0); lr(19); // 0.1, 0.1
 * lr(20); // 0.01
 * ```
 */
export function stepLR({ baseLr, stepSize, gamma = 0.1 }: StepLROptions): Schedule {
  if (!(stepSize > 0)) throw new RangeError(`stepLR: stepSize ${stepSize} must be > 0`);
  return (t) => baseLr * gamma ** Math.floor(t / stepSize);
}

/** Options of {@link cosineAnnealingLR} (torch `CosineAnnealingLR`). */
export interface CosineOptions {
  readonly baseLr: number;
  /** Half-period `T_max`: the rate reaches `minLr` at `t = tMax`. */
  readonly tMax: number;
  /** `eta_min`. Default 0. */
  readonly minLr?: number;
}

/**
 * torch `CosineAnnealingLR` closed form: `minLr + (baseLr − minLr)·(1 + cos(π·t/tMax))/2`. Past `tMax` the
 * cosine continues (the rate rises again), as torch's does; it has no restarts.
 */
export function cosineAnnealingLR({ baseLr, tMax, minLr = 0 }: CosineOptions): Schedule {
  if (!(tMax > 0)) throw new RangeError(`cosineAnnealingLR: tMax ${tMax} must be > 0`);
  return (t) => minLr + (baseLr - minLr) * (1 + Math.cos(Math.PI * t / tMax)) / 2;
}

/** Options of {@link withWarmup}. */
export interface WarmupOptions {
  /** Warmup length, in the schedule's unit. */
  readonly epochs: number;
  /** Fraction of the base rate at `t = 0`. Default 1/3 (torch `LinearLR`'s `start_factor`). */
  readonly startFactor?: number;
}

/**
 * Linear warmup in front of a schedule, as torch `SequentialLR([LinearLR(start_factor, total_iters=epochs),
 * schedule], milestones=[epochs])`: for `t < epochs` the rate is `schedule(0)·(s + (1 − s)·t/epochs)`;
 * afterwards `schedule(t − epochs)` (the main schedule starts from its own epoch 0 at the milestone).
 */
export function withWarmup(schedule: Schedule, { epochs, startFactor = 1 / 3 }: WarmupOptions): Schedule {
  if (!(epochs > 0)) throw new RangeError(`withWarmup: epochs ${epochs} must be > 0`);
  if (!(startFactor > 0 && startFactor <= 1)) {
    throw new RangeError(`withWarmup: startFactor ${startFactor} must be in (0, 1]`);
  }
  return (t) =>
    t < epochs ? schedule(0) * (startFactor + (1 - startFactor) * t / epochs) : schedule(t - epochs);
}
