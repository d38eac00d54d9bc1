/**
 * Adversarial attacks on the GPU, for notebooks and `deno task attack`: the attack objects (FGSM/FGM, PGD,
 * DeepFool, APGD-CE/T, FAB-T, Carlini–Wagner, Square, AutoAttack) and the ε-sweep evaluator with AutoAttack's
 * worst-case-per-point bookkeeping, transfer scoring and gradient-masking checks.
 *
 * @example Robust accuracy of a trained model under PGD
 * ```ts
 * import { AttackOps, attackUnit, cleanCorrect, createAttackModel, sweep } from "./mod.ts";
 * import { getGpu } from "../gpu/mod.ts";
 * import { modelConfig, Plan } from "../nn/mod.ts";
 * const gpu = await getGpu();
 * // a randomly initialised 3-class linear model on 1 × 2 × 2 images stands in for a trained one
 * const config = modelConfig("linear", { classes: 3, imageSize: 2, channels: 1 });
 * const init = await Plan.create(gpu, config, 4);
 * init.initialize(0);
 * const model = await createAttackModel(gpu, config, await init.stateDict(), 4);
 * const ops = await AttackOps.create(model);
 * const images = new Float32Array(4 * 4).map((_, i) => (i % 5) / 5);
 * const data = { images, labels: new Uint32Array([0, 1, 2, 0]), count: 4, dim: 4 };
 * const correct = await cleanCorrect(ops, data);
 * const pgd = attackUnit("pgd", "linf", model.classes);
 * const rows = await sweep(ops, data, correct, pgd, { eps: [0.01, 0.1] });
 * console.log(rows.map((r) => `ε=${r.eps}: robust ${r.robust_accuracy} of clean ${r.clean_accuracy}`));
 * ```
 * @module
 */
export { type AttackModel, attackModelFromPlan, createAttackModel } from "./model.ts";
export { AttackOps, type Box as PixelBox, type LossKind, type Norm } from "./ops.ts";
export { type Attack, type AttackOutput, type HostBatch } from "./attack.ts";
export { fgm, fgsm, pgd, PGD_DEFAULTS, type PgdOptions } from "./pgd.ts";
export { deepfool, type DeepFoolOptions } from "./deepfool.ts";
export { apgd, type ApgdOptions } from "./apgd.ts";
export { type FabOptions, fabTargeted } from "./fab.ts";
export { carliniWagner, type CwOptions } from "./cw.ts";
export { square, type SquareOptions } from "./square.ts";
export { apgdTargeted, type AutoAttackPlan, autoAttackStandard, fabTargets } from "./autoattack.ts";
export { ATTACK_NAMES, type AttackKind, attackNorm, type AttackUnit, attackUnit } from "./registry.ts";
export {
  cleanCorrect,
  type Dataset,
  predict,
  probe,
  type ProbeOptions,
  type ProbeResult,
  sweep,
  type SweepOptions,
  type SweepRow,
  type TransferTarget,
} from "./evaluate.ts";
export { type Check, computeChecks, failureBanner } from "./checks.ts";
