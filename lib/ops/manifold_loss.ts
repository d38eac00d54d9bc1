/**
 * The manifold-guidance loss of docs/method.md#manifold-guidance, `L = w_ce·CE + w_rad·L_rad + w_dim·L_dim`,
 * as a static set of dispatches (`kernels/manifold_loss.wgsl`): the neural head's outputs of each class in
 * the batch are pulled inside the stored class radius and into the stored class subspace. No predictor runs
 * at train time; the per-class targets are computed once beforehand (see `lib/train/manifold_stats.ts`).
 * @module
 */
import type { Dispatch, Gpu } from "../gpu/device.ts";
import { grid1d } from "../gpu/grid.ts";
import { checkBuffers } from "../gpu/operands.ts";
import { checkDims, checkShape } from "./shape.ts";

/** Per-class targets: centres `[classes, dim]`, radii `[classes]`, orthonormal bases `[classes, rank, dim]`. */
export interface ManifoldTargets {
  classes: number;
  dim: number;
  /** Basis rows per class; classes with fewer kept directions have zero rows. */
  rank: number;
  centres: Float32Array;
  radii: Float32Array;
  basis: Float32Array;
  /** Directions kept per class. */
  dims: Int32Array;
}

/**
 * Which way the subspace term pushes. The source adds `+mean VAF` (VAF = 1 − ‖x̃ − Px̃‖/‖x̃‖) to a loss that is
 * minimised, which lowers VAF: it pushes each class's batch variation *out of* the predictor's class subspace.
 * We take that to be a sign error and default to `raise-vaf`, minimising ρ = 1 − VAF, because (1) the other
 * manifold term pulls the head towards the neural geometry (inside the class radius), and the stated aim of
 * the variant is to give the model the neural class manifolds; (2) with `+VAF` the optimum is any variation
 * orthogonal to a d-dimensional subspace of a K-dimensional space — almost every direction when d ≪ K — so
 * the term would carry almost no information from the predictor, while ρ is minimised only inside the
 * subspace. `lower-vaf` reproduces the code as written (reported as −ρ = VAF − 1: the same gradient as +VAF).
 */
export type DimSign = "raise-vaf" | "lower-vaf";

/** Weights (w_ce, w_rad, w_dim) of the three terms and the sign of the subspace term. */
export interface ManifoldLossWeights {
  ce: number;
  rad: number;
  dim: number;
  dimSign: DimSign;
}

/** The source's weights: 0.7·CE + 0.15·L_rad + 0.15·L_dim. */
export const MANIFOLD_DEFAULT_WEIGHTS: ManifoldLossWeights = {
  ce: 0.7,
  rad: 0.15,
  dim: 0.15,
  dimSign: "raise-vaf",
};

const ENTRIES = [
  "class_means",
  "forward_rows",
  "forward_total",
  "ce_grads",
  "row_grads",
  "head_grads",
] as const;
/** f32 values per row and per class of the kernels' scratch (ROW and CLS in the kernel). */
const ROW = 6, CLS = 3;

/**
 * Binds the loss for a fixed batch. L_dim is reported as the mean of ρ = 1 − VAF (`raise-vaf`) or of −ρ
 * (`lower-vaf`, so that minimising it raises ρ and lowers VAF — the source's `+VAF` up to a constant).
 */
export class ManifoldLoss {
  private constructor(
    private readonly gpu: Gpu,
    private readonly kernels: Record<typeof ENTRIES[number], GPUComputePipeline>,
    private readonly scratch: Record<
      "classMean" | "rows" | "coeff" | "coef" | "rowGrad" | "gradMean",
      GPUBuffer
    >,
    private readonly targets: Record<"centres" | "radii" | "basis", GPUBuffer>,
    private readonly params: GPUBuffer,
    readonly batch: number,
    readonly logitClasses: number,
    readonly shape: Readonly<Pick<ManifoldTargets, "classes" | "dim" | "rank">>,
  ) {}

  /**
   * Uploads the targets and compiles. `logitClasses` (the classifier's output width) must equal the targets'
   * class count; rows labelled outside it take no part in the manifold terms.
   *
   * @example
   * ```ts
   * import type { Gpu } from "../gpu/mod.ts";
   * // Forward and backward of the manifold-guidance loss on one batch of 32 (10 classes).
   * async function manifoldLossStep(
   *   gpu: Gpu,
   *   targets: ManifoldTargets,
   *   b: Record<"logits" | "labels" | "head" | "out" | "dLogits" | "dHead", GPUBuffer>,
   * ) {
   *   const weights = MANIFOLD_DEFAULT_WEIGHTS;
   *   const loss = await ManifoldLoss.create(gpu, { batch: 32, logitClasses: 10, targets, weights });
   *   gpu.submit([...loss.forward(b), ...loss.backward(b)]);
   * }
   * ```
   */
  static async create(
    gpu: Gpu,
    { batch, logitClasses, targets, weights, scale = 1 }: {
      batch: number;
      logitClasses: number;
      targets: ManifoldTargets;
      weights: ManifoldLossWeights;
      scale?: number;
    },
  ): Promise<ManifoldLoss> {
    const { classes, dim, rank } = targets;
    checkDims("ManifoldLoss", { batch, classes, dim, rank });
    checkShape(
      logitClasses === classes,
      "ManifoldLoss",
      `the targets have ${classes} classes, the classifier ${logitClasses}`,
    );
    checkShape(
      targets.centres.length === classes * dim && targets.radii.length === classes &&
        targets.basis.length === classes * rank * dim,
      "ManifoldLoss",
      `targets do not hold ${classes} classes × ${dim} dims × rank ${rank}`,
    );
    for (const [name, w] of Object.entries({ ce: weights.ce, rad: weights.rad, dim: weights.dim })) {
      checkShape(
        Number.isFinite(w) && w >= 0,
        "ManifoldLoss",
        `weight ${name} must be finite and ≥ 0, got ${w}`,
      );
    }
    const compiled = await Promise.all(
      ENTRIES.map((entry) => gpu.pipeline({ file: "manifold_loss", entry })),
    );
    const upload = (data: Float32Array, label: string) => {
      const buffer = gpu.buffer(data.byteLength, label);
      gpu.write(buffer, data);
      return buffer;
    };
    const params = gpu.device.createBuffer({
      size: 48,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: "manifold_loss.params",
    });
    const view = new DataView(new ArrayBuffer(48));
    [batch, logitClasses, dim, rank].forEach((v, i) => view.setUint32(4 * i, v, true));
    const sign = weights.dimSign === "raise-vaf" ? 1 : -1;
    [weights.ce, weights.rad, weights.dim, sign, scale].forEach((v, i) =>
      view.setFloat32(16 + 4 * i, v, true)
    );
    gpu.write(params, new Uint32Array(view.buffer));
    return new ManifoldLoss(
      gpu,
      Object.fromEntries(ENTRIES.map((e, i) => [e, compiled[i]])) as Record<
        typeof ENTRIES[number],
        GPUComputePipeline
      >,
      {
        classMean: gpu.buffer(logitClasses * dim * 4, "manifold_loss.class-mean"),
        rows: gpu.buffer(batch * ROW * 4, "manifold_loss.rows"),
        coeff: gpu.buffer(batch * rank * 4, "manifold_loss.coeff"),
        coef: gpu.buffer(logitClasses * CLS * 4, "manifold_loss.class-coef"),
        rowGrad: gpu.buffer(batch * dim * 4, "manifold_loss.row-grad"),
        gradMean: gpu.buffer(logitClasses * dim * 4, "manifold_loss.grad-mean"),
      },
      {
        centres: upload(targets.centres, "manifold_loss.centres"),
        radii: upload(targets.radii, "manifold_loss.radii"),
        basis: upload(targets.basis, "manifold_loss.basis"),
      },
      params,
      batch,
      logitClasses,
      { classes, dim, rank },
    );
  }

  get #shapes(): Record<string, number[]> {
    const scores = [this.batch, this.logitClasses], neural = [this.batch, this.shape.dim];
    return { logits: scores, dLogits: scores, labels: [this.batch], head: neural, dHead: neural, out: [5] };
  }

  #classMeans(x: GPUBuffer, labels: GPUBuffer, out: GPUBuffer): Dispatch {
    const grid = grid1d(this.logitClasses * this.shape.dim, 64);
    return this.gpu.bind(this.kernels.class_means, [x, labels, out, this.params], grid);
  }

  /** `out` (f32 ×5) = [total, ce, L_rad, L_dim, correct]; also fills the scratch the backward reads. */
  forward(
    { logits, labels, head, out }: Record<"logits" | "labels" | "head" | "out", GPUBuffer>,
  ): Dispatch[] {
    checkBuffers("ManifoldLoss", this.#shapes, { logits, labels, head, out });
    const s = this.scratch, t = this.targets;
    return [
      this.#classMeans(head, labels, s.classMean),
      this.gpu.bind(
        this.kernels.forward_rows,
        [logits, labels, head, t.centres, t.basis, s.classMean, s.rows, s.coeff, this.params],
        grid1d(this.batch, 64),
      ),
      this.gpu.bind(this.kernels.forward_total, [s.rows, labels, t.radii, s.coef, out, this.params], [1]),
    ];
  }

  /** `dLogits` and `dHead` (overwritten, times the loss scale); must follow {@link forward} on the same batch. */
  backward(
    { logits, labels, head, dLogits, dHead }: Record<
      "logits" | "labels" | "head" | "dLogits" | "dHead",
      GPUBuffer
    >,
  ): Dispatch[] {
    checkBuffers("ManifoldLoss", this.#shapes, { logits, labels, head, dLogits, dHead });
    const s = this.scratch, t = this.targets, rows = grid1d(this.batch, 64);
    return [
      this.gpu.bind(this.kernels.ce_grads, [logits, labels, s.rows, dLogits, this.params], rows),
      this.gpu.bind(
        this.kernels.row_grads,
        [labels, head, t.basis, s.classMean, s.rows, s.coef, s.coeff, s.rowGrad, this.params],
        rows,
      ),
      this.#classMeans(s.rowGrad, labels, s.gradMean),
      this.gpu.bind(
        this.kernels.head_grads,
        [head, labels, t.centres, s.coef, s.rowGrad, s.gradMean, dHead, this.params],
        grid1d(this.batch * this.shape.dim, 64),
      ),
    ];
  }
}
