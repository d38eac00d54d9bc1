/**
 * The time a sweep has left, from what its steps have cost so far. A sweep's steps differ by orders of
 * magnitude (a prep takes seconds, a predictor a quarter of an hour), so a rate in steps per second says
 * nothing: each remaining step is costed at the mean duration of the steps of its kind that ran, and the
 * steps of a kind not yet timed are counted apart rather than guessed.
 * @module
 */
import type { Step } from "./plan.ts";

/**
 * What makes two steps cost alike: the task, and for training its augmentation, teacher and epochs (a grid
 * entry may train longer than the sweep's --epochs).
 */
export function stepKind(step: Step): string {
  const flag = (name: string) => {
    const i = step.args.indexOf(name);
    return i >= 0 ? `${name} ${step.args[i + 1]}` : "";
  };
  return [step.task, flag("--augment"), flag("--teacher"), flag("--epochs")].filter(Boolean).join(" ");
}

/** The time left: `seconds` for the `timed` steps of kinds already timed, and how many steps are of kinds not. */
export interface TimeLeft {
  seconds: number;
  timed: number;
  untimed: number;
}

/**
 * Mean step durations by kind.
 *
 * @example
 * ```ts
 * const times = new StepTimes();
 * const train = { task: "train", args: ["--epochs", "3"], done: "model.safetensors" };
 * const attack = { task: "attack", args: [], done: "pgd.json" };
 * times.record(train, 200);
 * console.log(times.left([train, train, attack])); // { seconds: 400, timed: 2, untimed: 1 }
 * ```
 */
export class StepTimes {
  readonly #totals = new Map<string, { seconds: number; count: number }>();

  /** Adds a step that ran for `seconds`. */
  record(step: Step, seconds: number): void {
    const kind = stepKind(step);
    const total = this.#totals.get(kind) ?? { seconds: 0, count: 0 };
    this.#totals.set(kind, { seconds: total.seconds + seconds, count: total.count + 1 });
  }

  /** The time `steps` will take at the mean durations so far. */
  left(steps: readonly Step[]): TimeLeft {
    let seconds = 0, timed = 0, untimed = 0;
    for (const step of steps) {
      const total = this.#totals.get(stepKind(step));
      if (total) (seconds += total.seconds / total.count), timed++;
      else untimed++;
    }
    return { seconds, timed, untimed };
  }
}
