// Model-free tests of the attack suite: loss kernels (DLR, targeted DLR, CE, margin) against the reference's
// vectors and central differences, APGD's checkpoint schedule, Square's p schedule and window sides, ε grids.
import { UsageError } from "../lib/errors.ts";
import { checkpointSchedule } from "../lib/attacks/apgd.ts";
import { attackUnit } from "../lib/attacks/registry.ts";
import { etaRectangles, roundHalfEven, squareP, squareSide, squareSideL2 } from "../lib/attacks/square.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { assertClose, deepStrictEqual, equal, throws } from "../lib/testing/assert.ts";
import { parseEpsGrid } from "../lib/attacks/eps_grid.ts";
import { finiteDifference } from "./reference/numeric.ts";

type Loss = "ce" | "dlr" | "dlr-targeted" | "margin";
const FILES: Record<Loss, [string, string]> = {
  ce: ["ce_loss", "main"],
  dlr: ["dlr_loss", "dlr"],
  "dlr-targeted": ["dlr_loss", "dlr_targeted"],
  margin: ["margin_loss", "main"],
};

/** Runs one loss kernel on rows of logits: [loss per row, d loss/d logits, fooled per row]. */
async function runLoss(kind: Loss, logits: number[][], labels: number[], targets?: number[]) {
  const gpu = await getGpu();
  const batch = logits.length, classes = logits[0].length;
  const [file, entry] = FILES[kind];
  const pipeline = await gpu.pipeline({ file, entry });
  const grad = gpu.buffer(batch * classes * 4), loss = gpu.buffer(batch * 4), fooled = gpu.buffer(batch * 4);
  const buffers = [
    gpu.upload(Float32Array.from(logits.flat())),
    gpu.upload(Uint32Array.from(labels)),
    grad,
    loss,
    fooled,
    gpu.uniform([batch, classes]),
  ];
  if (targets) buffers.push(gpu.upload(Uint32Array.from(targets)));
  gpu.submit([gpu.bind(pipeline, buffers, [Math.ceil(batch / 64)])]);
  return {
    loss: await gpu.readF32(loss, batch),
    grad: await gpu.readF32(grad, batch * classes),
    fooled: await gpu.readF32(fooled, batch),
  };
}

// Plain float64 references of the losses (docs/attacks-and-analyses.md#apgd,
// docs/attacks-and-analyses.md#square).
function sorted(z: Float64Array): number[] {
  return [...z].sort((a, b) => b - a);
}
function maxOther(z: Float64Array, y: number): number {
  return Math.max(...[...z].filter((_, k) => k !== y));
}
const REFERENCE: Record<Loss, (z: Float64Array, y: number, t: number) => number> = {
  ce: (z, y) => Math.log([...z].reduce((a, v) => a + Math.exp(v), 0)) - z[y],
  dlr: (z, y) => -(z[y] - maxOther(z, y)) / (sorted(z)[0] - sorted(z)[2] + 1e-12),
  "dlr-targeted": (z, y, t) => {
    const s = sorted(z);
    return -(z[y] - z[t]) / (s[0] - (s[2] + s[3]) / 2 + 1e-12);
  },
  margin: (z, y) => maxOther(z, y) - z[y],
};

Deno.test("dlr: reference vectors −0.5 (y = 0) and +0.5 (y = 3)", async () => {
  const { loss, fooled } = await runLoss("dlr", [[3, 1, 0.5, 2], [3, 1, 0.5, 2]], [0, 3]);
  assertClose(loss, [-0.5, 0.5], { rtol: 1e-6, label: "dlr" });
  deepStrictEqual([...fooled], [0, 1]);
});

Deno.test("dlr-targeted: reference vector −0.44444", async () => {
  const { loss } = await runLoss("dlr-targeted", [[3, 1, 0.5, 2, 0]], [0], [3]);
  assertClose(loss, [-1 / 2.25], { rtol: 1e-6, label: "targeted dlr" });
});

for (const kind of ["ce", "dlr", "dlr-targeted", "margin"] as const) {
  Deno.test(`${kind}: per-example value and logit gradient match float64 and central differences`, async () => {
    // distinct logits (no ties, so the sort inside DLR is differentiable) over 3 rows of 6 classes
    const logits = [[0.3, -1.2, 2.1, 0.7, -0.4, 1.5], [1.9, 0.2, -0.8, 1.1, 0.6, -1.7], [
      -0.5,
      0.9,
      0.1,
      -1.4,
      2.4,
      1.3,
    ]];
    const labels = [2, 3, 1], targets = [5, 0, 4];
    const out = await runLoss(kind, logits, labels, kind === "dlr-targeted" ? targets : undefined);
    logits.forEach((row, r) => {
      const z = Float64Array.from(row), f = (v: Float64Array) => REFERENCE[kind](v, labels[r], targets[r]);
      // float32 kernels against float64: 1e-5 relative; gradients entries near 0 need the absolute term
      assertClose([out.loss[r]], [f(z)], { rtol: 1e-5, atol: 1e-6, label: `${kind} loss row ${r}` });
      assertClose(out.grad.subarray(r * 6, r * 6 + 6), finiteDifference(f, z), {
        rtol: 1e-4,
        atol: 1e-5,
        label: `${kind} gradient row ${r}`,
      });
    });
    // not averaged over the batch: each row's gradient stands alone (CE rows sum to 0, margin rows to 0)
    if (kind === "ce" || kind === "margin") {
      for (let r = 0; r < 3; r++) {
        assertClose([out.grad.subarray(r * 6, r * 6 + 6).reduce((a, b) => a + b)], [0], { atol: 1e-6 });
      }
    }
  });
}

Deno.test("apgd: checkpoint schedule for N = 100, 1000, 50, 10", () => {
  const at = (n: number) => checkpointSchedule(n).map((c) => c.at);
  deepStrictEqual(at(100), [22, 41, 57, 70, 80, 87, 93, 99]);
  deepStrictEqual(at(1000), [220, 410, 570, 700, 800, 870, 930, 990]);
  deepStrictEqual(at(50), [11, 21, 30, 38, 45]);
  deepStrictEqual(at(10), [2, 3, 4, 5, 6, 7, 8, 9, 10]);
  deepStrictEqual(checkpointSchedule(100).map((c) => c.interval), [22, 19, 16, 13, 10, 7, 6, 6]);
});

Deno.test("square: p schedule and window side on 32×32 (p_init 0.8)", () => {
  const its = [0, 11, 51, 201, 501, 1001, 2001, 4001];
  deepStrictEqual(its.map((it) => squareSide(squareP(it, 0.8), 32, 32)), [29, 20, 14, 10, 7, 5, 4, 3]);
  equal(squareP(10, 0.8), 0.8);
  equal(squareP(8000, 0.8), 0.8 / 256);
  equal(squareP(8001, 0.8), 0.8 / 512);
  deepStrictEqual([0.5, 1.5, 2.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, 2, 3]);
  // L2 windows: at least 3, odd
  deepStrictEqual([0, 201, 2001, 8001].map((it) => squareSideL2(squareP(it, 0.8), 32, 32)), [29, 11, 5, 3]);
  // eta_rectangles(3, 3): centre 1 + 1/4, ring 1/4, then normalised
  const eta = etaRectangles(3, 3), ring = 0.25 / Math.sqrt(1.25 ** 2 + 8 * 0.25 ** 2);
  assertClose(eta, [ring, ring, ring, ring, 1.25 * ring / 0.25, ring, ring, ring, ring], { rtol: 1e-12 });
});

Deno.test("eps grid: ranges, lists and one-line usage errors naming the grid", () => {
  deepStrictEqual(parseEpsGrid("0.001:0.019:0.002"), [
    0.001,
    0.003,
    0.005,
    0.007,
    0.009,
    0.011,
    0.013,
    0.015,
    0.017,
    0.019,
  ]);
  deepStrictEqual(parseEpsGrid("0,0.5,1"), [0, 0.5, 1]);
  for (const bad of ["-0.1,0.2", "0.1:0.05:0.01", "0.2,0.1", "a:b:c", "0:1:0"]) {
    throws(
      () => parseEpsGrid(bad),
      (e: Error) => e instanceof UsageError && e.message.includes(`'${bad}'`) && !e.message.includes("\n"),
    );
  }
});

Deno.test("registry: unknown attacks and wrong norms are one-line usage errors naming the attack", () => {
  throws(() => attackUnit("pgdd", "linf", 10), /^UsageError: unknown attack 'pgdd'; choose from fgsm/);
  throws(() => attackUnit("fgsm", "l2", 10), /^UsageError: fgsm: an L∞ attack; use norm linf$/);
  throws(() => attackUnit("cw", "linf", 10), /^UsageError: cw: an L2 attack; use norm l2$/);
  throws(() => attackUnit("apgd-t", "linf", 3), /^UsageError: apgd-t: targeted DLR needs at least 4 classes/);
  equal(
    attackUnit("autoattack", "linf", 10).components.map((a) => a.name).join(","),
    [
      "apgd-ce",
      ...Array.from({ length: 9 }, (_, i) => `apgd-t@${i + 2}`),
      ...Array.from({ length: 9 }, (_, i) => `fab-t@${i + 2}`),
      "square",
    ].join(","),
  );
});
