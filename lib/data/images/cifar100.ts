/**
 * The CIFAR-100 binary version (`train.bin`, `test.bin`): records of one coarse-label byte, one fine-label
 * byte and 3072 pixel bytes (32×32, planar R, G, B). The whole file is read into shared memory as an
 * {@link ImageArray} with the fine labels.
 * @module
 */
import { UserError } from "../../errors.ts";
import { ImageArray, sharedBytes } from "./image_array.ts";

const SIDE = 32, PIXELS = 3 * SIDE * SIDE;
/** Bytes per record: coarse label, fine label, pixels. */
export const CIFAR100_RECORD_BYTES = 2 + PIXELS;
const FINE_CLASSES = 100;

/**
 * Reads one CIFAR-100 binary file. Errors: missing file, a size that is not a whole number of 3074-byte
 * records, a fine label above 99. Classes are named `fine00` … `fine99` (the binary files carry no names).
 *
 * @example
 * ```ts
 * // CIFAR-100's test split from the binary distribution.
 * async function cifarTest(dir: string) {
 *   const test = await openCifar100(`${dir}/test.bin`);
 *   return test.length; // 10000
 * }
 * ```
 */
export async function openCifar100(file: string): Promise<ImageArray> {
  const bytes = await Deno.readFile(file).catch(() => {
    throw new UserError(`${file}: missing (expected the CIFAR-100 binary version: train.bin, test.bin)`);
  });
  if (bytes.length === 0 || bytes.length % CIFAR100_RECORD_BYTES !== 0) {
    throw new UserError(
      `${file}: ${bytes.length} bytes is not a whole number of ${CIFAR100_RECORD_BYTES}-byte CIFAR-100 records`,
    );
  }
  const n = bytes.length / CIFAR100_RECORD_BYTES;
  const pixels = sharedBytes(n * PIXELS), labels = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * CIFAR100_RECORD_BYTES;
    labels[i] = bytes[at + 1];
    if (labels[i] >= FINE_CLASSES) {
      throw new UserError(
        `${file}: record ${i} has fine label ${labels[i]} (> 99); the file is not CIFAR-100`,
      );
    }
    pixels.set(bytes.subarray(at + 2, at + CIFAR100_RECORD_BYTES), i * PIXELS);
  }
  const classes = Array.from({ length: FINE_CLASSES }, (_, i) => `fine${String(i).padStart(2, "0")}`);
  return new ImageArray(file, classes, SIDE, SIDE, pixels, labels);
}
