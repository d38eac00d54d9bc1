import { remainingSeconds } from "../lib/cli/progress.ts";
import { equal, ok } from "../lib/testing/assert.ts";

Deno.test("progress: the ETA leaves out the first step's compilation", () => {
  // First step done at 60 s (compilation); 10 more steps by 70 s: 1 step/s, 89 steps of 100 left → 89 s.
  // Counting the compilation would say 11 steps in 70 s, ≈566 s.
  equal(remainingSeconds(100, 11, { time: 60_000, done: 1 }, 70_000), 89);
  // No rate until a step after the first.
  ok(Number.isNaN(remainingSeconds(100, 1, { time: 60_000, done: 1 }, 65_000)));
  ok(Number.isNaN(remainingSeconds(100, 0, null, 1000)));
  equal(remainingSeconds(10, 12, { time: 0, done: 1 }, 1000), 0);
});
