/**
 * torchvision's transforms on PIL images, reproduced on planar uint8 RGB and written as CHW floats in [0, 1]
 * (`ToTensor`): RandomResizedCrop + RandomHorizontalFlip for training, Resize + CenterCrop for validation.
 *
 * Resampling is Pillow's bilinear (`resizeBilinearPil` of lib/data/nsd, shared with the NSD stimuli), which is
 * what torchvision runs on PIL images: a triangle filter whose support widens by the scale factor when
 * shrinking, so downscaling is antialiased (a 2× reduction weighs four input pixels 1:3:3:1, not a 2×2 box),
 * in fixed point with uint8 rounding after each pass. Outputs therefore match the paper's uint8 tensors
 * exactly, given the same crop boxes. Python's `round` (half to even) is used wherever torchvision rounds.
 * @module
 */
import { resizeBilinearPil } from "../nsd/stimuli.ts";
import { UserError } from "../../errors.ts";
import type { Random } from "../../random.ts";
import type { PlanarImage } from "./decode.ts";

/** A crop box in pixels. */
export interface Box {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * What to do to each image: `train` = RandomResizedCrop(size) + flip (p = 0.5); `val` = Resize(round(size ·
 * 256/224)) of the shorter side + CenterCrop(size) (224 → 256, as `docs/method.md#training-data`); `none` =
 * no resampling (the image must already be size×size, e.g. NSD stimuli read at the model size).
 */
export interface Transform {
  kind: "train" | "val" | "none";
  size: number;
  /** `train` only: RandomResizedCrop's area-fraction range (torchvision default [0.08, 1]). */
  scale?: readonly [number, number];
}

/** Python's `round`: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torchvision `RandomResizedCrop.get_params`: up to ten draws of an area fraction in `scale` and a
 * log-uniform aspect ratio in `ratio`, accepted when the box fits; otherwise the centred crop of the whole
 * image clamped to `ratio`. Draws from `random` in torchvision's order (area, ratio, top, left).
 */
export function randomResizedCropBox(
  height: number,
  width: number,
  random: Random,
  scale: readonly [number, number] = [0.08, 1],
  ratio: readonly [number, number] = [3 / 4, 4 / 3],
): Box {
  const area = height * width;
  const logLo = Math.log(ratio[0]), logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * random.uniform(scale[0], scale[1]);
    const aspect = Math.exp(random.uniform(logLo, logHi));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: random.int(height - h + 1), left: random.int(width - w + 1), height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width, h = height;
  if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** torchvision `Resize(short)` output size: the shorter side becomes `short`, the longer is truncated. */
export function resizeShorterSize(height: number, width: number, short: number): [number, number] {
  return height <= width
    ? [short, Math.floor((short * width) / height)]
    : [Math.floor((short * height) / width), short];
}

/** torchvision `CenterCrop(size)` box in a height×width image (offsets rounded half to even). */
export function centerCropBox(height: number, width: number, size: number): Box {
  return {
    top: roundHalfEven((height - size) / 2),
    left: roundHalfEven((width - size) / 2),
    height: size,
    width: size,
  };
}

/** The pixels inside `box` (which must lie in the image). */
export function crop(image: PlanarImage, box: Box): PlanarImage {
  const { height, width } = box, data = new Uint8Array(3 * height * width);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      const from = (c * image.height + box.top + y) * image.width + box.left;
      data.set(image.data.subarray(from, from + width), (c * height + y) * width);
    }
  }
  return { height, width, data };
}

/** Pillow's bilinear resize of each channel to height×width (see the module note on antialiasing). */
export function resize(image: PlanarImage, height: number, width: number): PlanarImage {
  if (height === image.height && width === image.width) return image;
  const plane = image.height * image.width, data = new Uint8Array(3 * height * width);
  for (let c = 0; c < 3; c++) {
    const channel = image.data.subarray(c * plane, (c + 1) * plane);
    data.set(resizeBilinearPil(channel, image.height, image.width, height, width), c * height * width);
  }
  return { height, width, data };
}

/** Writes `image` as CHW floats v/255 at `out[offset…]`, mirrored left–right when `flip`. */
export function writeChw(image: PlanarImage, flip: boolean, out: Float32Array, offset: number): void {
  const { height, width, data } = image;
  for (let row = 0; row < 3 * height; row++) {
    const base = row * width;
    for (let x = 0; x < width; x++) out[offset + base + x] = data[base + (flip ? width - 1 - x : x)] / 255;
  }
}

/**
 * Applies `transform` to `image` and writes the size×size CHW result at `out[offset…]`. `random` supplies
 * the crop and flip draws of `train` (unused otherwise); `name` names the image in errors.
 */
export function transformInto(
  image: PlanarImage,
  transform: Transform,
  random: Random,
  out: Float32Array,
  offset: number,
  name: string,
): void {
  const { size } = transform;
  if (transform.kind === "train") {
    const box = randomResizedCropBox(image.height, image.width, random, transform.scale);
    const resized = resize(crop(image, box), size, size);
    writeChw(resized, random.next() < 0.5, out, offset);
  } else if (transform.kind === "val") {
    const [h, w] = resizeShorterSize(image.height, image.width, roundHalfEven((size * 256) / 224));
    writeChw(crop(resize(image, h, w), centerCropBox(h, w, size)), false, out, offset);
  } else {
    if (image.height !== size || image.width !== size) {
      throw new UserError(`${name}: image is ${image.height}×${image.width}, expected ${size}×${size}`);
    }
    writeChw(image, false, out, offset);
  }
}
