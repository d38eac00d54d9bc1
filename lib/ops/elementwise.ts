/**
 * Elementwise ops on flat fp32 buffers, each a {@link Rule} (forward beside gradients) compiled by
 * `lib/gpu/expr.ts`: ReLU, GELU, residual add, copy / add-into (gradient routing and accumulation), scale.
 * Output buffers must not alias inputs (WebGPU forbids a buffer bound both read-only and writable).
 * @module
 */
import type { Dispatch, Gpu } from "../gpu/device.ts";
import { type CompiledRule, compileRule, type Rule } from "../gpu/expr.ts";
import { checkDims } from "./shape.ts";

/** The rules, forward beside gradient. ReLU's gradient reads the output, so `y` may overwrite nothing. */
export const RULES = {
  // Written with select, not max(): WGSL leaves max(NaN, 0) undefined and PyTorch propagates NaN.
  relu: {
    inputs: { x: "elem" },
    forward: "select(x, 0.0, x < 0.0)",
    grads: { x: "select(dy, 0.0, y <= 0.0)" },
  },
  // GELU's tanh form ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³), written as x·σ(2u) so that no tanh or exp
  // of a large |x| can overflow to inf/inf. Its derivative σ(2u) + x·σ(2u)(1 − σ(2u))·2u′ reads the input.
  gelu: {
    inputs: { x: "elem" },
    forward: "x / (1.0 + exp(-1.5957691216 * (x + 0.044715 * x * x * x)))",
    grads: {
      x: "dy * (1.0 / (1.0 + exp(-1.5957691216 * (x + 0.044715 * x * x * x))) + " +
        "x * (1.0 / (1.0 + exp(-1.5957691216 * (x + 0.044715 * x * x * x)))) * " +
        "(1.0 - 1.0 / (1.0 + exp(-1.5957691216 * (x + 0.044715 * x * x * x)))) * " +
        "1.5957691216 * (1.0 + 0.134145 * x * x))",
    },
  },
  add: { inputs: { a: "elem", b: "elem" }, forward: "a + b", grads: { a: "dy", b: "dy" } },
  copy: { inputs: { x: "elem" }, forward: "x", grads: { x: "dy" } },
  scale: { inputs: { x: "elem" }, scalars: ["factor"], forward: "factor * x", grads: { x: "factor * dy" } },
} as const satisfies Record<string, Rule>;

async function compileFlat<R extends Rule>(
  gpu: Gpu,
  op: string,
  rule: R,
  count: number,
): Promise<CompiledRule<R>> {
  checkDims(op, { count });
  return await compileRule(gpu, op, rule);
}

/** `y = max(x, 0)`; backward `dx = dy · [y > 0]` (PyTorch's choice: zero gradient at 0). */
export class Relu {
  private constructor(private readonly kernels: CompiledRule<typeof RULES.relu>, readonly count: number) {}

  /** Compiles for `count` elements. */
  static async create(gpu: Gpu, { count }: { count: number }): Promise<Relu> {
    return new Relu(await compileFlat(gpu, "Relu", RULES.relu, count), count);
  }

  /** `y = relu(x)`. */
  forward({ x, y }: { x: GPUBuffer; y: GPUBuffer }): Dispatch[] {
    return [this.kernels.forward.bind({ x }, y, { count: this.count })];
  }

  /** `dx = dy · [y > 0]`, or `dx += …` with `accumulate`. */
  backward({ y, dy, dx }: { y: GPUBuffer; dy: GPUBuffer; dx: GPUBuffer }, accumulate = false): Dispatch[] {
    return [this.kernels.grads.x.bind({ y, dy }, dx, { count: this.count }, {}, accumulate)];
  }
}

/**
 * GELU in PyTorch's tanh approximation (`nn.GELU(approximate="tanh")`):
 * `y = ½x(1 + tanh(√(2/π)(x + 0.044715x³)))`; backward reads `x`.
 */
export class Gelu {
  private constructor(private readonly kernels: CompiledRule<typeof RULES.gelu>, readonly count: number) {}

  /** Compiles for `count` elements. */
  static async create(gpu: Gpu, { count }: { count: number }): Promise<Gelu> {
    return new Gelu(await compileFlat(gpu, "Gelu", RULES.gelu, count), count);
  }

  /** `y = gelu(x)`. */
  forward({ x, y }: { x: GPUBuffer; y: GPUBuffer }): Dispatch[] {
    return [this.kernels.forward.bind({ x }, y, { count: this.count })];
  }

  /** `dx = dy · gelu′(x)`, or `dx += …` with `accumulate`. */
  backward({ x, dy, dx }: { x: GPUBuffer; dy: GPUBuffer; dx: GPUBuffer }, accumulate = false): Dispatch[] {
    return [this.kernels.grads.x.bind({ x, dy }, dx, { count: this.count }, {}, accumulate)];
  }
}

/** Residual add `y = a + b`. Its backward is a pass-through: both inputs receive `dy`. */
export class Add {
  private constructor(private readonly kernels: CompiledRule<typeof RULES.add>, readonly count: number) {}

  /** Compiles for `count` elements. */
  static async create(gpu: Gpu, { count }: { count: number }): Promise<Add> {
    return new Add(await compileFlat(gpu, "Add", RULES.add, count), count);
  }

  /** `y = a + b`. */
  forward({ a, b, y }: { a: GPUBuffer; b: GPUBuffer; y: GPUBuffer }): Dispatch[] {
    return [this.kernels.forward.bind({ a, b }, y, { count: this.count })];
  }

  /**
   * Routes `dy` into `da` and `db` (copies, or adds with `accumulate`). A graph that can hand `dy` itself to
   * both branches needs no dispatch at all; this is for when it cannot.
   */
  backward({ dy, da, db }: { dy: GPUBuffer; da: GPUBuffer; db: GPUBuffer }, accumulate = false): Dispatch[] {
    const extent = { count: this.count };
    return [
      this.kernels.grads.a.bind({ dy }, da, extent, {}, accumulate),
      this.kernels.grads.b.bind({ dy }, db, extent, {}, accumulate),
    ];
  }
}

/** `y = x` or, with `accumulate`, `y += x` (add-into: gradient accumulation at residual merges). */
export class Copy {
  private constructor(private readonly kernels: CompiledRule<typeof RULES.copy>, readonly count: number) {}

  /** Compiles for `count` elements. */
  static async create(gpu: Gpu, { count }: { count: number }): Promise<Copy> {
    return new Copy(await compileFlat(gpu, "Copy", RULES.copy, count), count);
  }

  /** `y = x`, or `y += x` with `accumulate`. */
  forward({ x, y }: { x: GPUBuffer; y: GPUBuffer }, accumulate = false): Dispatch[] {
    return [this.kernels.forward.bind({ x }, y, { count: this.count }, {}, accumulate)];
  }
}

/** `y = factor · x` with a factor fixed at creation. */
export class Scale {
  private constructor(
    private readonly kernels: CompiledRule<typeof RULES.scale>,
    readonly count: number,
    readonly factor: number,
  ) {}

  /** Compiles for `count` elements. */
  static async create(gpu: Gpu, { count, factor }: { count: number; factor: number }): Promise<Scale> {
    return new Scale(await compileFlat(gpu, "Scale", RULES.scale, count), count, factor);
  }

  /** `y = factor · x`, or `y += …` with `accumulate`. */
  forward({ x, y }: { x: GPUBuffer; y: GPUBuffer }, accumulate = false): Dispatch[] {
    return [this.kernels.forward.bind({ x }, y, { count: this.count }, { factor: this.factor }, accumulate)];
  }

  /** `dx = factor · dy`, or `dx += …` with `accumulate`. */
  backward({ dy, dx }: { dy: GPUBuffer; dx: GPUBuffer }, accumulate = false): Dispatch[] {
    return [
      this.kernels.grads.x.bind({ dy }, dx, { count: this.count }, { factor: this.factor }, accumulate),
    ];
  }
}
