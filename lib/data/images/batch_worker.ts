/**
 * Entry point of a {@link WorkerPool} worker: reopens the source, then builds each requested batch and
 * transfers its buffers back.
 * @module
 */
/// <reference lib="deno.worker" />
import { UserError } from "../../errors.ts";
import { buildBatch } from "./batch.ts";
import { type ImageSource, openDescribed } from "./source.ts";
import type { FromWorker, ToWorker } from "./worker_pool.ts";

let source: ImageSource | undefined;

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const message = e.data;
  if (message.type === "open") {
    source = openDescribed(message.source);
    return;
  }
  try {
    if (!source) throw new Error("batch worker: build before open");
    const batch = await buildBatch(source, message.job);
    const transfer = [batch.images.buffer, batch.labels.buffer];
    if (batch.partnerImages) transfer.push(batch.partnerImages.buffer);
    self.postMessage({ id: message.id, batch } satisfies FromWorker, { transfer });
  } catch (error) {
    const e = error as Error;
    // NsdFormatError and UserError both carry a complete one-line message.
    const user = e instanceof UserError || e.name === "NsdFormatError";
    self.postMessage({ id: message.id, error: e.message, user } satisfies FromWorker);
  }
};
