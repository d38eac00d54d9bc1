/**
 * Carlini–Wagner L2 (Carlini & Wagner 2017) with Foolbox's defaults: 9 binary-search steps over the constant
 * c (from 1e-3, ×10 until the first success, then bisected), 10 000 Adam steps each (step size 0.01) in tanh
 * space, κ = 0, aborting a search step when the batch loss has not fallen below 0.9999× its value one tenth
 * of the steps earlier, keeping the smallest-L2 adversarial. A minimal-norm attack: the evaluator clips its
 * result to each ε (Foolbox's fixed-ε call). Every Adam step is GPU work (`kernels/cw.wgsl`); the host reads
 * per-example values at the abort checks and between search steps.
 * @module
 */
import type { Dispatch } from "../gpu/device.ts";
import { grid1d } from "../gpu/grid.ts";
import type { Attack } from "./attack.ts";

/** Settings of {@link carliniWagner}. */
export interface CwOptions {
  readonly binarySearchSteps?: number;
  readonly steps?: number;
  readonly stepsize?: number;
  readonly confidence?: number;
  readonly initialConst?: number;
  readonly abortEarly?: boolean;
}

/**
 * CW-L2 with Foolbox's defaults unless overridden (the defaults are very costly on a CPU adapter).
 *
 * @example
 * ```ts
 * const attack = carliniWagner({ binarySearchSteps: 5, steps: 200 });
 * ```
 */
export function carliniWagner(options: CwOptions = {}): Attack {
  const searchSteps = options.binarySearchSteps ?? 9;
  const steps = options.steps ?? 10_000;
  const stepsize = options.stepsize ?? 0.01;
  const kappa = options.confidence ?? 0;
  const abortEarly = options.abortEarly ?? true;
  return {
    name: "cw",
    norm: "l2",
    minimal: "clip",
    async run(ops) {
      const { gpu, model } = ops;
      const n = ops.batch, count = n * ops.dim;
      const [rowsPipe, map, adam, track] = await Promise.all([
        gpu.pipeline({ file: "cw", entry: "rows_main" }),
        gpu.pipeline({ file: "cw", entry: "map" }),
        gpu.pipeline({ file: "cw", entry: "adam" }),
        gpu.pipeline({ file: "cw", entry: "track" }),
      ]);
      // Foolbox's attack space for the box [lo, hi]: w = artanh(0.999999·(x − centre)/half)
      const { lo, hi } = ops.box, centre = (lo + hi) / 2, half = (hi - lo) / 2;
      const w0 = ops.images("cw.w0"), xrec = ops.images("cw.xrec"), best = ops.images("cw.best");
      const delta = ops.images("cw.delta"), m = ops.images("cw.m"), v = ops.images("cw.v");
      const rows = ops.rows("cw.rows", 2),
        consts = ops.rows("cw.consts"),
        counter = ops.buffer("cw.counter", 1);
      const norms = ops.rows("cw.norms"), recNorms = ops.rows("cw.recNorms");
      const bestNorm = ops.rows("cw.bestNorm"), found = ops.rows("cw.found"), flag = ops.rows("cw.flag");
      const attackSpace = Float32Array.from(
        ops.host.images,
        (x) => Math.atanh(((x - centre) / half) * 0.999999),
      );
      gpu.write(w0, attackSpace);
      gpu.write(xrec, attackSpace.map((w) => Math.tanh(w) * half + centre));
      // Unsuccessful examples return the clean point (Foolbox returns zeros; clipping either never fools).
      gpu.submit([ops.copy(best, ops.x0)]);
      gpu.write(bestNorm, new Float32Array(n).fill(Infinity));

      const elementwise = grid1d(count), perRow = grid1d(n, 64);
      const params = gpu.uniform([count, { f32: stepsize }]);
      const forwardPart: Dispatch[] = [
        gpu.bind(map, [model.input, w0, delta, params], elementwise),
        ...model.forward(),
        gpu.bind(rowsPipe, [
          model.logits,
          ops.labels,
          consts,
          model.logitsGrad,
          rows,
          counter,
          gpu.uniform([n, model.classes, { f32: kappa }]),
        ], perRow),
      ];
      const update: Dispatch[] = [
        ...model.backward(),
        gpu.bind(adam, [delta, m, v, model.inputGrad, model.input, xrec, w0, counter, params], elementwise),
      ];
      const tracking: Dispatch[] = [
        ops.norm(model.input, 2, norms, ops.x0),
        gpu.bind(track, [rows, norms, bestNorm, found, flag, gpu.uniform([n])], perRow),
        ops.copy(best, model.input, flag),
      ];
      const step = [...forwardPart, ...update, ...tracking];
      const interval = Math.ceil(steps / 10);

      let c = new Float64Array(n).fill(options.initialConst ?? 1e-3);
      const lower = new Float64Array(n), upper = new Float64Array(n).fill(Infinity);
      let executed = 0;
      for (let search = 0; search < searchSteps; search++) {
        if (search === searchSteps - 1 && searchSteps >= 10) c = c.map((_, i) => Math.min(upper[i], 1e10));
        gpu.write(consts, Float32Array.from(c));
        for (const buffer of [delta, m, v]) gpu.write(buffer, new Float32Array(count));
        gpu.write(counter, new Float32Array(1));
        gpu.write(found, new Float32Array(n));
        let previous = Infinity;
        for (let s = 0; s < steps; s += interval) {
          // The check step: its loss decides whether to go on before the step is tracked (Foolbox's order).
          gpu.submit([...forwardPart, ops.norm(model.input, 2, recNorms, xrec), ...update]);
          executed++;
          if (abortEarly) {
            const [hinge, rec] = [await gpu.readF32(rows, 2 * n), await gpu.readF32(recNorms, n)];
            let loss = 0;
            // Foolbox's batch loss, over the real points only (padding rows would double-count one)
            for (let r = 0; r < ops.host.count; r++) loss += hinge[2 * r] + rec[r] * rec[r];
            if (!(loss <= 0.9999 * previous)) break;
            previous = loss;
          }
          const rest = Math.min(interval, steps - s) - 1;
          gpu.submit([...tracking, ...Array.from({ length: rest }, () => step).flat()]);
          executed += rest;
        }
        const success = await gpu.readF32(found, n);
        for (let r = 0; r < n; r++) {
          if (success[r]) upper[r] = c[r];
          else lower[r] = c[r];
          c[r] = Number.isFinite(upper[r]) ? (lower[r] + upper[r]) / 2 : c[r] * 10;
        }
      }
      return { adv: best, evaluations: executed };
    },
  };
}
