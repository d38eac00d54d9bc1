/**
 * DeepFool (Moosavi-Dezfooli et al. 2016) as in Foolbox: a minimal-perturbation attack, L2 or L∞, against
 * the top-10 clean classes, with the overshoot applied to the *total* perturbation (the paper's and Foolbox's
 * choice; torchattacks applies it per step, which is not equivalent). Each step is one GPU submission (one
 * forward, one backward per candidate class); the host reads the per-example active flags between steps to
 * stop once every example is fooled.
 * @module
 */
import type { Dispatch } from "../gpu/device.ts";
import { grid1d } from "../gpu/grid.ts";
import { type Attack, topClasses } from "./attack.ts";
import type { Norm } from "./ops.ts";

/** Settings of {@link deepfool}. */
export interface DeepFoolOptions {
  readonly norm: Norm;
  /** Maximum steps (Foolbox 50; the paper's evaluation used 40). */
  readonly steps?: number;
  /** Classes considered: the top `candidates` clean logits, the first being the predicted class. */
  readonly candidates?: number;
  readonly overshoot?: number;
}

/** Floats per example in `rows` (see kernels/deepfool.wgsl). */
const ROW_STRIDE = 4;

/**
 * DeepFool with Foolbox's defaults (50 steps, 10 candidates, overshoot 0.02) unless overridden.
 *
 * @example
 * ```ts
 * import type { AttackOps } from "./ops.ts";
 * import { Random } from "../random.ts";
 * // Minimal L2 perturbations of the batch loaded into `ops` (see {@link AttackOps.setBatch}).
 * async function minimalPerturbations(ops: AttackOps) {
 *   const { adv } = await deepfool({ norm: "l2" }).run(ops, Infinity, new Random(0));
 *   return adv;
 * }
 * ```
 */
export function deepfool(options: DeepFoolOptions): Attack {
  const { norm } = options;
  const steps = options.steps ?? 50;
  const overshoot = options.overshoot ?? 0.02;
  return {
    name: norm === "l2" ? "deepfool" : "deepfool-linf",
    norm,
    minimal: "clip",
    async run(ops) {
      const { gpu, model } = ops;
      const k = Math.min(options.candidates ?? 10, model.classes);
      const [rowPipes, update] = await Promise.all([
        Promise.all(
          ["begin", "seed", "select_closest"].map((e) => gpu.pipeline({ file: "deepfool", entry: e })),
        ),
        gpu.pipeline({ file: "deepfool", entry: "update" }),
      ]);
      gpu.submit([ops.copy(model.input, ops.x0), ...model.forward()]);
      const logits = await gpu.readF32(model.logits, ops.batch * model.classes);
      const cands = ops.rows(`deepfool.candidates${k}`, k), rows = ops.rows("deepfool.rows", ROW_STRIDE);
      const gnorm = ops.rows("deepfool.gnorm"), flag = ops.rows("deepfool.flag");
      const bestGrad = ops.images("deepfool.w"), total = ops.images("deepfool.total");
      gpu.write(cands, topClasses(logits, model.classes, k));
      gpu.write(
        rows,
        Float32Array.from({ length: ops.batch * ROW_STRIDE }, (_, i) => i % ROW_STRIDE === 0 ? 1 : 0),
      );
      gpu.write(total, new Float32Array(ops.batch * ops.dim));
      const rowKernel = (pipeline: GPUComputePipeline, slot: number) =>
        gpu.bind(pipeline, [
          model.logits,
          cands,
          model.logitsGrad,
          rows,
          gnorm,
          flag,
          gpu.uniform([ops.batch, model.classes, k, slot, norm === "linf" ? 1 : 0]),
        ], grid1d(ops.batch, 64));
      const [begin, seed, select] = rowPipes;
      const step: Dispatch[] = [...model.forward(), rowKernel(begin, 0)];
      for (let slot = 1; slot < k; slot++) {
        step.push(
          rowKernel(seed, slot),
          ...model.backward(),
          ops.norm(model.inputGrad, norm === "linf" ? 1 : 2, gnorm),
          rowKernel(select, slot),
          ops.copy(bestGrad, model.inputGrad, flag),
        );
      }
      step.push(gpu.bind(update, [
        model.input,
        ops.x0,
        bestGrad,
        rows,
        total,
        gpu.uniform([
          ops.batch,
          ops.dim,
          norm === "linf" ? 1 : 0,
          { f32: overshoot },
          { f32: ops.box.lo },
          { f32: ops.box.hi },
        ]),
      ], grid1d(ops.batch * ops.dim)));
      const evaluations = new Float32Array(ops.batch);
      for (let s = 0; s < steps; s++) {
        gpu.submit(step);
        const state = await gpu.readF32(rows, ops.batch * ROW_STRIDE);
        let active = 0;
        for (let r = 0; r < ops.batch; r++) {
          if (state[r * ROW_STRIDE] !== 0) {
            active++;
            evaluations[r]++;
          }
        }
        if (active === 0) break;
      }
      return { adv: model.input, evaluations };
    },
  };
}
