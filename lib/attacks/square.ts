/**
 * Square Attack, L∞ (Andriushchenko et al. 2020), as in auto-attack's `square.py` with AutoAttack's standard
 * settings: 5000 queries, p_init 0.8, no schedule rescaling, margin loss. Random square windows of ±2ε per
 * channel are proposed around the best point so far and kept when the margin drops or the example is fooled.
 * The host draws the windows (one per iteration, shared by the batch as in the reference) and submits them in
 * chunks; between chunks it reads the per-example margins to stop once every example is fooled.
 * @module
 */
import { grid1d } from "../gpu/grid.ts";
import type { Random } from "../random.ts";
import type { Attack } from "./attack.ts";

/** Settings of {@link square}. */
export interface SquareOptions {
  /** Query budget (AutoAttack standard: 5000). */
  readonly queries?: number;
  readonly pInit?: number;
}

/** Iterations per submission: bounds the command size and how late the all-fooled stop comes. */
const CHUNK = 50;
/** Floats of per-example state: [margin_min, loss_min, queries]. */
const STATE_STRIDE = 3;

/** Square's schedule: p_init halved at iterations 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000. */
export function squareP(iteration: number, pInit: number): number {
  const bounds = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];
  const halvings = bounds.filter((b) => iteration > b).length;
  return pInit / 2 ** halvings;
}

/** Python's round(): halves to even (JavaScript's Math.round sends them up). */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value), diff = value - floor;
  if (diff !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Side of the L∞ window at probability `p` for an H×W image: round(√(p·H·W)), at least 1 and at most H − 1
 * and min(H, W) − 1 (the reference caps it there so that a position can be drawn).
 */
export function squareSide(p: number, height: number, width: number): number {
  return Math.min(Math.max(roundHalfEven(Math.sqrt(p * height * width)), 1), Math.min(height, width) - 1);
}

/**
 * Square L∞ with AutoAttack's standard settings unless overridden.
 *
 * @example
 * ```ts
 * const { adv, evaluations } = await square().run(ops, 8 / 255, new Random(0));
 * ```
 */
export function square(options: SquareOptions = {}): Attack {
  const queries = options.queries ?? 5000;
  const pInit = options.pInit ?? 0.8;
  return {
    name: "square",
    norm: "linf",
    async run(ops, eps, random) {
      const { gpu, model } = ops;
      const [, channels, height, width] = model.inputShape;
      if (Math.min(height, width) < 2) {
        throw new Error(`square: ${height}×${width} images are too small (need ≥ 2×2)`);
      }
      const [init, propose, acceptInit, acceptStep] = await Promise.all(
        ["init", "propose", "accept_init", "accept_step"].map((entry) =>
          gpu.pipeline({ file: "square", entry })
        ),
      );
      const best = ops.images("square.best"), state = ops.rows("square.state", STATE_STRIDE);
      const accept = ops.rows("square.accept"), windows = ops.buffer("square.windows", CHUNK * 4);
      const stripes = ops.rows("square.stripes", channels * width);
      gpu.write(stripes, randomSigns(random, ops.batch * channels * width));
      const params = (slot: number) =>
        gpu.uniform([
          ops.batch,
          channels,
          height,
          width,
          { f32: eps },
          { f32: ops.box.lo },
          { f32: ops.box.hi },
          slot,
        ]);
      const elementwise = grid1d(ops.batch * ops.dim);
      const rowKernel = (pipeline: GPUComputePipeline) =>
        gpu.bind(pipeline, [ops.lossValues, state, accept, gpu.uniform([ops.batch])], grid1d(ops.batch, 64));
      gpu.submit([
        gpu.bind(init, [best, ops.x0, stripes, params(0)], elementwise),
        ops.copy(model.input, best),
        ...ops.evaluate("margin"),
        rowKernel(acceptInit),
      ]);
      const iteration = (slot: number) => [
        gpu.bind(propose, [model.input, ops.x0, best, params(slot), windows], elementwise),
        ...ops.evaluate("margin"),
        rowKernel(acceptStep),
        ops.copy(best, model.input, accept),
      ];
      const chunk = Array.from({ length: CHUNK }, (_, slot) => iteration(slot));
      let rows = await gpu.readF32(state, ops.batch * STATE_STRIDE);
      for (let start = 0; start < queries && !allFooled(rows); start += CHUNK) {
        const count = Math.min(CHUNK, queries - start);
        const table = new Uint32Array(CHUNK * 4);
        for (let j = 0; j < count; j++) {
          const s = squareSide(squareP(start + j, pInit), height, width);
          let signs = 0;
          for (let c = 0; c < channels; c++) if (random.next() < 0.5) signs |= 1 << c;
          table.set([random.int(height - s), random.int(width - s), s, signs], 4 * j);
        }
        gpu.write(windows, table);
        gpu.submit(chunk.slice(0, count).flat());
        rows = await gpu.readF32(state, ops.batch * STATE_STRIDE);
      }
      const evaluations = Float32Array.from({ length: ops.batch }, (_, r) => rows[r * STATE_STRIDE + 2]);
      return { adv: best, evaluations };
    },
  };
}

function randomSigns(random: Random, count: number): Float32Array {
  return Float32Array.from({ length: count }, () => random.next() < 0.5 ? -1 : 1);
}

function allFooled(rows: Float32Array): boolean {
  for (let r = 0; r < rows.length; r += STATE_STRIDE) if (rows[r] > 0) return false;
  return true;
}
