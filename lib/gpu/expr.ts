/**
 * Elementwise kernels generated from expressions. A {@link Rule} states an op's forward expression and, beside
 * it, the expression of each input's gradient (tinygrad / jax-js style); {@link ElementwiseKernel} turns one
 * expression into WGSL, compiles it once (cached by a key derived from the source) and binds it.
 *
 * Operands are either `"elem"` (one value per output element) or `"channel"` (one value per channel of an NCHW
 * tensor, broadcast over batch and plane). Gradient expressions may also use `y` (the forward output) and
 * `dy` (its gradient). Scalars travel in the uniform block as f32.
 *
 * @example
 * ```ts
 * import { getGpu } from "./device.ts";
 * const gpu = await getGpu();
 * const relu = await compileRule(gpu, "relu", {
 *   inputs: { x: "elem" },
 *   forward: "max(x, 0.0)",
 *   grads: { x: "select(0.0, dy, y > 0.0)" },
 * });
 * const x = gpu.upload(new Float32Array([-1, 2, -3, 4])), y = gpu.buffer(4 * 4);
 * gpu.submit([relu.forward.bind({ x }, y, { count: 4 })]);
 * console.log(await gpu.readF32(y, 4)); // [0, 2, 0, 4]
 * ```
 * @module
 */
import type { Dispatch, Gpu } from "./device.ts";
import { grid1d } from "./grid.ts";
import { checkBuffers } from "./operands.ts";

/** How an operand is indexed: per element, or per channel of an NCHW tensor. */
export type OperandKind = "elem" | "channel";

/** An elementwise op: forward expression and the gradient expression of each elementwise input. */
export interface Rule {
  /** Operands by name (identifiers; WGSL keywords are fine, names are prefixed), in binding order. */
  readonly inputs: Readonly<Record<string, OperandKind>>;
  /** Names of f32 scalars, in uniform order. */
  readonly scalars?: readonly string[];
  /** WGSL expression of the output in terms of inputs and scalars. */
  readonly forward?: string;
  /** Per elementwise input: WGSL expression of its gradient in terms of inputs, scalars, `y` and `dy`. */
  readonly grads?: Readonly<Record<string, string>>;
}

/**
 * Extent of one launch. `channels` and `plane` only matter for `"channel"` operands
 * (NCHW: c = (i / plane) % channels).
 */
export interface Extent {
  readonly count: number;
  readonly channels?: number;
  readonly plane?: number;
}

const WORKGROUP = 256;

/** One generated elementwise kernel: `out[i] = expr` (or `out[i] += expr`). */
export class ElementwiseKernel {
  private constructor(
    private readonly gpu: Gpu,
    private readonly pipeline: GPUComputePipeline,
    readonly name: string,
    /** Operands the expression actually reads, in binding order, with their kinds. */
    readonly operands: readonly (readonly [string, OperandKind])[],
    readonly scalars: readonly string[],
  ) {}

  /**
   * Compiles `expr` over `operands` (only those it mentions are bound) with f32 `scalars`.
   * `name` labels the kernel; the pipeline cache key also hashes the generated source.
   */
  static async create(
    gpu: Gpu,
    name: string,
    operands: Readonly<Record<string, OperandKind>>,
    scalars: readonly string[],
    expr: string,
  ): Promise<ElementwiseKernel> {
    for (const id of [...Object.keys(operands), ...scalars]) {
      if (!/^[A-Za-z_]\w*$/.test(id)) {
        throw new Error(`${name}: bad operand name "${id}"`);
      }
    }
    const used = Object.entries(operands).filter(([id]) => new RegExp(`\\b${id}\\b`).test(expr));
    const source = generate(used, scalars, expr);
    const pipeline = await gpu.pipeline({ file: `expr:${name}:${hash(source)}`, entry: "main", source });
    return new ElementwiseKernel(gpu, pipeline, name, used, scalars);
  }

  /**
   * Binds the operands it reads (extra entries in `buffers` are ignored) and `out`.
   * `accumulate` adds into `out` instead of overwriting. `out` must not alias an operand.
   * Throws a `ShapeError` if a buffer is smaller than its operand.
   */
  bind(
    buffers: Readonly<Record<string, GPUBuffer>>,
    out: GPUBuffer,
    extent: Extent,
    scalars: Readonly<Record<string, number>> = {},
    accumulate = false,
  ): Dispatch {
    const bound = this.operands.map(([id]) => {
      const buffer = buffers[id];
      if (!buffer) throw new Error(`${this.name}: operand "${id}" not given`);
      return buffer;
    });
    const shapes = Object.fromEntries(
      this.operands.map(([id, kind]) => [id, [kind === "elem" ? extent.count : extent.channels ?? 1]]),
    );
    checkBuffers(this.name, { ...shapes, out: [extent.count] }, { ...buffers, out });
    const values = this.scalars.map((id) => {
      const value = scalars[id];
      if (value === undefined) throw new Error(`${this.name}: scalar "${id}" not given`);
      return { f32: value };
    });
    const uniform = this.gpu.uniform([
      extent.count,
      extent.plane ?? 1,
      extent.channels ?? 1,
      accumulate ? 1 : 0,
      ...values,
    ]);
    return this.gpu.bind(this.pipeline, [...bound, out, uniform], grid1d(extent.count, WORKGROUP));
  }
}

/** A {@link Rule} compiled: the forward kernel (when the rule has one) and one kernel per gradient. */
export interface CompiledRule<R extends Rule = Rule> {
  readonly forward: R extends { forward: string } ? ElementwiseKernel : undefined;
  readonly grads: { readonly [K in keyof NonNullable<R["grads"]>]: ElementwiseKernel };
}

/** Compiles every expression of `rule`; gradients may only be taken w.r.t. `"elem"` inputs. */
export async function compileRule<R extends Rule>(gpu: Gpu, name: string, rule: R): Promise<CompiledRule<R>> {
  const scalars = rule.scalars ?? [];
  const gradOperands: Record<string, OperandKind> = { ...rule.inputs, y: "elem", dy: "elem" };
  const forward = rule.forward === undefined
    ? undefined
    : await ElementwiseKernel.create(gpu, name, rule.inputs, scalars, rule.forward);
  const grads: Record<string, ElementwiseKernel> = {};
  for (const [input, expr] of Object.entries(rule.grads ?? {})) {
    if (rule.inputs[input] !== "elem") throw new Error(`${name}: gradient w.r.t. non-elementwise "${input}"`);
    grads[input] = await ElementwiseKernel.create(gpu, `${name}.d${input}`, gradOperands, scalars, expr);
  }
  return { forward, grads } as CompiledRule<R>;
}

function generate(operands: [string, OperandKind][], scalars: readonly string[], expr: string): string {
  const fields = [
    "count: u32",
    "plane: u32",
    "channels: u32",
    "accumulate: u32",
    ...scalars.map((s) => `v_${s}: f32`),
  ];
  const bindings = operands.map(([id], b) =>
    `@group(0) @binding(${b}) var<storage, read> in_${id}: array<f32>;`
  );
  const n = operands.length;
  const loads = operands.map(([id, kind]) => `  let v_${id} = in_${id}[${kind === "elem" ? "i" : "c"}];`);
  // names are prefixed in the WGSL so that operands may be called anything (`target` is a WGSL keyword)
  const names = [...operands.map(([id]) => id), ...scalars];
  const body = names.length === 0
    ? expr
    : expr.replace(new RegExp(`\\b(${names.join("|")})\\b`, "g"), "v_$1");
  const needsChannel = operands.some(([, kind]) => kind === "channel");
  return [
    `struct Params { ${fields.join(", ")} }`,
    ...bindings,
    `@group(0) @binding(${n}) var<storage, read_write> out: array<f32>;`,
    `@group(0) @binding(${n + 1}) var<uniform> p: Params;`,
    `@compute @workgroup_size(${WORKGROUP})`,
    `fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {`,
    `  let i = gid.x + gid.y * groups.x * ${WORKGROUP}u;`,
    `  if (i >= p.count) { return; }`,
    ...(needsChannel ? [`  let c = (i / p.plane) % p.channels;`] : []),
    ...loads,
    ...scalars.map((s) => `  let v_${s} = p.v_${s};`),
    `  let value = ${body};`,
    // select, not a multiply by the flag: an uninitialised `out` may hold NaN.
    `  out[i] = select(value, out[i] + value, p.accumulate != 0u);`,
    `}`,
  ].join("\n");
}

/** FNV-1a of the generated source: keeps the pipeline cache key stable and unique per expression. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let k = 0; k < text.length; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}
