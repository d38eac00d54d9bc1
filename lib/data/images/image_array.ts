/**
 * A source over equal-sized images held in memory as one NCHW uint8 array (CIFAR-100 records, NSD stimuli
 * already resized). Pixels live in a `SharedArrayBuffer` when built with {@link sharedBytes}, so loader
 * workers read them in place.
 * @module
 */
import type { PlanarImage } from "./decode.ts";
import type { ArrayDescriptor, ImageSource } from "./source.ts";

/** A zeroed `Uint8Array` backed by a `SharedArrayBuffer` (posting it to a worker shares, not copies). */
export function sharedBytes(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

/** Labelled images of one size in memory. */
export class ImageArray implements ImageSource {
  /**
   * @param name names the data in errors
   * @param classes class names in label order
   * @param height image height
   * @param width image width
   * @param pixels `[n, 3, height, width]` uint8
   * @param labels one label per image
   */
  constructor(
    readonly name: string,
    readonly classes: readonly string[],
    readonly height: number,
    readonly width: number,
    readonly pixels: Uint8Array,
    readonly labels: Uint32Array,
  ) {
    if (pixels.length !== labels.length * 3 * height * width) {
      throw new RangeError(
        `${name}: ${pixels.length} pixels for ${labels.length} images of ${height}×${width}`,
      );
    }
  }

  /** Number of images. */
  get length(): number {
    return this.labels.length;
  }

  /** Label of image `index`. */
  label(index: number): number {
    return this.labels[index];
  }

  /** Image `index` as a view (no copy). */
  image(index: number): Promise<PlanarImage> {
    const size = 3 * this.height * this.width;
    const data = this.pixels.subarray(index * size, (index + 1) * size);
    return Promise.resolve({ height: this.height, width: this.width, data });
  }

  /** The pixels (shared when {@link sharedBytes} made them) and labels. */
  describe(): ArrayDescriptor {
    const { name, height, width, pixels, labels } = this;
    return { kind: "array", name, classes: [...this.classes], height, width, pixels, labels };
  }
}
