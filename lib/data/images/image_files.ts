/**
 * A source over image files already listed with their labels; files are read and decoded on demand. The
 * listing itself is {@link ImageFolder}'s job; this is what a loader worker reopens.
 * @module
 */
import { decodeImage, type PlanarImage } from "./decode.ts";
import type { FilesDescriptor, ImageSource } from "./source.ts";

/** Labelled image files (PNG or JPEG), decoded on each access. */
export class ImageFiles implements ImageSource {
  /**
   * @param classes class names in label order
   * @param paths one file per image
   * @param labels one label per image
   */
  constructor(
    readonly classes: readonly string[],
    readonly paths: readonly string[],
    readonly labels: Uint32Array,
  ) {}

  /** Number of images. */
  get length(): number {
    return this.paths.length;
  }

  /** Label of image `index`. */
  label(index: number): number {
    return this.labels[index];
  }

  /** Reads and decodes image `index`; a bad file is a one-line error naming it. */
  async image(index: number): Promise<PlanarImage> {
    const path = this.paths[index];
    return decodeImage(await Deno.readFile(path), path);
  }

  /** The file list and labels. */
  describe(): FilesDescriptor {
    return { kind: "files", classes: [...this.classes], paths: [...this.paths], labels: this.labels };
  }
}
