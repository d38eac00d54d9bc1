import { deepStrictEqual, equal } from "../lib/testing/assert.ts";
import { stepKind, StepTimes } from "../lib/sweep/step_times.ts";
import type { Step } from "../lib/sweep/plan.ts";

const step = (task: string, args: string[] = []): Step => ({ task, args, done: null });

Deno.test("sweep time left: each step at its kind's mean; untimed kinds counted apart", () => {
  const plain = step("train", ["--epochs", "3"]);
  const fgsm = step("train", ["--augment", "fgsm-rs", "--epochs", "3"]);
  const oracle = step("train", ["--teacher", "oracle-perturbed"]);
  // a grid entry's own epochs (a None ladder trained longer) cost more than the sweep's
  const longer = step("train", ["--epochs", "6"]);
  equal(stepKind(plain), "train --epochs 3");
  equal(stepKind(fgsm), "train --augment fgsm-rs --epochs 3");
  equal(stepKind(oracle), "train --teacher oracle-perturbed");
  const times = new StepTimes();
  deepStrictEqual(times.left([plain]), { seconds: 0, timed: 0, untimed: 1 });
  times.record(plain, 100);
  times.record(plain, 200);
  times.record(step("attack"), 30);
  // 2 plain trainings at 150 s, 1 attack at 30 s; the FGSM-RS and 6-epoch trainings are of kinds not yet timed.
  deepStrictEqual(times.left([plain, plain, step("attack"), fgsm, longer]), {
    seconds: 330,
    timed: 3,
    untimed: 2,
  });
});
