/**
 * Auto-PGD (Croce & Hein 2020) as in auto-attack's `autopgd_base.py`: APGD-CE (cross-entropy) and APGD-T
 * (targeted DLR, one run per target class). Step η = 2ε per example, momentum 0.75 (none at the first
 * iteration), η halved at the checkpoints of {@link checkpointSchedule} when the loss oscillates or stalls,
 * restarting from the best point. All per-example decisions run on the GPU (`kernels/apgd_state.wgsl`), so a
 * whole run is one submission; the host reads per-example state once, at the end.
 * @module
 */
import type { Dispatch } from "../gpu/device.ts";
import type { Attack } from "./attack.ts";
import { cleanTargets, sphereStart } from "./attack.ts";
import type { AttackOps, LossKind, Norm } from "./ops.ts";

/** Settings of {@link apgd}. */
export interface ApgdOptions {
  readonly norm: Norm;
  /** `ce` for APGD-CE, `dlr` for APGD-DLR, `dlr-targeted` for APGD-T (needs `targetRank`). */
  readonly loss: "ce" | "dlr" | "dlr-targeted";
  /** Iterations (AutoAttack standard: 100). */
  readonly iterations?: number;
  /** Loss-increase fraction below which η is halved (ρ = 0.75). */
  readonly rho?: number;
  /** APGD-T: attack the class with the `targetRank`-th largest clean logit (2 = the runner-up). */
  readonly targetRank?: number;
}

/** Floats of per-example state in apgd_state.wgsl. */
const STATE_STRIDE = 6;
/** Index of the "ever misclassified" flag in that state. */
const FOOLED_SLOT = 5;

/**
 * Iteration counts after which APGD checks its step size: the first after ⌊0.22N⌋, then intervals shrinking
 * by ⌊0.03N⌋ down to ⌊0.06N⌋ (each at least 1). N = 100 → 22, 41, 57, 70, 80, 87, 93, 99.
 */
export function checkpointSchedule(iterations: number): { at: number; interval: number }[] {
  const first = Math.max(Math.floor(0.22 * iterations), 1);
  const minimum = Math.max(Math.floor(0.06 * iterations), 1);
  const decrement = Math.max(Math.floor(0.03 * iterations), 1);
  const checks: { at: number; interval: number }[] = [];
  for (let interval = first, at = first; at <= iterations;) {
    checks.push({ at, interval });
    interval = Math.max(interval - decrement, minimum);
    at += interval;
  }
  return checks;
}

/**
 * APGD with AutoAttack's standard settings unless overridden.
 *
 * @example
 * ```ts
 * const attacks = [apgd({ norm: "linf", loss: "ce" }), apgd({ norm: "linf", loss: "dlr-targeted", targetRank: 2 })];
 * ```
 */
export function apgd(options: ApgdOptions): Attack {
  const { norm, loss } = options;
  const iterations = options.iterations ?? 100;
  const rho = options.rho ?? 0.75;
  if (loss === "dlr-targeted" && !(options.targetRank && options.targetRank >= 2)) {
    throw new Error("apgd: the targeted DLR loss needs targetRank >= 2");
  }
  const base = loss === "ce" ? "apgd-ce" : loss === "dlr" ? "apgd-dlr" : `apgd-t@${options.targetRank}`;
  return {
    name: norm === "linf" ? base : `${base}-l2`,
    norm,
    async run(ops, eps, random) {
      const { gpu, model } = ops;
      const buffers = await scratch(ops);
      const targets = loss === "dlr-targeted"
        ? await cleanTargets(ops, options.targetRank!, buffers.targets)
        : undefined;
      const { previous, candidate, best, bestGrad, adv, state, rate, improved, halve } = buffers;
      // The iterate lives in the model's input buffer, so the forward pass reads it without a copy.
      const current = model.input, grad = model.inputGrad;
      const rowParams = (interval: number) =>
        gpu.uniform([ops.batch, interval, { f32: 2 * eps }, { f32: rho }]);
      const rowKernel = (entry: string, interval = 0) =>
        gpu.bind(
          buffers.kernels[entry],
          [ops.lossValues, ops.fooled, state, rate, improved, halve, rowParams(interval)],
          [Math.ceil(ops.batch / 64)],
        );

      gpu.write(current, sphereStart(ops.host.images, ops.dim, norm, eps, random, ops.box));
      const list: Dispatch[] = [
        ...ops.gradient(loss as LossKind, targets),
        rowKernel("init"),
        ops.copy(previous, current),
        ops.copy(best, current),
        ops.copy(adv, current),
        ops.copy(bestGrad, grad),
      ];
      // The iteration body is bound once; only checkpoints differ (their interval is in the uniform).
      const body: Dispatch[] = [
        ops.copy(candidate, current),
        ...ops.step(norm, candidate, grad, rate, eps),
      ];
      const afterMomentum: Dispatch[] = [
        ...ops.project(norm, current, eps),
        ...ops.gradient(loss as LossKind, targets),
        rowKernel("track"),
        ops.copy(best, current, improved),
        ops.copy(bestGrad, grad, improved),
        ops.copy(adv, current, ops.fooled),
      ];
      const first = ops.momentum(current, candidate, previous, 1);
      const later = ops.momentum(current, candidate, previous, 0.75);
      const checks = new Map(checkpointSchedule(iterations).map((c) => [c.at, c.interval]));
      for (let i = 0; i < iterations; i++) {
        list.push(...body, i === 0 ? first : later, ...afterMomentum);
        const interval = checks.get(i + 1);
        if (interval !== undefined) {
          list.push(
            rowKernel("checkpoint", interval),
            ops.copy(current, best, halve),
            ops.copy(grad, bestGrad, halve),
          );
        }
      }
      gpu.submit(list);
      const rows = await gpu.readF32(state, ops.batch * STATE_STRIDE);
      const everFooled = Float32Array.from(
        { length: ops.batch },
        (_, r) => rows[r * STATE_STRIDE + FOOLED_SLOT],
      );
      // Fooled examples return their last misclassified iterate, the others their highest-loss point.
      gpu.write(halve, everFooled);
      gpu.submit([ops.copy(best, adv, halve)]);
      return { adv: best, evaluations: iterations + 1 };
    },
  };
}

/** APGD's buffers and row kernels; the buffers are made once per {@link AttackOps} (cached by label). */
async function scratch(ops: AttackOps) {
  const entries = ["init", "track", "checkpoint"];
  const pipelines = await Promise.all(
    entries.map((entry) => ops.gpu.pipeline({ file: "apgd_state", entry })),
  );
  return {
    previous: ops.images("apgd.previous"),
    candidate: ops.images("apgd.candidate"),
    best: ops.images("apgd.best"),
    bestGrad: ops.images("apgd.bestGrad"),
    adv: ops.images("apgd.adv"),
    state: ops.rows("apgd.state", STATE_STRIDE),
    rate: ops.rows("apgd.rate"),
    improved: ops.rows("apgd.improved"),
    halve: ops.rows("apgd.halve"),
    targets: ops.rows("apgd.targets"),
    kernels: Object.fromEntries(entries.map((e, i) => [e, pipelines[i]])) as Record<
      string,
      GPUComputePipeline
    >,
  };
}
