/**
 * Adversarial attacks on the GPU, for notebooks and `deno task attack`: the attack objects (FGSM/FGM, PGD,
 * DeepFool, APGD-CE/T, FAB-T, Carlini–Wagner, Square, AutoAttack) and the ε-sweep evaluator with AutoAttack's
 * worst-case-per-point bookkeeping, transfer scoring and gradient-masking checks.
 *
 * @example Robust accuracy of a trained model under PGD
 * ```ts
 * import { AttackOps, attackUnit, cleanCorrect, createAttackModel, sweep } from "./lib/attacks/mod.ts";
 * const model = await createAttackModel(gpu, config, weights, 32);
 * const ops = await AttackOps.create(model);
 * const correct = await cleanCorrect(ops, data);
 * const rows = await sweep(ops, data, correct, attackUnit("pgd", "linf", model.classes), { eps: [0.002, 0.004] });
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
