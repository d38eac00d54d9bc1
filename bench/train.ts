/**
 * Bench row for training: one full step of the default model, `resnet-tiny` at 32 px with 10 classes (forward
 * in train mode, softmax cross-entropy, backward, SGD with momentum 0.9), ours (`Plan` + `TrainStep`) against
 * the same model's step in jax-js (`bench/jax_train.ts`), both starting from the same weights on the same
 * batch. Before jax-js is timed its losses of the first steps must match ours; the row's report is a per-kernel profile of
 * our step (`lib/gpu/profile.ts`). FLOPs: 3× the forward's conv and linear work (forward, input gradient,
 * weight gradient; the stem's input gradient, which is not computed, is < 1% of it).
 * @module
 */
import type { Gpu } from "../lib/gpu/device.ts";
import { type DispatchTiming, profileDispatches } from "../lib/gpu/profile.ts";
import { buildModel, modelConfig } from "../lib/nn/models.ts";
import { Plan } from "../lib/nn/plan.ts";
import { TrainStep } from "../lib/nn/train_step.ts";
import { forwardFlops } from "./attack.ts";
import { jaxTrainStep } from "./jax_train.ts";
import { addRow } from "./suite.ts";

/**
 * Steps whose losses must agree before jax-js is timed: the first checks the forward and loss from the same
 * weights, the second also the gradients and the momentum update of the first.
 */
const CHECKED_STEPS = 2;
/** Largest relative loss difference accepted (float32 sums in different orders differ by ~1e-6). */
const LOSS_TOLERANCE = 1e-3;
/** Steps averaged in the profile. */
const PROFILED_STEPS = 3;

/** Adds the training-step row. */
export function addTrainRows(
  gpu: Gpu,
  { batch = 32, lr = 0.01, momentum = 0.9, seed = 0 } = {},
): void {
  const config = modelConfig("resnet-tiny", { classes: 10, imageSize: 32 });
  const built = buildModel(config, batch);
  const images = Float32Array.from({ length: built.graph.input.shape.reduce((a, b) => a * b) }, Math.random);
  const labels = Uint32Array.from({ length: batch }, (_, i) => i % config.classes);
  // One bound step serves our contender, the jax-js check (the losses of its first steps) and the
  // profile; created on first use so that a BENCH_ONLY run that skips the row builds nothing.
  let ours: Promise<{ step: TrainStep; weights: Map<string, Float32Array>; losses: number[] }> | undefined;
  const setup = () =>
    ours ??= (async () => {
      const plan = await Plan.create(gpu, config, batch);
      plan.initialize(seed);
      const weights = await plan.stateDict();
      const step = await TrainStep.create(gpu, plan, { kind: "sgd", momentum }, { kind: "guide", alpha: 0 });
      plan.setInput(images);
      gpu.write(step.labels, labels);
      for (let i = 0; i < CHECKED_STEPS; i++) await step.run(lr);
      return { step, weights, losses: (await step.flush()).map((l) => l.total) };
    })();
  addRow({
    task: `train step resnet-tiny 32px b${batch} (SGD momentum)`,
    flops: 3 * forwardFlops(built),
    items: { count: batch, unit: "images" },
    contenders: {
      neuroguide: async () => {
        const { step } = await setup();
        return async (iterations) => {
          for (let i = 0; i < iterations; i++) await step.run(lr);
          await step.flush();
        };
      },
      "jax-js": async () => {
        const { weights, losses } = await setup();
        const jax = await jaxTrainStep(built, weights, { images, labels }, { lr, momentum });
        for (const [i, ourLoss] of losses.entries()) {
          const [loss] = await jax.run().data() as Float32Array;
          const relative = Math.abs(loss - ourLoss) / Math.abs(ourLoss);
          if (!(relative <= LOSS_TOLERANCE)) {
            throw new Error(
              `jax-js step is not ours: loss of step ${i + 1} ${loss} vs ${ourLoss} (relative ${relative})`,
            );
          }
          console.error(`  train step ${i + 1}: loss jax-js ${loss}, ours ${ourLoss} (relative ${relative})`);
        }
        return async (iterations) => {
          let last = jax.run();
          for (let i = 1; i < iterations; i++) {
            last.dispose();
            last = jax.run();
          }
          await last.data();
        };
      },
    },
    report: async () => {
      const { step } = await setup();
      const timings = await profileDispatches(gpu, async () => {
        for (let i = 0; i < PROFILED_STEPS; i++) await step.run(lr);
        await step.flush();
      });
      return profileReport(timings, PROFILED_STEPS);
    },
  });
}

/**
 * Kernel groups of the profile, first match wins. Pipeline labels are `file#entry#constants`; GEMM-based ops
 * name their files joined with "+", generated element-wise kernels are `expr:<Op>[.dx]:<hash>`.
 */
const KERNEL_GROUPS: readonly [RegExp, string][] = [
  [/conv2d_forward/, "conv fwd (GEMM)"],
  [/conv2d_input_grad/, "conv dX (GEMM)"],
  [/conv2d_weight_grad/, "conv dW (GEMM, split-k partials)"],
  [/^gemm_splitk#/, "conv dW split-k sum"],
  [/^conv2d_weight_layout#/, "conv weight re-layout (fwd, dX)"],
  [/^expr:BatchNorm2d\.train:|^batchnorm#stats_/, "BN fwd (batch stats + apply)"],
  [/^expr:BatchNorm2d\.train\.dx:|^batchnorm#grad_/, "BN bwd (dγ, dβ, dX)"],
  [/^expr:Relu:/, "relu fwd"],
  [/^expr:Relu\.dx:/, "relu bwd"],
  [/^expr:Add:/, "residual add"],
  [/^expr:Copy:/, "residual grad copy"],
  [/^expr:Normalize/, "input normalize"],
  [/^avgpool#/, "global avg pool fwd+bwd"],
  [/^matmul\+|^bias_grad#/, "fc fwd+bwd"],
  [/^guidance_loss|^loss_log#/, "softmax-CE loss + log"],
  [/^sgd#/, "SGD momentum step"],
];

function kernelGroup(label: string): string {
  return KERNEL_GROUPS.find(([pattern]) => pattern.test(label))?.[1] ??
    label.split("#").slice(0, 2).join("#");
}

/** Aggregates dispatch timings of `steps` steps by kernel group: a table and the numbers behind it. */
function profileReport(timings: readonly DispatchTiming[], steps: number): { text: string; data: unknown } {
  const groups = new Map<string, { ms: number; count: number }>();
  for (const t of timings) {
    const g = groups.get(kernelGroup(t.label)) ?? { ms: 0, count: 0 };
    g.ms += t.ms;
    g.count++;
    groups.set(kernelGroup(t.label), g);
  }
  const total = [...groups.values()].reduce((a, g) => a + g.ms, 0) / steps;
  const rows = [...groups].sort((a, b) => b[1].ms - a[1].ms).map(([kernel, g]) => ({
    kernel,
    share: g.ms / steps / total,
    ms: g.ms / steps,
    count: g.count / steps,
  }));
  const width = Math.max(6, ...rows.map((r) => r.kernel.length));
  const lines = [
    `${"kernel".padEnd(width)} | share |     ms | dispatches`,
    ...rows.map((r) =>
      `${r.kernel.padEnd(width)} | ${(100 * r.share).toFixed(1).padStart(4)}% | ${
        r.ms.toFixed(2).padStart(6)
      } | ${r.count.toFixed(0).padStart(3)}`
    ),
    `${timings.length / steps} dispatches per step, ${total.toFixed(1)} ms of kernel time per step ` +
    `(timestamp-query, one pass per dispatch, mean of ${steps} steps)`,
  ];
  return {
    text: lines.join("\n"),
    data: { dispatchesPerStep: timings.length / steps, kernelMs: total, rows },
  };
}
