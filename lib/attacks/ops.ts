/**
 * The GPU building blocks every attack composes: per-example loss kernels that seed the model's logit
 * gradient, per-example norms, and the in-place step / projection / copy kernels of `kernels/attack_step.wgsl`.
 * One {@link AttackOps} is made per model (fixed batch) and holds the clean batch, its labels and small
 * per-example scratch buffers; methods only bind, so attacks build their dispatch lists once and re-submit.
 * @module
 */
import type { Dispatch, Gpu } from "../gpu/device.ts";
import { grid1d } from "../gpu/grid.ts";
import type { HostBatch } from "./attack.ts";
import type { AttackModel } from "./model.ts";

/** Threat model: the norm of the perturbation ball. */
export type Norm = "linf" | "l2";

/** The image box: inputs are clamped to [lo, hi] (pixel space [0, 1] by default). */
export interface Box {
  readonly lo: number;
  readonly hi: number;
}

/** Losses an attacker maximises, each a kernel writing the per-example value and d loss / d logits. */
export type LossKind = "ce" | "dlr" | "dlr-targeted" | "margin";

const STEP_ENTRIES = ["linf_step", "linf_project", "l2_step", "l2_project", "momentum", "copy_rows"] as const;
type StepEntry = typeof STEP_ENTRIES[number];

/**
 * @example
 * ```ts
 * import type { AttackModel } from "./model.ts";
 * // One FGSM step of size `eps` on a batch, written by hand with the building blocks.
 * async function fgsmStep(model: AttackModel, images: Float32Array, labels: Uint32Array, eps: number) {
 *   const ops = await AttackOps.create(model);
 *   ops.setBatch(images, labels);
 *   model.gpu.submit([
 *     ops.copy(model.input, ops.x0),
 *     ...ops.gradient("ce"),
 *     ...ops.step("linf", model.input, model.inputGrad, ops.constant(eps), eps),
 *   ]);
 * }
 * ```
 */
export class AttackOps {
  /** Clean images of the current batch, [batch, dim]. */
  readonly x0: GPUBuffer;
  /** Labels of the current batch, u32. */
  readonly labels: GPUBuffer;
  /** Per-example loss written by {@link loss}. */
  readonly lossValues: GPUBuffer;
  /** Per-example 1/0 misclassified flag written by {@link loss}. */
  readonly fooled: GPUBuffer;
  readonly #norms: GPUBuffer;
  readonly #ones: GPUBuffer;
  /** Stand-ins for bindings an entry point does not read (one writable, one not: a dispatch may not mix). */
  readonly #dummy: GPUBuffer;
  readonly #dummyWritable: GPUBuffer;
  readonly #constants = new Map<number, GPUBuffer>();
  readonly #scratch = new Map<string, GPUBuffer>();
  #host: HostBatch | null = null;

  private constructor(
    readonly model: AttackModel,
    readonly box: Box,
    private readonly step_: Record<StepEntry, GPUComputePipeline>,
    private readonly losses: Record<LossKind, GPUComputePipeline>,
    private readonly rowNorm: GPUComputePipeline,
  ) {
    const gpu = model.gpu, [batch] = model.inputShape;
    this.x0 = gpu.buffer(batch * this.dim * 4, "attack.x0");
    this.labels = gpu.buffer(batch * 4, "attack.labels");
    this.lossValues = gpu.buffer(batch * 4, "attack.loss");
    this.fooled = gpu.buffer(batch * 4, "attack.fooled");
    this.#norms = gpu.buffer(batch * 4, "attack.norms");
    this.#ones = gpu.upload(new Float32Array(batch).fill(1), "attack.ones");
    this.#dummy = gpu.buffer(16, "attack.unused");
    this.#dummyWritable = gpu.buffer(16, "attack.unused-rw");
  }

  /** Compiles every kernel and allocates the per-batch buffers. */
  static async create(model: AttackModel, box: Box = { lo: 0, hi: 1 }): Promise<AttackOps> {
    const gpu = model.gpu;
    const [steps, losses, rowNorm] = await Promise.all([
      Promise.all(STEP_ENTRIES.map((entry) => gpu.pipeline({ file: "attack_step", entry }))),
      Promise.all([
        gpu.pipeline({ file: "ce_loss", entry: "main" }),
        gpu.pipeline({ file: "dlr_loss", entry: "dlr" }),
        gpu.pipeline({ file: "dlr_loss", entry: "dlr_targeted" }),
        gpu.pipeline({ file: "margin_loss", entry: "main" }),
      ]),
      gpu.pipeline({ file: "row_norm", entry: "main" }),
    ]);
    const stepPipelines = Object.fromEntries(STEP_ENTRIES.map((e, i) => [e, steps[i]])) as Record<
      StepEntry,
      GPUComputePipeline
    >;
    const [ce, dlr, dlrTargeted, margin] = losses;
    return new AttackOps(
      model,
      box,
      stepPipelines,
      { ce, dlr, "dlr-targeted": dlrTargeted, margin },
      rowNorm,
    );
  }

  /** The model's GPU context. */
  get gpu(): Gpu {
    return this.model.gpu;
  }

  /** Examples per batch. */
  get batch(): number {
    return this.model.inputShape[0];
  }

  /** Values per example (C·H·W). */
  get dim(): number {
    const [, c, h, w] = this.model.inputShape;
    return c * h * w;
  }

  /**
   * A [batch, dim] image buffer, made on first use of `label` and returned again for it afterwards, so that
   * attack scratch is allocated once per model however many batches run. Contents persist between calls.
   */
  images(label: string): GPUBuffer {
    return this.buffer(label, this.batch * this.dim);
  }

  /** A per-example buffer of `stride` floats (or u32) each, cached by `label` like {@link images}. */
  rows(label: string, stride = 1): GPUBuffer {
    return this.buffer(label, this.batch * stride);
  }

  /** A buffer of `count` 4-byte values, cached by `label` like {@link images}. */
  buffer(label: string, count: number): GPUBuffer {
    let buffer = this.#scratch.get(label);
    if (!buffer) {
      buffer = this.gpu.buffer(count * 4, label);
      this.#scratch.set(label, buffer);
    }
    if (buffer.size < count * 4) throw new Error(`AttackOps: scratch '${label}' requested at two sizes`);
    return buffer;
  }

  /**
   * Uploads the clean batch (NCHW in the box) and its labels; `count` says how many leading rows are real
   * points (the rest pad the fixed batch and are ignored by batch-level decisions such as CW's early abort).
   */
  setBatch(images: Float32Array, labels: Uint32Array, count = this.batch): void {
    if (images.length !== this.batch * this.dim || labels.length !== this.batch) {
      throw new Error(`AttackOps.setBatch: expected ${this.batch} images of ${this.dim} values and labels`);
    }
    this.gpu.write(this.x0, images);
    this.gpu.write(this.labels, labels);
    this.#host = { images, labels, count };
  }

  /** The current batch on the host, as given to {@link setBatch}. */
  get host(): HostBatch {
    if (!this.#host) throw new Error("AttackOps: no batch loaded (call setBatch first)");
    return this.#host;
  }

  /** A per-example buffer holding `value` everywhere (cached: used for fixed step sizes). */
  constant(value: number): GPUBuffer {
    let buffer = this.#constants.get(value);
    if (!buffer) {
      buffer = this.gpu.upload(new Float32Array(this.batch).fill(value), `attack.constant(${value})`);
      this.#constants.set(value, buffer);
    }
    return buffer;
  }

  /**
   * The loss kernel on the model's logits: writes {@link lossValues}, {@link fooled} and the model's
   * `logitsGrad` (per example, not averaged). `targets` (u32 per example) only for `dlr-targeted`.
   */
  loss(kind: LossKind, targets?: GPUBuffer): Dispatch {
    const m = this.model;
    const buffers = [m.logits, this.labels, m.logitsGrad, this.lossValues, this.fooled];
    buffers.push(this.gpu.uniform([this.batch, m.classes]));
    if (kind === "dlr-targeted") {
      if (!targets) throw new Error("AttackOps.loss: dlr-targeted needs a targets buffer");
      buffers.push(targets);
    }
    return this.gpu.bind(this.losses[kind], buffers, grid1d(this.batch, 64));
  }

  /** Forward, loss, backward: afterwards `model.inputGrad` holds ∇ₓ loss for the images in `model.input`. */
  gradient(kind: LossKind, targets?: GPUBuffer): Dispatch[] {
    return [...this.model.forward(), this.loss(kind, targets), ...this.model.backward()];
  }

  /** Forward and loss only (query attacks, scoring). */
  evaluate(kind: LossKind): Dispatch[] {
    return [...this.model.forward(), this.loss(kind)];
  }

  /** `out[row]` = ‖a − b‖_p (or ‖a‖_p without `b`); p = 1, 2 or Infinity. */
  norm(a: GPUBuffer, p: 1 | 2 | typeof Infinity, out: GPUBuffer, b?: GPUBuffer): Dispatch {
    const code = p === Infinity ? 0 : p;
    const uniform = this.gpu.uniform([this.batch, this.dim, code, b ? 1 : 0]);
    return this.gpu.bind(this.rowNorm, [a, b ?? a, out, uniform], grid1d(this.batch, 64));
  }

  #elementwise(
    entry: StepEntry,
    x: GPUBuffer,
    { v, rowA, rowB, aux, eps = 0, a = 1 }: {
      v?: GPUBuffer;
      rowA?: GPUBuffer;
      rowB?: GPUBuffer;
      aux?: GPUBuffer;
      eps?: number;
      a?: number;
    },
  ): Dispatch {
    const d = this.#dummy;
    const uniform = this.gpu.uniform([
      this.batch,
      this.dim,
      { f32: eps },
      { f32: this.box.lo },
      { f32: this.box.hi },
      { f32: a },
    ]);
    return this.gpu.bind(
      this.step_[entry],
      [x, this.x0, v ?? d, rowA ?? d, rowB ?? d, aux ?? this.#dummyWritable, uniform],
      grid1d(this.batch * this.dim),
    );
  }

  /** x ← P(x), the projection onto the ε-ball around {@link x0} and the box. */
  project(norm: Norm, x: GPUBuffer, eps: number): Dispatch[] {
    if (norm === "linf") return [this.#elementwise("linf_project", x, { eps })];
    return [
      this.norm(x, 2, this.#norms, this.x0),
      this.#elementwise("l2_project", x, { eps, rowB: this.#norms }),
    ];
  }

  /**
   * x ← P(x + rate·sign(g)) for L∞, x ← P(x + rate·g/‖g‖₂) for L2, with a per-example `rate`; P projects onto
   * the ε-ball around {@link x0} and the box.
   */
  step(norm: Norm, x: GPUBuffer, g: GPUBuffer, rate: GPUBuffer, eps: number): Dispatch[] {
    if (norm === "linf") return [this.#elementwise("linf_step", x, { v: g, rowA: rate, eps })];
    return [
      this.norm(g, 2, this.#norms),
      this.#elementwise("l2_step", x, { v: g, rowA: rate, rowB: this.#norms }),
      ...this.project(norm, x, eps),
    ];
  }

  /** APGD's momentum: x ← x + a(z − x) + (1 − a)(x − previous), previous ← old x (unprojected). */
  momentum(x: GPUBuffer, z: GPUBuffer, previous: GPUBuffer, a: number): Dispatch {
    return this.#elementwise("momentum", x, { v: z, aux: previous, a });
  }

  /** dst ← src for the examples whose `flags` entry is non-zero (every example without `flags`). */
  copy(dst: GPUBuffer, src: GPUBuffer, flags: GPUBuffer = this.#ones): Dispatch {
    return this.#elementwise("copy_rows", dst, { v: src, rowA: flags });
  }
}
