/**
 * The labelled-image source interface every loader input implements, and its plain-data descriptor: a
 * {@link BatchLoader} worker cannot receive a class instance, so it rebuilds the source from
 * {@link ImageSource.describe} with {@link openDescribed} (file lists travel as strings, in-memory pixels in a
 * `SharedArrayBuffer` that every worker reads without a copy).
 * @module
 */
import type { PlanarImage } from "./decode.ts";
import { ImageArray } from "./image_array.ts";
import { ImageFiles } from "./image_files.ts";

/** Random access to labelled 8-bit RGB images. */
export interface ImageSource {
  /** Number of images. */
  readonly length: number;
  /** Class names in label order. */
  readonly classes: readonly string[];
  /** Label of image `index` (0 ≤ label < classes.length). */
  label(index: number): number;
  /** Image `index`, decoded. */
  image(index: number): Promise<PlanarImage>;
  /** What a worker needs to reopen this source. */
  describe(): SourceDescriptor;
}

/** Image files on disk, one path and label per image. */
export interface FilesDescriptor {
  kind: "files";
  classes: string[];
  paths: string[];
  labels: Uint32Array;
}

/** Equal-sized images held in memory, NCHW uint8. */
export interface ArrayDescriptor {
  kind: "array";
  /** Names the data in errors (a file or a dataset). */
  name: string;
  classes: string[];
  height: number;
  width: number;
  pixels: Uint8Array;
  labels: Uint32Array;
}

/** Plain data (structured-clonable) that reopens a source. */
export type SourceDescriptor = FilesDescriptor | ArrayDescriptor;

/** Reopens a source from its descriptor (in a worker). */
export function openDescribed(d: SourceDescriptor): ImageSource {
  return d.kind === "files"
    ? new ImageFiles(d.classes, d.paths, d.labels)
    : new ImageArray(d.name, d.classes, d.height, d.width, d.pixels, d.labels);
}
