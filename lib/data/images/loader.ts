/**
 * Batches over an {@link ImageSource}: per-epoch seeded shuffling, drop-last, resume at any batch, and
 * prefetching — the next batches are being built (in a {@link WorkerPool}, or in this thread with
 * `workers: 0`) while the caller works on the current one. Every batch is a pure function of (seed, epoch,
 * batch number), so the worker count, the prefetch depth and a kill-and-resume change nothing.
 * @module
 */
import { Random } from "../../random.ts";
import { type BatchJob, buildBatch, type ImageBatch } from "./batch.ts";
import type { ImageSource } from "./source.ts";
import type { Transform } from "./transforms.ts";
import { WorkerPool } from "./worker_pool.ts";

/** Options of {@link BatchLoader}. */
export interface LoaderOptions {
  transform: Transform;
  /** Rows per batch. */
  batch: number;
  /** Reorder each epoch by `Random("<seed>/order/<epoch>").permutation(n)`. Default: `transform.kind === "train"`. */
  shuffle?: boolean;
  /** Skip the last partial batch (training). Default: `shuffle`. Otherwise it is zero-padded to `batch` rows. */
  dropLast?: boolean;
  /** Seeds the order and the augmentation. Default 0. */
  seed?: number | string;
  /** Worker threads; 0 builds in this thread. Default min(2, logical cores). */
  workers?: number;
  /** Batches built ahead of the one being consumed. Default max(2, workers). */
  prefetch?: number;
  /**
   * Shuffle control (`docs/method.md#baselines-and-controls`): `partners[i]` is the source index whose image
   * the predictor sees with image i; batches then carry `partnerImages`, augmented with their own draws.
   */
  partners?: Uint32Array;
}

/** The default worker count: min(2, logical cores). */
export function defaultWorkers(): number {
  return Math.min(2, navigator.hardwareConcurrency || 1);
}

/**
 * Seeded, resumable, prefetching batches. Call {@link BatchLoader.close} when done (it stops the workers).
 *
 * @example
 * ```ts
 * import { openImageFolder } from "./image_folder.ts";
 * // Epoch 3 of a training folder, resuming at batch 5 (the order is a function of seed and epoch).
 * async function resumeEpoch(folder: string) {
 *   const train = await openImageFolder(folder);
 *   using loader = new BatchLoader(train, { transform: { kind: "train", size: 64 }, batch: 32, seed: 1 });
 *   for await (const b of loader.epoch(3, { startBatch: 5 })) {
 *     b.images; // Float32Array [32, 3, 64, 64]
 *   }
 * }
 * ```
 */
export class BatchLoader {
  readonly #source: ImageSource;
  readonly #pool: WorkerPool | null;
  readonly #prefetch: number;
  readonly transform: Transform;
  readonly batch: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly seed: number | string;
  readonly partners?: Uint32Array;

  /** Starts the workers (if any) on `source`. */
  constructor(source: ImageSource, options: LoaderOptions) {
    const { transform, batch, seed = 0, partners } = options;
    if (!Number.isInteger(batch) || batch < 1) {
      throw new RangeError(`batch must be a positive integer, got ${batch}`);
    }
    if (partners && partners.length !== source.length) {
      throw new RangeError(`partners has ${partners.length} entries for ${source.length} images`);
    }
    this.shuffle = options.shuffle ?? transform.kind === "train";
    this.dropLast = options.dropLast ?? this.shuffle;
    this.transform = transform;
    this.batch = batch;
    this.seed = seed;
    this.partners = partners;
    this.#source = source;
    const workers = options.workers ?? defaultWorkers();
    this.#prefetch = Math.max(1, options.prefetch ?? Math.max(2, workers));
    this.#pool = workers > 0 ? new WorkerPool(workers, source.describe()) : null;
  }

  /** Images in the source. */
  get length(): number {
    return this.#source.length;
  }

  /** Batches per epoch: ⌊n / batch⌋ with drop-last, else ⌈n / batch⌉. */
  get batchesPerEpoch(): number {
    const n = this.#source.length;
    return this.dropLast ? Math.floor(n / this.batch) : Math.ceil(n / this.batch);
  }

  /** The source indices of epoch `epoch`, in visiting order. */
  order(epoch: number): Uint32Array {
    const n = this.#source.length;
    return this.shuffle
      ? new Random(`${this.seed}/order/${epoch}`).permutation(n)
      : Uint32Array.from({ length: n }, (_, i) => i);
  }

  /**
   * The batches of `epoch` from batch `startBatch` on (to resume mid-epoch: the batches are exactly those an
   * uninterrupted epoch yields from that point).
   */
  async *epoch(epoch: number, { startBatch = 0 } = {}): AsyncGenerator<ImageBatch> {
    const order = this.order(epoch), total = this.batchesPerEpoch;
    if (!Number.isInteger(startBatch) || startBatch < 0 || startBatch > total) {
      throw new RangeError(`startBatch ${startBatch} is outside 0..${total}`);
    }
    const queue: Promise<ImageBatch>[] = [];
    let next = startBatch;
    const fill = () => {
      while (queue.length < this.#prefetch && next < total) {
        const promise = this.#build(this.#job(order, epoch, next++));
        // Handled here so a failure in a batch not yet awaited is not an unhandled rejection; awaiting the
        // promise below still throws it.
        promise.catch(() => {});
        queue.push(promise);
      }
    };
    fill();
    while (queue.length > 0) {
      const batch = await queue.shift()!;
      fill();
      yield batch;
    }
  }

  /** Stops the workers. */
  close(): void {
    this.#pool?.close();
  }

  /** Same as {@link BatchLoader.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #job(order: Uint32Array, epoch: number, number: number): BatchJob {
    const indices = order.slice(number * this.batch, (number + 1) * this.batch);
    const partners = this.partners ? Uint32Array.from(indices, (i) => this.partners![i]) : undefined;
    return { indices, rows: this.batch, transform: this.transform, seed: this.seed, epoch, partners };
  }

  #build(job: BatchJob): Promise<ImageBatch> {
    return this.#pool ? this.#pool.build(job) : buildBatch(this.#source, job);
  }
}
