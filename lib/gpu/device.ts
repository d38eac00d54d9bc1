/**
 * WebGPU device acquisition and the {@link Gpu} context every kernel runs through: pipelines cached by
 * kernel + specialization, uniform blocks cached by content, a buffer pool, batched dispatch recording and
 * explicit readback.
 * @module
 */
import { UserError } from "../errors.ts";
import { loadKernelSource } from "./shader.ts";

/** Raised for anything the GPU reports: no adapter, a lost device, a validation error (names the kernel). */
export class GpuError extends UserError {
  override name = "GpuError";
}

/** What the kernels are tuned for: a CPU rasteriser (llvmpipe/lavapipe) or a real GPU. */
export type AdapterKind = "cpu" | "gpu";

/** One recorded kernel launch: pipeline, bound buffers and grid, ready to encode any number of times. */
export interface Dispatch {
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
}

/** A field of a uniform block: plain numbers are u32; wrap to get i32 or f32. */
export type UniformField = number | { i32: number } | { f32: number };

/** Specialization of one kernel: WGSL file, entry point, override constants and text defines. */
export interface KernelSpec {
  /** File name in `kernels/` without extension, or a key for generated source (see `source`). */
  readonly file: string;
  readonly entry: string;
  /** WGSL `override` constants (block sizes, shapes). */
  readonly constants?: Record<string, number>;
  /** Generated WGSL; when given, `file` is only the cache key. */
  readonly source?: string;
}

/**
 * Environment variable that caps the binding size batches are planned for below the adapter's (bytes): it lets
 * a test, or a user rehearsing for a smaller GPU, see the micro-batching a small adapter would need.
 */
export const BINDING_LIMIT_ENV = "NEUROGUIDE_MAX_BINDING_BYTES";

const NO_ADAPTER_HELP =
  "no WebGPU adapter found: on a machine without a GPU install Mesa's software adapter " +
  "(Debian/Ubuntu: apt-get install libegl-mesa0 libgl1-mesa-dri mesa-vulkan-drivers)";

/** The device plus everything cached on it. Get one with {@link getGpu}. */
export class Gpu {
  readonly kind: AdapterKind;
  readonly description: string;
  #lost: string | null = null;
  #uncaptured: string | null = null;
  readonly #pipelines = new Map<string, Promise<GPUComputePipeline>>();
  readonly #uniforms = new Map<string, GPUBuffer>();
  readonly #pool = new Map<number, GPUBuffer[]>();
  #encode: SubmitEncoder | null = null;
  #bindingCap: number | null = null;

  constructor(
    readonly device: GPUDevice,
    info: GPUAdapterInfo,
    isFallback: boolean,
    forcedKind?: AdapterKind,
  ) {
    this.description = info.description || info.vendor || "unknown adapter";
    const software = isFallback || /llvmpipe|lavapipe|swiftshader|software/i.test(this.description);
    this.kind = forcedKind ?? (software ? "cpu" : "gpu");
    device.lost.then((lost) => {
      this.#lost = `${lost.reason}: ${lost.message}`;
    });
    device.addEventListener("uncapturederror", (event) => {
      this.#uncaptured ??= (event as GPUUncapturedErrorEvent).error.message;
    });
  }

  /** Throws the first error the device reported since the last check (validation errors name the label). */
  checkErrors(context: string): void {
    if (this.#lost !== null) throw new GpuError(`${context}: GPU device lost (${this.#lost})`);
    if (this.#uncaptured !== null) {
      const message = this.#uncaptured;
      this.#uncaptured = null;
      throw new GpuError(`${context}: ${message.split("\n").filter((l) => l.trim()).join(" | ")}`);
    }
  }

  /** Compute pipeline for a kernel specialization; created once and cached by file + entry + constants. */
  pipeline(spec: KernelSpec): Promise<GPUComputePipeline> {
    const key = `${spec.file}#${spec.entry}#${JSON.stringify(spec.constants ?? {})}`;
    let pipeline = this.#pipelines.get(key);
    if (!pipeline) {
      pipeline = this.#createPipeline(spec, key);
      this.#pipelines.set(key, pipeline);
      pipeline.catch(() => this.#pipelines.delete(key));
    }
    return pipeline;
  }

  async #createPipeline(spec: KernelSpec, key: string): Promise<GPUComputePipeline> {
    this.checkErrors(`kernel ${key}`);
    const code = spec.source ?? await loadKernelSource(spec.file);
    const module = this.device.createShaderModule({ code, label: spec.file });
    try {
      return await this.device.createComputePipelineAsync({
        label: key,
        layout: "auto",
        compute: { module, entryPoint: spec.entry, constants: spec.constants },
      });
    } catch (e) {
      throw new GpuError(`kernel ${key}: ${(e as Error).message}`);
    }
  }

  /** A uniform block with the given fields, in WGSL struct order; identical blocks share one buffer. */
  uniform(fields: readonly UniformField[]): GPUBuffer {
    const key = fields.map((f) => typeof f === "number" ? `u${f}` : "f32" in f ? `f${f.f32}` : `i${f.i32}`)
      .join(",");
    let buffer = this.#uniforms.get(key);
    if (!buffer) {
      buffer = this.device.createBuffer({
        size: Math.max(16, Math.ceil((fields.length * 4) / 16) * 16),
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        label: `uniform(${key})`,
      });
      this.device.queue.writeBuffer(buffer, 0, uniformBytes(fields));
      this.#uniforms.set(key, buffer);
    }
    return buffer;
  }

  /**
   * The largest storage binding that batch-sized tensors are planned for, in bytes: the device's binding and
   * buffer limits (the adapter's maxima, requested at creation), or a lower cap from {@link limitBindings}.
   * Micro-batching and the attacks' GPU batch are sized from it.
   */
  get bindingLimit(): number {
    const { maxStorageBufferBindingSize, maxBufferSize } = this.device.limits;
    return Math.min(maxStorageBufferBindingSize, maxBufferSize, this.#bindingCap ?? Infinity);
  }

  /**
   * Caps {@link bindingLimit} at `bytes` (null lifts the cap): batches are then split as on an adapter with
   * that limit (what a single buffer may hold stays the device's). Tests use it to exercise micro-batching on
   * tiny models; `NEUROGUIDE_MAX_BINDING_BYTES` sets it for a whole process.
   */
  limitBindings(bytes: number | null): void {
    if (bytes !== null && !(Number.isInteger(bytes) && bytes >= 16)) {
      throw new GpuError(`binding limit must be an integer of at least 16 bytes, got ${bytes}`);
    }
    this.#bindingCap = bytes;
  }

  /** A storage buffer of `bytes` (rounded up to 16), zero-filled. */
  buffer(bytes: number, label = "storage"): GPUBuffer {
    const limit = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new GpuError(`${label}: ${bytes} bytes exceeds this adapter's storage binding limit of ${limit}`);
    }
    return this.device.createBuffer({
      size: Math.max(16, Math.ceil(bytes / 16) * 16),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      label,
    });
  }

  /** A storage buffer holding `data`. */
  upload(data: Float32Array | Uint32Array | Int32Array, label = "upload"): GPUBuffer {
    const buffer = this.buffer(data.byteLength, label);
    this.device.queue.writeBuffer(buffer, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  /** Overwrites the start of `buffer` with `data`. */
  write(buffer: GPUBuffer, data: Float32Array | Uint32Array | Int32Array, byteOffset = 0): void {
    this.device.queue.writeBuffer(
      buffer,
      byteOffset,
      data.buffer as ArrayBuffer,
      data.byteOffset,
      data.byteLength,
    );
  }

  /** A pooled storage buffer of at least `bytes`; hand it back with {@link release}. Contents are undefined. */
  acquire(bytes: number, label = "pooled"): GPUBuffer {
    const size = poolSize(bytes);
    return this.#pool.get(size)?.pop() ?? this.buffer(size, label);
  }

  /** Returns a buffer from {@link acquire} to the pool. */
  release(buffer: GPUBuffer): void {
    const list = this.#pool.get(buffer.size) ?? [];
    list.push(buffer);
    this.#pool.set(buffer.size, list);
  }

  /** Binds buffers (binding i = buffers[i], group 0) to a pipeline: a dispatch to record any number of times. */
  bind(
    pipeline: GPUComputePipeline,
    buffers: readonly GPUBuffer[],
    workgroups: readonly [number, number?, number?],
  ): Dispatch {
    const label = pipeline.label;
    const limit = this.device.limits.maxComputeWorkgroupsPerDimension;
    const grid = [workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1] as const;
    if (grid.some((n) => n > limit || !Number.isInteger(n) || n < 0)) {
      throw new GpuError(`${label}: workgroup grid [${grid}] outside 0..${limit} per dimension`);
    }
    const bindGroup = this.device.createBindGroup({
      label,
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return { label, pipeline, bindGroup, workgroups: grid };
  }

  /** Encodes dispatches, in order, into one compute pass of one command buffer and submits it. */
  submit(dispatches: readonly Dispatch[]): void {
    this.checkErrors(dispatches[0]?.label ?? "submit");
    const encoder = this.device.createCommandEncoder();
    if (this.#encode) this.#encode(encoder, dispatches);
    else {
      const pass = encoder.beginComputePass();
      for (const d of dispatches) encodeDispatch(pass, d);
      pass.end();
    }
    this.device.queue.submit([encoder.finish()]);
  }

  /**
   * Profiling hook: while set, {@link submit} lets `encode` record each dispatch list into the command encoder
   * instead of into one shared compute pass (`lib/gpu/profile.ts` gives every dispatch its own timed pass).
   * `null` restores the normal path, which then costs one null check.
   */
  setSubmitEncoder(encode: SubmitEncoder | null): void {
    this.#encode = encode;
  }

  /** Copies `buffer` (or its first `bytes`) back to the CPU; waits for all submitted work. */
  async read(buffer: GPUBuffer, bytes = buffer.size): Promise<ArrayBuffer> {
    const staging = this.device.createBuffer({
      size: Math.ceil(bytes / 4) * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, staging.size);
    this.device.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (e) {
      this.checkErrors(`read ${buffer.label}`);
      throw new GpuError(`read ${buffer.label}: ${(e as Error).message}`);
    }
    const copy = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    this.checkErrors(`read ${buffer.label}`);
    return copy;
  }

  /** {@link read} as float32 values (`count` of them, default all). */
  async readF32(buffer: GPUBuffer, count = buffer.size / 4): Promise<Float32Array> {
    return new Float32Array(await this.read(buffer, count * 4));
  }

  /** Waits until the queue is idle and throws any pending device error. */
  async sync(context = "sync"): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.checkErrors(context);
  }
}

/** Records a list of dispatches into a command encoder; see {@link Gpu.setSubmitEncoder}. */
export type SubmitEncoder = (encoder: GPUCommandEncoder, dispatches: readonly Dispatch[]) => void;

/** Records one dispatch into an open compute pass. */
export function encodeDispatch(pass: GPUComputePassEncoder, d: Dispatch): void {
  pass.setPipeline(d.pipeline);
  pass.setBindGroup(0, d.bindGroup);
  pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
}

function poolSize(bytes: number): number {
  return Math.max(256, 2 ** Math.ceil(Math.log2(bytes)));
}

function uniformBytes(fields: readonly UniformField[]): ArrayBuffer {
  const view = new DataView(new ArrayBuffer(fields.length * 4));
  fields.forEach((f, i) => {
    if (typeof f === "number") view.setUint32(i * 4, f, true);
    else if ("f32" in f) view.setFloat32(i * 4, f.f32, true);
    else view.setInt32(i * 4, f.i32, true);
  });
  return view.buffer;
}

let shared: Promise<Gpu> | null = null;

/**
 * The process-wide {@link Gpu}, created on first use with the largest limits the adapter offers.
 * `NEUROGUIDE_ADAPTER=cpu|gpu` overrides which kernel variants are used (the adapter itself is chosen by Deno;
 * `DENO_WEBGPU_BACKEND=vulkan|gl` picks the backend).
 *
 * @example
 * ```ts
 * const gpu = await getGpu();
 * console.log(gpu.kind, gpu.description);
 * ```
 */
export function getGpu(): Promise<Gpu> {
  shared ??= createGpu().catch((e) => {
    shared = null;
    throw e;
  });
  return shared;
}

async function createGpu(): Promise<Gpu> {
  if (!("gpu" in navigator) || !navigator.gpu) throw new GpuError(NO_ADAPTER_HELP);
  // Mesa's lavapipe prints an error on every adapter request unless XDG_RUNTIME_DIR names a private folder.
  if (!Deno.env.get("XDG_RUNTIME_DIR")) {
    Deno.env.set("XDG_RUNTIME_DIR", await Deno.makeTempDir({ prefix: "neuroguide-xdg-" }));
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new GpuError(NO_ADAPTER_HELP);
  // Every limit at the adapter's maximum: the defaults (128 MiB bindings, 256 MiB buffers) are far below what
  // most adapters offer, and the largest binding decides how many images one training dispatch can hold.
  const requiredLimits: Record<string, number> = {};
  for (const name in adapter.limits) {
    const value = adapter.limits[name as keyof GPUSupportedLimits];
    if (typeof value === "number") requiredLimits[name] = value;
  }
  // Timestamp queries cost nothing until used; they let lib/gpu/profile.ts time single dispatches.
  const requiredFeatures: GPUFeatureName[] = adapter.features.has("timestamp-query")
    ? ["timestamp-query"]
    : [];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: "neuroguide" });
  // deno-lint-ignore no-explicit-any
  const fallback = Boolean((adapter as any).isFallbackAdapter ?? (adapter.info as any).isFallbackAdapter);
  const forced = Deno.env.get("NEUROGUIDE_ADAPTER");
  const gpu = new Gpu(
    device,
    adapter.info,
    fallback,
    forced === "cpu" || forced === "gpu" ? forced : undefined,
  );
  const cap = Deno.env.get(BINDING_LIMIT_ENV);
  if (cap) {
    const bytes = Number(cap);
    if (!Number.isInteger(bytes) || bytes < 16) {
      throw new GpuError(
        `${BINDING_LIMIT_ENV}=${cap}: give a whole number of bytes (at least 16), or unset it`,
      );
    }
    gpu.limitBindings(bytes);
  }
  return gpu;
}
