import { formatSeconds, Progress, remainingSeconds } from "../lib/cli/progress.ts";
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

Deno.test("progress: a bar without a rate ETA prints the caller's note only", () => {
  const lines: string[] = [];
  const output = {
    isTerminal: () => false,
    writeSync: (data: Uint8Array) => (lines.push(new TextDecoder().decode(data)), data.length),
  };
  const bar = new Progress("sweep", 4, { unit: "steps", logEveryMs: 0, eta: false, output });
  bar.tick(1, "None, about 3m00s left");
  bar.tick(1, "V1");
  equal(lines[0], "sweep ██████░░░░░░░░░░░░░░░░░░ 1/4 steps None, about 3m00s left\n");
  ok(lines.every((line) => !/ETA|\/s/.test(line)), lines.join(""));
});

Deno.test("progress: durations round to whole seconds before splitting into minutes", () => {
  equal(formatSeconds(419.6), "7m00s"); // not 6m60s
  equal(formatSeconds(185), "3m05s");
  equal(formatSeconds(3599.7), "1h00m");
  equal(formatSeconds(12.34), "12.3s");
});
