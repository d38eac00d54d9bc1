/**
 * The contract between attacks and the evaluator, and the random starting points the attacks share.
 * An attack runs on the batch loaded into an {@link AttackOps} (clean images, labels) at one ε and leaves its
 * adversarial candidates in a GPU buffer; the evaluator scores them, checks ‖δ‖ and the box, and keeps the
 * worst case per example.
 * @module
 */
import type { Random } from "../random.ts";
import type { AttackOps, Norm } from "./ops.ts";

/** What an attack leaves behind for one batch. */
export interface AttackOutput {
  /** [batch, dim] adversarial candidates (may be `model.input`; read before the next forward). */
  readonly adv: GPUBuffer;
  /** Model evaluations (forward passes) spent per example, or one count for all. */
  readonly evaluations: Float32Array | number;
}

/** One attack at one ε on the current batch. */
export interface Attack {
  /** Name in reports (`pgd`, `apgd-t@3`, …). */
  readonly name: string;
  readonly norm: Norm;
  /**
   * Minimal-perturbation attacks ignore ε: the evaluator runs them once per example and, at each ε, either
   * clips the result to the ball (`clip`: Foolbox's fixed-ε call, for DeepFool) or keeps it only if it is
   * already inside (`filter`: AutoAttack's rule for FAB).
   */
  readonly minimal?: "clip" | "filter";
  run(ops: AttackOps, eps: number, random: Random): Promise<AttackOutput>;
}

/** The clean batch on the host (attacks that need host-side starts or decisions). */
export interface HostBatch {
  readonly images: Float32Array;
  readonly labels: Uint32Array;
  /** Leading rows that are real points; the others pad the fixed batch. */
  readonly count: number;
}

/**
 * Foolbox's random start: x0 + U(−ε, ε)ᵈ for L∞; for L2 x0 + ε·u with u uniform in the unit ball (d + 2
 * Gaussians normalised, first d kept); then clamped to the box.
 */
export function uniformStart(
  clean: Float32Array,
  dim: number,
  norm: Norm,
  eps: number,
  random: Random,
  box: { lo: number; hi: number },
): Float32Array {
  const out = new Float32Array(clean.length);
  const draw = new Float64Array(dim + 2);
  for (let row = 0; row < clean.length / dim; row++) {
    let scale = eps;
    if (norm === "linf") {
      for (let i = 0; i < dim; i++) draw[i] = random.uniform(-1, 1);
    } else {
      let sum = 0;
      for (let i = 0; i < dim + 2; i++) {
        draw[i] = random.normal();
        sum += draw[i] * draw[i];
      }
      scale = eps / Math.sqrt(sum);
    }
    for (let i = 0; i < dim; i++) {
      const k = row * dim + i;
      out[k] = Math.min(box.hi, Math.max(box.lo, clean[k] + scale * draw[i]));
    }
  }
  return out;
}

/**
 * AutoAttack's APGD start: x0 + ε·t/‖t‖∞ with t ~ U[−1, 1]ᵈ for L∞ (not uniform: one coordinate lands on
 * ±ε), x0 + ε·t/‖t‖₂ with t ~ N(0, I) for L2 (on the sphere); then clamped to the box.
 */
export function sphereStart(
  clean: Float32Array,
  dim: number,
  norm: Norm,
  eps: number,
  random: Random,
  box: { lo: number; hi: number },
): Float32Array {
  const out = new Float32Array(clean.length);
  const draw = new Float64Array(dim);
  for (let row = 0; row < clean.length / dim; row++) {
    let size = 0;
    for (let i = 0; i < dim; i++) {
      draw[i] = norm === "linf" ? random.uniform(-1, 1) : random.normal();
      size = norm === "linf" ? Math.max(size, Math.abs(draw[i])) : size + draw[i] * draw[i];
    }
    // AutoAttack's normalize() divides by norm + 1e-12
    const scale = eps / ((norm === "linf" ? size : Math.sqrt(size)) + 1e-12);
    for (let i = 0; i < dim; i++) {
      const k = row * dim + i;
      out[k] = Math.min(box.hi, Math.max(box.lo, clean[k] + scale * draw[i]));
    }
  }
  return out;
}

/** The top-`count` classes of each row of `logits`, by descending logit (ties to the lower index). */
export function topClasses(logits: Float32Array, classes: number, count: number): Uint32Array {
  const rows = logits.length / classes, out = new Uint32Array(rows * count);
  for (let row = 0; row < rows; row++) {
    const order = Array.from({ length: classes }, (_, k) => k);
    order.sort((a, b) => logits[row * classes + b] - logits[row * classes + a] || a - b);
    out.set(order.slice(0, count), row * count);
  }
  return out;
}

/**
 * Targets of the targeted attacks (APGD-T, FAB-T): per example the class with the `rank`-th largest clean
 * logit (rank 2 = the runner-up), written to `out` (u32 per example). Leaves the clean batch in the model input.
 */
export async function cleanTargets(ops: AttackOps, rank: number, out: GPUBuffer): Promise<GPUBuffer> {
  const { gpu, model } = ops;
  gpu.submit([ops.copy(model.input, ops.x0), ...model.forward()]);
  const logits = await gpu.readF32(model.logits, ops.batch * model.classes);
  const top = topClasses(logits, model.classes, rank);
  gpu.write(out, Uint32Array.from({ length: ops.batch }, (_, row) => top[row * rank + rank - 1]));
  return out;
}
