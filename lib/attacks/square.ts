/**
 * Square Attack (Andriushchenko et al. 2020), L∞ and L2, as in auto-attack's `square.py` with AutoAttack's
 * standard settings: 5000 queries, p_init 0.8, no schedule rescaling, margin loss. Random square windows are
 * proposed around the best point so far (L∞: ±2ε per channel; L2: a nested-rectangle pattern moved in from a
 * second window) and kept when the margin drops or the example is fooled. The host draws the windows (one
 * per iteration, shared by the batch as in the reference) and submits them in chunks; between chunks it
 * reads the per-example margins to stop once every example is fooled.
 * @module
 */
import type { Dispatch } from "../gpu/device.ts";
import { grid1d } from "../gpu/grid.ts";
import type { Random } from "../random.ts";
import type { Attack } from "./attack.ts";
import type { AttackOps, Norm } from "./ops.ts";

/** Settings of {@link square}. */
export interface SquareOptions {
  readonly norm?: Norm;
  /** Query budget (AutoAttack standard: 5000). */
  readonly queries?: number;
  readonly pInit?: number;
}

/** Iterations per submission: bounds the command size and how late the all-fooled stop comes. */
const CHUNK = 50;
/** Floats of per-example state: [margin_min, loss_min, queries]. */
const STATE_STRIDE = 3;
/** u32 per iteration in the window table (L∞ uses 4, L2 8). */
const WINDOW_STRIDE = 8;

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
 * Side of the L∞ window at probability `p` for an H×W image: round(√(p·H·W)), at least 1 and at most
 * min(H, W) − 1 (the reference draws positions in [0, H − s), so it needs s < H).
 */
export function squareSide(p: number, height: number, width: number): number {
  return Math.min(Math.max(roundHalfEven(Math.sqrt(p * height * width)), 1), Math.min(height, width) - 1);
}

/** Side of the L2 window: round(√(p·H·W)), at least 3, made odd, at most min(H, W) − 1. */
export function squareSideL2(p: number, height: number, width: number): number {
  let s = Math.max(roundHalfEven(Math.sqrt(p * height * width)), 3);
  if (s % 2 === 0) s++;
  const cap = Math.min(height, width) - 1;
  return s > cap ? (cap % 2 ? cap : cap - 1) : s;
}

/**
 * The reference's `eta_rectangles(x, y)`: nested rectangles around the centre, the k-th ring weighted
 * 1/(k + 1)², normalised to unit L2 norm (row-major x × y).
 */
export function etaRectangles(x: number, y: number): Float64Array {
  const delta = new Float64Array(x * y);
  const xc = (x >> 1) + 1, yc = (y >> 1) + 1;
  for (let k = 0, r = xc - 1, c = yc - 1; k < Math.max(xc, yc); k++, r--, c--) {
    for (let i = Math.max(r, 0); i < Math.min(r + 2 * k + 1, x); i++) {
      for (let j = Math.max(c, 0); j < Math.min(c + 2 * k + 1, y); j++) delta[i * y + j] += 1 / (k + 1) ** 2;
    }
  }
  return normalised(delta);
}

/** The reference's `meta_pseudo_gaussian_pert(s)`: +rectangles over −rectangles, transposed half the time. */
function pseudoGaussian(s: number, random: Random): Float64Array {
  const top = etaRectangles(s >> 1, s), bottom = etaRectangles(s - (s >> 1), s);
  const delta = new Float64Array(s * s);
  delta.set(top);
  bottom.forEach((v, i) => delta[top.length + i] = -v);
  normalised(delta);
  if (random.next() > 0.5) return delta.map((_, k) => delta[(k % s) * s + Math.floor(k / s)]);
  return delta;
}

function normalised(values: Float64Array): Float64Array {
  const size = Math.sqrt(values.reduce((a, v) => a + v * v, 0));
  if (size > 0) { for (let i = 0; i < values.length; i++) values[i] /= size; }
  return values;
}

/** What differs between the norms: the start and the per-iteration draws and proposal. */
interface Variant {
  /** The starting point (host images, clamped to the box). */
  start(clean: Float32Array): Float32Array;
  /** Draws iteration `iteration` into slot `slot` of the host tables. */
  draw(iteration: number, slot: number): void;
  /** Uploads the tables drawn for this chunk. */
  upload(): void;
  /** The proposal for a slot, writing the candidate to the model input. */
  propose(slot: number): Dispatch;
}

/**
 * Square with AutoAttack's standard settings unless overridden (L∞ by default).
 *
 * @example
 * ```ts
 * import type { AttackOps } from "./ops.ts";
 * import { Random } from "../random.ts";
 * // L2 Square at ε = 0.5 on the batch loaded into `ops`; also reports the model evaluations spent.
 * async function squareL2(ops: AttackOps) {
 *   const { adv, evaluations } = await square({ norm: "l2" }).run(ops, 0.5, new Random(0));
 *   return { adv, evaluations };
 * }
 * ```
 */
export function square(options: SquareOptions = {}): Attack {
  const norm = options.norm ?? "linf";
  const queries = options.queries ?? 5000;
  const pInit = options.pInit ?? 0.8;
  return {
    name: norm === "linf" ? "square" : "square-l2",
    norm,
    async run(ops, eps, random) {
      const { gpu, model } = ops;
      const [acceptInit, acceptStep] = await Promise.all(
        ["accept_init", "accept_step"].map((entry) => gpu.pipeline({ file: "square", entry })),
      );
      const variant = norm === "linf"
        ? await linfVariant(ops, eps, random, pInit)
        : await l2Variant(ops, eps, random, pInit);
      const best = ops.images("square.best"), state = ops.rows("square.state", STATE_STRIDE);
      const accept = ops.rows("square.accept");
      gpu.write(best, variant.start(ops.host.images));
      const rowKernel = (pipeline: GPUComputePipeline) =>
        gpu.bind(pipeline, [ops.lossValues, state, accept, gpu.uniform([ops.batch])], grid1d(ops.batch, 64));
      gpu.submit([ops.copy(model.input, best), ...ops.evaluate("margin"), rowKernel(acceptInit)]);
      const iteration = (slot: number) => [
        variant.propose(slot),
        ...ops.evaluate("margin"),
        rowKernel(acceptStep),
        ops.copy(best, model.input, accept),
      ];
      const chunk = Array.from({ length: CHUNK }, (_, slot) => iteration(slot));
      let rows = await gpu.readF32(state, ops.batch * STATE_STRIDE);
      for (let start = 0; start < queries && !allFooled(rows); start += CHUNK) {
        const count = Math.min(CHUNK, queries - start);
        for (let j = 0; j < count; j++) variant.draw(start + j, j);
        variant.upload();
        gpu.submit(chunk.slice(0, count).flat());
        rows = await gpu.readF32(state, ops.batch * STATE_STRIDE);
      }
      const evaluations = Float32Array.from({ length: ops.batch }, (_, r) => rows[r * STATE_STRIDE + 2]);
      return { adv: best, evaluations };
    },
  };
}

function shape(ops: AttackOps, minimum: number) {
  const [, channels, height, width] = ops.model.inputShape;
  if (Math.min(height, width) < minimum) {
    throw new Error(`square: ${height}×${width} images are too small (need ≥ ${minimum}×${minimum})`);
  }
  return { channels, height, width };
}

function params(ops: AttackOps, eps: number, slot: number): GPUBuffer {
  const [, channels, height, width] = ops.model.inputShape;
  return ops.gpu.uniform([
    ops.batch,
    channels,
    height,
    width,
    { f32: eps },
    { f32: ops.box.lo },
    { f32: ops.box.hi },
    slot,
  ]);
}

/** L∞: vertical stripes x0 ± ε to start; one window of ±2ε per channel per iteration. */
async function linfVariant(ops: AttackOps, eps: number, random: Random, pInit: number): Promise<Variant> {
  const { channels, height, width } = shape(ops, 2);
  const pipeline = await ops.gpu.pipeline({ file: "square", entry: "propose" });
  const windows = ops.buffer("square.windows", CHUNK * WINDOW_STRIDE);
  const table = new Uint32Array(CHUNK * WINDOW_STRIDE);
  const best = ops.images("square.best"), grid = grid1d(ops.batch * ops.dim);
  return {
    start(clean) {
      const plane = height * width;
      const stripes = Float32Array.from(
        { length: ops.batch * channels * width },
        () => random.next() < 0.5 ? -1 : 1,
      );
      return clean.map((x, i) => {
        const stripe = stripes[Math.floor(i / plane) * width + (i % width)];
        return Math.min(ops.box.hi, Math.max(ops.box.lo, x + eps * stripe));
      });
    },
    draw(iteration, slot) {
      const s = squareSide(squareP(iteration, pInit), height, width);
      let signs = 0;
      for (let c = 0; c < channels; c++) if (random.next() < 0.5) signs |= 1 << c;
      table.set([random.int(height - s), random.int(width - s), s, signs], WINDOW_STRIDE * slot);
    },
    upload: () => ops.gpu.write(windows, table),
    propose: (slot) =>
      ops.gpu.bind(pipeline, [ops.model.input, ops.x0, best, params(ops, eps, slot), windows], grid),
  };
}

/** L2: tiles of pseudo-Gaussian patterns to start; the two-window move per iteration (per-example kernel). */
async function l2Variant(ops: AttackOps, eps: number, random: Random, pInit: number): Promise<Variant> {
  const { channels, height, width } = shape(ops, 4);
  if (channels > 4) throw new Error(`square-l2: images with ${channels} channels (at most 4 supported)`);
  const plane = height * width;
  const pipeline = await ops.gpu.pipeline({ file: "square", entry: "propose_l2" });
  const windows = ops.buffer("square.windows", CHUNK * WINDOW_STRIDE);
  const patterns = ops.buffer("square.patterns", CHUNK * plane);
  const signs = ops.buffer("square.signs", CHUNK * ops.batch);
  const table = new Uint32Array(CHUNK * WINDOW_STRIDE), patternTable = new Float32Array(CHUNK * plane);
  const signTable = new Uint32Array(CHUNK * ops.batch);
  const best = ops.images("square.best");
  const cache = new Map<number, Float64Array>();
  return {
    start(clean) {
      const delta = new Float64Array(clean.length);
      const s = Math.max(Math.floor(height / 5), 1), offset = Math.floor((height - 5 * s) / 2);
      for (let th = 0, vh = offset; th < Math.floor(height / s); th++, vh += s) {
        for (let tw = 0, vw = offset; tw < Math.floor(width / s); tw++, vw += s) {
          const tile = pseudoGaussian(s, random);
          for (let b = 0; b < ops.batch; b++) {
            for (let c = 0; c < channels; c++) {
              const sign = random.next() < 0.5 ? -1 : 1, base = (b * channels + c) * plane;
              for (let i = 0; i < s && vh + i < height; i++) {
                for (let j = 0; j < s && vw + j < width; j++) {
                  delta[base + (vh + i) * width + vw + j] += sign * tile[i * s + j];
                }
              }
            }
          }
        }
      }
      const out = new Float32Array(clean.length);
      for (let b = 0; b < ops.batch; b++) {
        const row = delta.subarray(b * ops.dim, (b + 1) * ops.dim);
        const scale = eps / (Math.sqrt(row.reduce((a, v) => a + v * v, 0)) + 1e-12);
        row.forEach((d, i) => {
          const k = b * ops.dim + i;
          out[k] = Math.min(ops.box.hi, Math.max(ops.box.lo, clean[k] + scale * d));
        });
      }
      return out;
    },
    draw(iteration, slot) {
      const s = squareSideL2(squareP(iteration, pInit), height, width);
      table.set(
        [random.int(height - s), random.int(width - s), random.int(height - s), random.int(width - s), s],
        WINDOW_STRIDE * slot,
      );
      let pattern = cache.get(s);
      if (!pattern) cache.set(s, pattern = etaRectangles(s, s));
      patternTable.set(pattern, slot * plane);
      for (let b = 0; b < ops.batch; b++) {
        let bits = 0;
        for (let c = 0; c < channels; c++) if (random.next() < 0.5) bits |= 1 << c;
        signTable[slot * ops.batch + b] = bits;
      }
    },
    upload() {
      ops.gpu.write(windows, table);
      ops.gpu.write(patterns, patternTable);
      ops.gpu.write(signs, signTable);
    },
    propose: (slot) =>
      ops.gpu.bind(
        pipeline,
        [ops.model.input, ops.x0, best, params(ops, eps, slot), windows, patterns, signs],
        grid1d(ops.batch, 64),
      ),
  };
}

function allFooled(rows: Float32Array): boolean {
  for (let r = 0; r < rows.length; r += STATE_STRIDE) if (rows[r] > 0) return false;
  return true;
}
