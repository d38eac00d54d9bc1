/**
 * A small pool of Web Workers that build whole batches ({@link buildBatch}) off the main thread, so decoding
 * and augmentation overlap with the caller's GPU work. Each worker reopens the source once from its
 * descriptor; finished batches come back as transferred ArrayBuffers (no copy). Jobs go to the worker with
 * the fewest in flight; the result does not depend on which worker built it.
 * @module
 */
import { UserError } from "../../errors.ts";
import type { BatchJob, ImageBatch } from "./batch.ts";
import type { SourceDescriptor } from "./source.ts";

/** Main → worker messages. */
export type ToWorker = { type: "open"; source: SourceDescriptor } | {
  type: "build";
  id: number;
  job: BatchJob;
};

/** Worker → main messages: a batch, or an error message (`user`: a one-line {@link UserError}). */
export type FromWorker =
  | { id: number; batch: ImageBatch }
  | { id: number; error: string; user: boolean };

interface Pending {
  worker: number;
  resolve: (batch: ImageBatch) => void;
  reject: (error: Error) => void;
}

/** Workers building batches of one source. */
export class WorkerPool {
  readonly #workers: Worker[];
  readonly #load: number[];
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;

  /** Starts `count` workers on `source`. */
  constructor(count: number, source: SourceDescriptor) {
    this.#workers = Array.from({ length: count }, (_, w) => {
      const worker = new Worker(new URL("./batch_worker.ts", import.meta.url).href, { type: "module" });
      worker.onmessage = (e: MessageEvent<FromWorker>) => this.#settle(e.data);
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#failWorker(w, new Error(`batch worker ${w}: ${e.message}`));
      };
      worker.postMessage({ type: "open", source } satisfies ToWorker);
      return worker;
    });
    this.#load = new Array(count).fill(0);
  }

  /** Builds `job` on the least busy worker. */
  build(job: BatchJob): Promise<ImageBatch> {
    const worker = this.#load.indexOf(Math.min(...this.#load));
    const id = this.#nextId++;
    this.#load[worker]++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { worker, resolve, reject });
      this.#workers[worker].postMessage({ type: "build", id, job } satisfies ToWorker);
    });
  }

  /** Stops the workers; unfinished jobs reject. */
  close(): void {
    for (const worker of this.#workers) worker.terminate();
    for (let w = 0; w < this.#workers.length; w++) this.#failWorker(w, new Error("batch loader closed"));
  }

  #settle(message: FromWorker): void {
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    this.#load[pending.worker]--;
    if ("batch" in message) pending.resolve(message.batch);
    else pending.reject(message.user ? new UserError(message.error) : new Error(message.error));
  }

  #failWorker(worker: number, error: Error): void {
    for (const [id, pending] of this.#pending) {
      if (pending.worker !== worker) continue;
      this.#pending.delete(id);
      this.#load[worker]--;
      pending.reject(error);
    }
  }
}
