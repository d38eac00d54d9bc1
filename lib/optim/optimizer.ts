/**
 * What SGD and Adam share: the parameter list, per-parameter state buffers allocated once, the per-step
 * uniform, the step counter and state export/import for checkpoints.
 *
 * Layout choice: one dispatch per parameter tensor, each bound to that tensor's own param, grad and state
 * buffers. Models own their parameters as separate buffers and `Gpu.bind` binds whole buffers, so a flat
 * packing would need every op to bind sub-ranges (256-byte aligned offsets) and would cap the whole model at
 * one 128 MiB binding; per-tensor buffers respect the per-binding limit by construction. The cost is one
 * ~80 µs dispatch per tensor on the software adapter (ResNet-18: 62 tensors, ≈5 ms a step), small next to
 * the forward and backward passes.
 * @module
 */
import type { Dispatch, Gpu } from "../gpu/device.ts";
import { grid1d } from "../gpu/grid.ts";
import { checkStateDict, SafetensorsError, type Tensor, type TensorInput } from "../io/safetensors.ts";

/** One parameter tensor the optimizer updates. */
export interface OptimParam {
  /** State-dict name (e.g. `layer1.0.conv1.weight`); names the exported state tensors. */
  readonly name: string;
  readonly shape: readonly number[];
  /** fp32 values, updated in place. */
  readonly param: GPUBuffer;
  /** fp32 gradient of the loss with respect to `param`, read only. */
  readonly grad: GPUBuffer;
  /**
   * Per-parameter weight decay, overriding the optimizer's (torch's parameter groups). PyTorch applies the
   * group's weight decay to every parameter, BatchNorm and biases included; so does this unless overridden.
   */
  readonly weightDecay?: number;
}

/** Name of the step counter in exported state (I64 scalar). */
export const STEP_STATE_NAME = "optim.step";

/**
 * Base of the optimizers: subclasses supply the pipeline, each parameter's constant uniform and what the
 * per-step uniform holds. Create them through their async `create` factories.
 */
export abstract class Optimizer {
  /** Number of updates applied so far (torch's `state["step"]`). */
  stepCount = 0;
  readonly #dispatches: Dispatch[];
  readonly #now: GPUBuffer;
  // The per-step uniform's 16 bytes, reused every step (no per-step allocation).
  readonly #nowWords = new Uint32Array(4);
  readonly #nowView = new DataView(this.#nowWords.buffer);
  readonly #state: { name: string; shape: readonly number[]; count: number; buffer: GPUBuffer }[] = [];

  /**
   * Allocates `stateKinds` buffers per parameter (zero-filled) and binds each parameter's update as
   * `[param, grad, hyper, now, ...state]` on a 1-D grid; `hyper` is the parameter's constant uniform.
   */
  protected constructor(
    readonly gpu: Gpu,
    readonly params: readonly OptimParam[],
    pipeline: GPUComputePipeline,
    stateKinds: readonly string[],
    hyper: (param: OptimParam, count: number) => GPUBuffer,
  ) {
    const names = new Set<string>();
    for (const p of params) {
      if (names.has(p.name)) throw new Error(`optimizer: parameter '${p.name}' listed twice`);
      names.add(p.name);
      // WGSL clamps out-of-range accesses instead of failing, so a short buffer would silently corrupt.
      const bytes = p.shape.reduce((a, b) => a * b, 1) * 4;
      if (p.param.size < bytes || p.grad.size < bytes) {
        throw new Error(
          `optimizer: '${p.name}' [${p.shape}] needs ${bytes} bytes; param has ${p.param.size}, grad ${p.grad.size}`,
        );
      }
    }
    this.#now = gpu.device.createBuffer({
      size: this.#nowWords.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: `${new.target.name} step uniform`,
    });
    this.#dispatches = params.map((p) => {
      const count = p.shape.reduce((a, b) => a * b, 1);
      const state = stateKinds.map((kind) => {
        const name = `optim.${p.name}.${kind}`;
        const buffer = gpu.buffer(count * 4, name); // zero-filled, as torch's zeros_like
        this.#state.push({ name, shape: p.shape, count, buffer });
        return buffer;
      });
      return gpu.bind(pipeline, [p.param, p.grad, hyper(p, count), this.#now, ...state], grid1d(count));
    });
  }

  /** Writes the per-step uniform (little-endian fields) for update number `step` (1-based). */
  protected abstract writeNow(lr: number, step: number, now: DataView): void;

  /**
   * Advances the step counter, writes this step's learning rate into the step uniform and returns the
   * update dispatches (the same array every call; nothing is allocated). Submit them, after the backward
   * pass, before calling `step` again: the uniform is written to the queue immediately.
   */
  step(lr: number): readonly Dispatch[] {
    this.stepCount++;
    this.writeNow(lr, this.stepCount, this.#nowView);
    this.gpu.write(this.#now, this.#nowWords);
    return this.#dispatches;
  }

  /**
   * The optimizer state as tensors (`optim.<param>.<kind>` in the parameter's shape, plus
   * {@link STEP_STATE_NAME}), ready for a checkpoint; restoring it with {@link importState} resumes
   * bit-exactly. Waits for submitted work.
   */
  async exportState(): Promise<Map<string, TensorInput>> {
    const out = new Map<string, TensorInput>();
    out.set(STEP_STATE_NAME, { shape: [], data: new BigInt64Array([BigInt(this.stepCount)]) });
    for (const { name, shape, count, buffer } of this.#state) {
      out.set(name, { shape, data: await this.gpu.readF32(buffer, count) });
    }
    return out;
  }

  /**
   * Restores state from {@link exportState}'s tensors (e.g. read back from a checkpoint; other tensors in
   * `tensors` are ignored). Throws a {@link SafetensorsError} naming `file` and the first missing,
   * mis-shaped or mistyped state tensor, before changing anything.
   */
  importState(tensors: ReadonlyMap<string, Tensor | TensorInput>, file = "<optimizer state>"): void {
    const expected = new Map<string, readonly number[]>([[STEP_STATE_NAME, []]]);
    for (const { name, shape } of this.#state) expected.set(name, shape);
    const mine = new Map([...tensors].filter(([name]) => expected.has(name)));
    checkStateDict(expected, mine, file);
    const step = mine.get(STEP_STATE_NAME)!.data;
    if (!(step instanceof BigInt64Array) || step[0] < 0n) {
      throw new SafetensorsError(`${file}: ${STEP_STATE_NAME} must be a non-negative I64`);
    }
    const values = this.#state.map(({ name, buffer }) => {
      const data = mine.get(name)!.data;
      if (!(data instanceof Float32Array)) {
        throw new SafetensorsError(`${file}: ${name} must be floating point`);
      }
      return { buffer, data };
    });
    for (const { buffer, data } of values) this.gpu.write(buffer, data);
    this.stepCount = Number(step[0]);
  }
}
