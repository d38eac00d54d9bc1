/**
 * One batch, built as a pure function of (source, row indices, transform, seed, epoch): each row's crop and
 * flip come from its own stream `Random("<seed>/augment/<epoch>/<index>")`, so a batch is the same whether it
 * is built in this thread or a worker, first or after a resume, and whatever the batch size.
 * @module
 */
import { Random } from "../../random.ts";
import type { ImageSource } from "./source.ts";
import { type Transform, transformInto } from "./transforms.ts";

/** What to build: rows `indices` of the source, in that order. */
export interface BatchJob {
  /** Source indices of the rows. */
  indices: Uint32Array;
  /** Rows allocated (≥ `indices.length`; the extra rows stay zero, as a fixed-size GPU plan wants). */
  rows: number;
  transform: Transform;
  seed: number | string;
  epoch: number;
  /** Per row, the source index of the image the predictor sees instead (shuffle control). */
  partners?: Uint32Array;
}

/** A batch of images and labels. */
export interface ImageBatch {
  /** `[rows, 3, size, size]` floats in [0, 1]; rows ≥ `count` are zero. */
  images: Float32Array<ArrayBuffer>;
  /** `[rows]`; rows ≥ `count` are 0. */
  labels: Uint32Array<ArrayBuffer>;
  /** `[count]` source index of each row. */
  indices: Uint32Array;
  /** Valid rows. */
  count: number;
  /** With `partners`: the partner images, transformed with their own draws. */
  partnerImages?: Float32Array<ArrayBuffer>;
}

/** Builds `job` from `source`. */
export async function buildBatch(source: ImageSource, job: BatchJob): Promise<ImageBatch> {
  const { indices, rows, transform, seed, epoch, partners } = job;
  const pixels = 3 * transform.size * transform.size;
  const images = new Float32Array(rows * pixels), labels = new Uint32Array(rows);
  const partnerImages = partners ? new Float32Array(rows * pixels) : undefined;
  const put = async (index: number, stream: string, out: Float32Array, row: number) => {
    const random = new Random(`${seed}/${stream}/${epoch}/${index}`);
    transformInto(await source.image(index), transform, random, out, row * pixels, `image ${index}`);
  };
  for (let row = 0; row < indices.length; row++) {
    await put(indices[row], "augment", images, row);
    labels[row] = source.label(indices[row]);
    if (partners && partnerImages) await put(partners[row], "partner", partnerImages, row);
  }
  return { images, labels, indices, count: indices.length, partnerImages };
}
