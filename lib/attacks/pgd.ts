/**
 * Projected gradient descent on the cross-entropy (Madry et al. 2018) with Foolbox's defaults: L∞ 40 steps of
 * ε/30 (`rel_stepsize` 0.01/0.3) and L2 50 steps of 0.025ε, both from a uniform random start, the L∞ step
 * along sign(∇), the L2 step along ∇/‖∇‖₂, each followed by projection onto the ε-ball and the box. The whole
 * run is one GPU submission: no readback until the evaluator scores the result.
 * @module
 */
import type { Attack } from "./attack.ts";
import { uniformStart } from "./attack.ts";
import type { Norm } from "./ops.ts";

/** Settings of {@link pgd}. */
export interface PgdOptions {
  readonly norm: Norm;
  /** Iterations (Foolbox: 40 for L∞, 50 for L2). */
  readonly steps?: number;
  /** Step size as a fraction of ε (Foolbox: 1/30 for L∞, 0.025 for L2). */
  readonly relStep?: number;
  /** Start from a uniform random point of the ball (default true). */
  readonly randomStart?: boolean;
  /** Report name (default `pgd` / `pgd-l2`). */
  readonly name?: string;
}

/** Foolbox's PGD defaults per norm. */
export const PGD_DEFAULTS: Record<Norm, { steps: number; relStep: number }> = {
  linf: { steps: 40, relStep: 0.01 / 0.3 },
  l2: { steps: 50, relStep: 0.025 },
};

/**
 * PGD with Foolbox's defaults unless overridden.
 *
 * @example
 * ```ts
 * import type { AttackOps } from "./ops.ts";
 * import { Random } from "../random.ts";
 * // L∞ PGD (Foolbox's defaults) at ε = 8/255 on the batch loaded into `ops`.
 * async function pgdImages(ops: AttackOps) {
 *   const { adv } = await pgd({ norm: "linf" }).run(ops, 8 / 255, new Random(0));
 *   return adv;
 * }
 * ```
 */
export function pgd(options: PgdOptions): Attack {
  const { norm } = options;
  const steps = options.steps ?? PGD_DEFAULTS[norm].steps;
  const relStep = options.relStep ?? PGD_DEFAULTS[norm].relStep;
  const randomStart = options.randomStart ?? true;
  return {
    name: options.name ?? (norm === "linf" ? "pgd" : "pgd-l2"),
    norm,
    async run(ops, eps, random) {
      const { model, gpu } = ops;
      const start = randomStart
        ? uniformStart(ops.host.images, ops.dim, norm, eps, random, ops.box)
        : ops.host.images;
      gpu.write(model.input, start);
      const rate = ops.constant(relStep * eps);
      const step = [...ops.gradient("ce"), ...ops.step(norm, model.input, model.inputGrad, rate, eps)];
      gpu.submit(Array.from({ length: steps }, () => step).flat());
      await gpu.sync("pgd");
      return { adv: model.input, evaluations: steps };
    },
  };
}

/** FGSM (Goodfellow et al. 2015): one L∞ step of size ε from the clean point (Foolbox `LinfFastGradientAttack`). */
export function fgsm(): Attack {
  return pgd({ norm: "linf", steps: 1, relStep: 1, randomStart: false, name: "fgsm" });
}

/** FGM: one L2 step ε·∇/‖∇‖₂ from the clean point (Foolbox `L2FastGradientAttack`). */
export function fgm(): Attack {
  return pgd({ norm: "l2", steps: 1, relStep: 1, randomStart: false, name: "fgm" });
}
