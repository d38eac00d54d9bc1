/**
 * Image decoding to 8-bit planar RGB. PNG goes through fast-png and JPEG (baseline and progressive, including
 * Adobe CMYK) through jpeg-js: both are maintained, pure JavaScript (no native addon to build, so they run
 * in any Deno and inside Web Workers) and pinned in `deno.json`. The format is sniffed from the signature,
 * not the extension, as PIL does (ImageNet has PNGs named `.JPEG`). Alpha is dropped and grey replicated,
 * like PIL's `convert("RGB")` in torchvision's default loader.
 * @module
 */
import { convertIndexedToRgb, decode as decodePng } from "../../deps/fast_png.ts";
import { decode as decodeJpeg } from "../../deps/jpeg_js.ts";
import { UserError } from "../../errors.ts";

/** An 8-bit RGB image stored planar (CHW: all red, then all green, then all blue), rows top to bottom. */
export interface PlanarImage {
  height: number;
  width: number;
  /** `3 × height × width` bytes. */
  data: Uint8Array;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

/**
 * Decodes PNG or JPEG bytes; `file` names the source in the one-line error a bad file gives.
 *
 * @example
 * ```ts
 * // The red value of an image file's top-left pixel (PNG or baseline JPEG).
 * async function topLeftRed(path: string) {
 *   const image = decodeImage(await Deno.readFile(path), path);
 *   return image.data[0];
 * }
 * ```
 */
export function decodeImage(bytes: Uint8Array, file: string): PlanarImage {
  const starts = (magic: number[]) => magic.every((b, i) => bytes[i] === b);
  let decoded: { height: number; width: number; interleaved: ArrayLike<number>; channels: number };
  try {
    if (starts(PNG_MAGIC)) decoded = pngSamples(bytes);
    else if (starts(JPEG_MAGIC)) {
      // formatAsRGBA false: jpeg-js writes 3 channels for grey, YCbCr and CMYK alike.
      const jpeg = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: false });
      decoded = { height: jpeg.height, width: jpeg.width, interleaved: jpeg.data, channels: 3 };
    } else {
      throw new UserError(`${file}: neither PNG nor JPEG (by its first bytes); remove or convert the file`);
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: cannot decode image (${(e as Error).message}); remove or replace the file`);
  }
  return toPlanarRgb(decoded.interleaved, decoded.channels, decoded.height, decoded.width);
}

/** fast-png output as 8-bit interleaved samples: palettes expanded, sub-byte grey unpacked, 16-bit cut to 8. */
function pngSamples(bytes: Uint8Array) {
  const png = decodePng(bytes);
  const { height, width } = png;
  if (png.palette) {
    return { height, width, interleaved: convertIndexedToRgb(png), channels: png.palette[0].length };
  }
  let interleaved: ArrayLike<number> = png.data;
  if (png.depth === 16) {
    // libpng's strip-16 (what PIL does for RGB(A)48): keep the high byte.
    interleaved = Uint8Array.from(png.data, (v) => v >> 8);
  } else if (png.depth < 8) {
    interleaved = unpackGrey(png.data as Uint8Array, png.depth, height, width);
  }
  return { height, width, interleaved, channels: png.channels };
}

/** Sub-byte greyscale rows (each padded to a whole byte) → one byte per pixel, scaled to 0..255. */
function unpackGrey(packed: Uint8Array, depth: number, height: number, width: number): Uint8Array {
  const out = new Uint8Array(height * width);
  const rowBytes = Math.ceil((width * depth) / 8), max = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth, byte = packed[y * rowBytes + (bit >> 3)];
      out[y * width + x] = Math.round((((byte >> (8 - depth - (bit & 7))) & max) * 255) / max);
    }
  }
  return out;
}

/** Interleaved samples with 1–4 channels (grey, grey+alpha, RGB, RGBA) → planar RGB. */
function toPlanarRgb(
  samples: ArrayLike<number>,
  channels: number,
  height: number,
  width: number,
): PlanarImage {
  const plane = height * width, data = new Uint8Array(3 * plane);
  const colour = channels >= 3;
  for (let p = 0; p < plane; p++) {
    const at = p * channels;
    data[p] = samples[at];
    data[plane + p] = samples[colour ? at + 1 : at];
    data[2 * plane + p] = samples[colour ? at + 2 : at];
  }
  return { height, width, data };
}
