/**
 * FAB-T, the targeted Fast Adaptive Boundary attack (Croce & Hein 2020), as AutoAttack's `standard` runs it:
 * one run per target class (rank 2 … 10 of the clean logits), 100 iterations from the clean point, α_max 0.1,
 * η 1.05, β 0.9, L∞ or L2. A minimal-norm attack: it ignores ε, and the evaluator keeps a result only where
 * its norm is within ε (AutoAttack's filter). Every iteration is GPU work (`kernels/fab.wgsl`: seed,
 * box-constrained projections, check); one submission per run.
 * @module
 */
import type { Dispatch } from "../gpu/device.ts";
import { grid1d } from "../gpu/grid.ts";
import { type Attack, cleanTargets } from "./attack.ts";
import type { Norm } from "./ops.ts";

/** Settings of {@link fabTargeted}. */
export interface FabOptions {
  readonly norm: Norm;
  /** Attack the class with the `targetRank`-th largest clean logit (≥ 2). */
  readonly targetRank: number;
  readonly iterations?: number;
  readonly alphaMax?: number;
  readonly eta?: number;
  readonly beta?: number;
}

/** Floats per example in the kernel's `rows`: [z_t − z_y, best norm]. */
const ROW_STRIDE = 2;
/** The reference's "no adversarial found yet" norm. */
const NONE = 1e10;

/**
 * FAB-T against one target rank, with AutoAttack's settings unless overridden.
 *
 * @example
 * ```ts
 * const attacks = [2, 3, 4].map((targetRank) => fabTargeted({ norm: "linf", targetRank }));
 * ```
 */
export function fabTargeted(options: FabOptions): Attack {
  const { norm, targetRank } = options;
  const iterations = options.iterations ?? 100;
  const linf = norm === "linf" ? 1 : 0;
  return {
    name: `fab-t@${targetRank}${norm === "l2" ? "-l2" : ""}`,
    norm,
    minimal: "filter",
    async run(ops) {
      const { gpu, model } = ops;
      const [seed, project, check] = await Promise.all(
        ["seed", "project", "check"].map((entry) => gpu.pipeline({ file: "fab", entry })),
      );
      const targets = await cleanTargets(ops, targetRank, ops.rows("fab.targets"));
      const rows = ops.rows("fab.rows", ROW_STRIDE), adv = ops.images("fab.adv");
      gpu.write(rows, Float32Array.from({ length: ops.batch * ROW_STRIDE }, (_, i) => i % 2 ? NONE : 0));
      const perRow = grid1d(ops.batch, 64);
      const iteration: Dispatch[] = [
        ...model.forward(),
        gpu.bind(seed, [
          model.logits,
          ops.labels,
          targets,
          model.logitsGrad,
          rows,
          gpu.uniform([ops.batch, model.classes]),
        ], perRow),
        ...model.backward(),
        gpu.bind(project, [
          model.input,
          ops.x0,
          model.inputGrad,
          rows,
          gpu.uniform([
            ops.batch,
            ops.dim,
            linf,
            { f32: options.eta ?? 1.05 },
            { f32: options.alphaMax ?? 0.1 },
            { f32: ops.box.lo },
            { f32: ops.box.hi },
          ]),
        ], perRow),
        ...model.forward(),
        gpu.bind(check, [
          model.logits,
          ops.labels,
          model.input,
          ops.x0,
          adv,
          rows,
          gpu.uniform([ops.batch, model.classes, ops.dim, linf, { f32: options.beta ?? 0.9 }]),
        ], perRow),
      ];
      // x1 starts at the clean point (no random start in AutoAttack's single restart); unsuccessful
      // examples return the clean point, as the reference's adv_c.
      gpu.submit([
        ops.copy(model.input, ops.x0),
        ops.copy(adv, ops.x0),
        ...Array.from({ length: iterations }, () => iteration).flat(),
      ]);
      await gpu.sync("fab");
      return { adv, evaluations: 2 * iterations };
    },
  };
}
