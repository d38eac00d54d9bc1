/**
 * The image-computable stages of the simulated ventral stream. Every feature is a function of the rendered
 * pixels alone (no generator mask or scene description), so anything pixel-based — a trained network, an
 * attack — sees exactly what the simulated voxels see. Each ROI reads its own stage, with its own pre-blur and
 * semi-saturation constant ({@link ROI_KNOBS}):
 * - **V1**: quadrature Gabor energy at 4 orientations, pooled in small receptive fields, divisively normalised;
 * - **V2**: energies at 2 scales plus pixelwise orientation conjunctions, pooled in medium fields;
 * - **V4**: texture statistics (normalised energy distribution over orientation × scale, log contrast, colour
 *   opponency) pooled in large fields;
 * - **LO, TO, VO, PHC**: a silhouette from a figure–ground segmentation of the image itself (a saturating
 *   threshold of the blurred colour difference to the background estimated from the image border), resampled
 *   into an object-centred frame found from the silhouette's own moments, plus a few non-shape extras per area.
 *
 * All stages work on a {@link FEATURE_GRID}² resampling of the image, whatever its size.
 * @module
 */

/** Side of the grid every stage works on: every image is first resampled to it. */
export const FEATURE_GRID = 32;
/** Orientations of the Gabor bank (radians). */
const ORIENTATIONS = [0, Math.PI / 4, Math.PI / 2, (3 * Math.PI) / 4];
/** Gabor wavelength and envelope σ in grid pixels; the coarse scale reuses the kernel on a 2× smaller grid. */
const WAVELENGTH = 4, ENVELOPE = 2;

/** The ROIs with a stage of their own (V3 and the dorsal areas reuse V2's, other voxels V4's). */
export type StageRoi = "V1" | "V2" | "V4" | "VO" | "PHC" | "LO" | "TO";

/** One ROI's sensitivity knobs (see {@link ROI_KNOBS}). */
export interface Knobs {
  /** σ (feature-grid pixels) of the Gaussian applied to the image maps before anything else. */
  preBlur: number;
  /** Constant of the stage's divisive normalisation or silhouette threshold (see {@link ROI_KNOBS}). */
  semiSaturation: number;
}

/**
 * The per-ROI sensitivity knobs, chosen so that the measured sensitivity to small L∞ perturbations falls
 * from V1 to LO/TO (the synth task measures it and the tests check the order). `preBlur` is the σ (feature-grid
 * pixels) of a Gaussian applied to the luminance/colour maps before anything else; `semiSaturation` is the
 * constant of the stage's divisive normalisation — in contrast units (a unit-amplitude grating has energy 1)
 * for the energy stages, and the RGB distance at which a cell is half figure for the silhouette stages.
 */
export const ROI_KNOBS: Readonly<Record<StageRoi, Knobs>> = {
  V1: { preBlur: 0.5, semiSaturation: 0.03 },
  V2: { preBlur: 0.8, semiSaturation: 0.04 },
  V4: { preBlur: 0.8, semiSaturation: 0.02 },
  VO: { preBlur: 0.7, semiSaturation: 0.14 },
  PHC: { preBlur: 0.7, semiSaturation: 0.12 },
  LO: { preBlur: 0.7, semiSaturation: 0.25 },
  TO: { preBlur: 0.7, semiSaturation: 0.25 },
};

/** Receptive-field lattice per retinotopic stage: an n×n grid of centres, Gaussian σ as a fraction of the image. */
export const RF_GRIDS = {
  V1: { n: 8, sigma: 0.07 },
  V2: { n: 6, sigma: 0.11 },
  V4: { n: 4, sigma: 0.22 },
} as const;

/** Channels per receptive field of the retinotopic stages. */
export const CHANNELS = { V1: 4, V2: 14, V4: 11 } as const;
/** Silhouette descriptor side (SHAPE_GRID² dimensions). */
export const SHAPE_GRID = 8;
/** Non-shape extras of each object stage: position/size (LO, TO), surface (VO), scene layout (PHC). */
export const EXTRAS = { LO: 3, TO: 3, VO: 7, PHC: 4 } as const;
/** Semi-saturation (contrast units) of VO's texture-energy extras, pooled over the figure. */
const SURFACE_SEMI_SATURATION = 0.1;
/**
 * Exponent of the silhouette's saturating threshold dⁿ / (dⁿ + cⁿ): steep, so small colour shifts of the
 * ground stay ground and the figure stays figure.
 */
const FIGURE_EXPONENT = 6;

/** σ (grid pixels) of the blur applied to the figure mask before the silhouette is resampled. */
const SILHOUETTE_BLUR = 1.5;
/** Half-width of the object-centred frame in units of the silhouette's radius of gyration. */
const FRAME_HALF_WIDTH = 2.2;

/** An image resampled onto the feature grid: RGB, luminance and two colour-opponent channels. */
export interface GridImage {
  /** Red, green and blue planes (3×32×32). */
  rgb: Float32Array;
  lum: Float32Array;
  rg: Float32Array;
  by: Float32Array;
}

/**
 * Resamples one CHW image (`pixels[offset …]`, 3×size×size in [0, 1]) onto the feature grid (3×32×32 CHW).
 * Each source pixel adds to the grid cell holding its centre (an area average when size ≥ grid); for
 * size < grid, each cell samples its nearest source pixel.
 */
export function resampleToGrid(pixels: Float32Array, size: number, offset = 0): Float32Array {
  const g = FEATURE_GRID, plane = size * size, cells = g * g;
  const out = new Float32Array(3 * cells), counts = new Float32Array(cells);
  const add = (cell: number, p: number) => {
    for (let c = 0; c < 3; c++) out[c * cells + cell] += pixels[offset + c * plane + p];
    counts[cell]++;
  };
  if (size >= g) {
    for (let y = 0; y < size; y++) {
      const row = Math.floor(((y + 0.5) * g) / size) * g;
      for (let x = 0; x < size; x++) add(row + Math.floor(((x + 0.5) * g) / size), y * size + x);
    }
  } else {
    for (let cell = 0; cell < cells; cell++) {
      const y = Math.floor(((Math.floor(cell / g) + 0.5) * size) / g);
      add(cell, y * size + Math.floor((((cell % g) + 0.5) * size) / g));
    }
  }
  for (let i = 0; i < out.length; i++) out[i] /= counts[i % cells];
  return out;
}

/** One CHW image (see {@link resampleToGrid}) on the feature grid as luminance and colour opponency. */
export function toGrid(pixels: Float32Array, size: number, offset = 0): GridImage {
  const cells = FEATURE_GRID * FEATURE_GRID;
  const rgb = size === FEATURE_GRID
    ? pixels.subarray(offset, offset + 3 * cells)
    : resampleToGrid(pixels, size, offset);
  const lum = new Float32Array(cells), rg = new Float32Array(cells), by = new Float32Array(cells);
  for (let i = 0; i < cells; i++) {
    const r = rgb[i], gr = rgb[cells + i], b = rgb[2 * cells + i];
    lum[i] = 0.299 * r + 0.587 * gr + 0.114 * b;
    rg[i] = r - gr;
    by[i] = b - (r + gr) / 2;
  }
  return { rgb: size === FEATURE_GRID ? Float32Array.from(rgb) : rgb, lum, rg, by };
}

/** An HWC uint8 RGB image as CHW float32 in [0, 1] (the layout {@link toGrid} and the trainers use). */
export function rgbToPixels(rgb: Uint8Array, size: number): Float32Array {
  const plane = size * size, out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = rgb[p * 3 + c] / 255;
  return out;
}

/**
 * The features ROI `roi` reads from one image: flat `[position][channel]` for the retinotopic stages
 * ({@link RF_GRIDS}, {@link CHANNELS}); `[SHAPE_GRID² silhouette, EXTRAS]` for the object stages.
 */
export function stageFeatures(roi: StageRoi, image: GridImage, knobs: Knobs = ROI_KNOBS[roi]): Float32Array {
  const { preBlur, semiSaturation } = knobs;
  const g = FEATURE_GRID;
  if (roi === "V1" || roi === "V2" || roi === "V4") {
    const lum = blur(image.lum, g, preBlur);
    const fine = gaborEnergy(lum, g);
    const fineMaps = fine.map((map) => ({ map, res: g }));
    if (roi === "V1") {
      const raw = pooled(fineMaps, RF_GRIDS.V1);
      return normaliseGroups(raw, 4, 4, semiSaturation);
    }
    const coarseMaps = gaborEnergy(downsample2(lum, g), g / 2).map((map) => ({ map, res: g / 2 }));
    if (roi === "V2") {
      // Pixelwise conjunctions of orientation energies: V2-like "corner/junction" channels.
      const conj: { map: Float32Array; res: number }[] = [];
      for (let a = 0; a < 4; a++) {
        for (let b = a + 1; b < 4; b++) {
          const m = new Float32Array(g * g);
          for (let i = 0; i < m.length; i++) m[i] = Math.sqrt(fine[a][i] * fine[b][i]);
          conj.push({ map: m, res: g });
        }
      }
      // Normalised by the pooled energy of both scales (the first 8 channels).
      return normaliseGroups(
        pooled([...fineMaps, ...coarseMaps, ...conj], RF_GRIDS.V2),
        14,
        8,
        semiSaturation,
      );
    }
    const rg = blur(image.rg, g, preBlur), by = blur(image.by, g, preBlur);
    const raw = pooled([...fineMaps, ...coarseMaps, { map: rg, res: g }, { map: by, res: g }], RF_GRIDS.V4);
    const positions = RF_GRIDS.V4.n ** 2, out = new Float32Array(positions * CHANNELS.V4);
    for (let p = 0; p < positions; p++) {
      const src = raw.subarray(p * 10, p * 10 + 10),
        dst = out.subarray(p * CHANNELS.V4, (p + 1) * CHANNELS.V4);
      // Texture statistics: *where* the energy lies in orientation × scale, how much there is (log contrast),
      // and the local colour.
      textureStatistics(src, semiSaturation, dst);
      dst[9] = src[8];
      dst[10] = src[9];
    }
    return out;
  }
  return objectFeatures(roi, image, preBlur, semiSaturation);
}

/**
 * Writes the 8 energies' normalised distribution (see {@link normaliseGroups}) and the log contrast
 * log(√ΣE² + c) into `out[0..8]`.
 */
function textureStatistics(energies: Float32Array, c: number, out: Float32Array): void {
  out.set(normaliseGroups(energies.subarray(0, 8), 8, 8, c));
  let power = 0;
  for (let k = 0; k < 8; k++) power += energies[k] ** 2;
  out[8] = Math.log(Math.sqrt(power) + c);
}

/**
 * Divisive normalisation with a Naka–Rushton exponent of 2 (Heeger 1992; Albrecht & Hamilton 1982): each
 * position's `period` channels E_k become E_k² / (c² + Σ E_j²) over its first `pool` channels. Energies well
 * below c (a flat region plus a little noise) give ≈ 0; well above, the output is a contrast-invariant ratio.
 */
function normaliseGroups(raw: Float32Array, period: number, pool: number, c: number): Float32Array {
  const out = new Float32Array(raw.length);
  for (let o = 0; o < raw.length; o += period) {
    let total = c * c;
    for (let k = 0; k < pool; k++) total += raw[o + k] ** 2;
    for (let k = 0; k < period; k++) out[o + k] = raw[o + k] ** 2 / total;
  }
  return out;
}

/** Each map pooled in every receptive field of the lattice: flat `[position][map]`. */
function pooled(
  maps: { map: Float32Array; res: number }[],
  grid: { n: number; sigma: number },
): Float32Array {
  const positions = grid.n * grid.n, out = new Float32Array(positions * maps.length);
  maps.forEach(({ map, res }, k) => {
    const windows = latticeWindows(res, grid);
    for (let p = 0; p < positions; p++) out[p * maps.length + k] = applyWindow(map, windows[p]);
  });
  return out;
}

/** Separable Gaussian blur with clamped edges; σ = 0 returns the map unchanged. */
export function blur(map: Float32Array, res: number, sigma: number): Float32Array {
  if (sigma <= 0) return map;
  const radius = Math.ceil(3 * sigma), taps = 2 * radius + 1;
  const kernel = Float32Array.from(
    { length: taps },
    (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)),
  );
  const total = kernel.reduce((a, b) => a + b, 0);
  for (let i = 0; i < taps; i++) kernel[i] /= total;
  // One padded line at a time (edges repeated), so the inner loop has no bounds logic.
  const line = new Float32Array(res + 2 * radius),
    tmp = new Float32Array(res * res),
    out = new Float32Array(res * res);
  const pass = (src: Float32Array, dst: Float32Array, along: number, across: number) => {
    for (let a = 0; a < res; a++) {
      for (let i = 0; i < line.length; i++) {
        line[i] = src[a * across + Math.min(res - 1, Math.max(0, i - radius)) * along];
      }
      for (let i = 0; i < res; i++) {
        let sum = 0;
        for (let k = 0; k < taps; k++) sum += kernel[k] * line[i + k];
        dst[a * across + i * along] = sum;
      }
    }
  };
  pass(map, tmp, 1, res);
  pass(tmp, out, res, 1);
  return out;
}

function downsample2(map: Float32Array, res: number): Float32Array {
  const h = res / 2, out = new Float32Array(h * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < h; x++) {
      const i = 2 * y * res + 2 * x;
      out[y * h + x] = (map[i] + map[i + 1] + map[i + res] + map[i + res + 1]) / 4;
    }
  }
  return out;
}

/**
 * The quadrature Gabor pair of each orientation θ, kept in separable form: the complex kernel
 * exp(−(dx² + dy²)/2σ²)·exp(2πi(dx cosθ + dy sinθ)/λ) is a(dx)·b(dy), a product of two 1-D complex kernels.
 * The even (real) part is made zero-mean by subtracting `dc` × the Gaussian envelope, so flat regions give no
 * energy, and both parts are divided by `gain` so that a unit-amplitude sinusoid at the preferred
 * orientation and wavelength gives energy 1 (energies, and the semi-saturation constants, are in contrast
 * units).
 */
const GABORS = (() => {
  const radius = 2 * ENVELOPE, taps = 2 * radius + 1, k = (2 * Math.PI) / WAVELENGTH;
  const envelope = Float64Array.from(
    { length: taps },
    (_, i) => Math.exp(-((i - radius) ** 2) / (2 * ENVELOPE ** 2)),
  );
  return ORIENTATIONS.map((theta) => {
    const complex = (frequency: number) => ({
      re: Float64Array.from(envelope, (e, i) => e * Math.cos(frequency * (i - radius))),
      im: Float64Array.from(envelope, (e, i) => e * Math.sin(frequency * (i - radius))),
    });
    const a = complex(k * Math.cos(theta)), b = complex(k * Math.sin(theta));
    // Sums over the 2-D kernel: of the even part (its mean times the envelope's sum), of the envelope, and
    // the even kernel's response to cos(k·u) after the zero-mean correction.
    let evenSum = 0, envelopeSum = 0;
    for (let y = 0; y < taps; y++) {
      for (let x = 0; x < taps; x++) {
        evenSum += a.re[x] * b.re[y] - a.im[x] * b.im[y];
        envelopeSum += envelope[x] * envelope[y];
      }
    }
    const dc = evenSum / envelopeSum;
    let gain = 0;
    for (let y = 0; y < taps; y++) {
      for (let x = 0; x < taps; x++) {
        const even = a.re[x] * b.re[y] - a.im[x] * b.im[y] - dc * envelope[x] * envelope[y];
        gain += even * Math.cos(k * ((x - radius) * Math.cos(theta) + (y - radius) * Math.sin(theta)));
      }
    }
    return { a, b, dc, gain };
  });
})();

/**
 * Complex-cell energy √(even² + odd²) per orientation (correlation with the kernels of {@link GABORS}, edges
 * clamped), computed as a row pass with a(dx) and a column pass with b(dy).
 */
export function gaborEnergy(map: Float32Array, res: number): Float32Array[] {
  const radius = 2 * ENVELOPE, taps = 2 * radius + 1, n = res * res;
  const clamp = (v: number) => Math.min(res - 1, Math.max(0, v));
  const envelope = Float64Array.from(
    GABORS[0].a.re,
    (_, i) => Math.exp(-((i - radius) ** 2) / (2 * ENVELOPE ** 2)),
  );
  // Row pass of the envelope alone (for the zero-mean correction), shared by every orientation.
  const rowRe = new Float64Array(n), rowIm = new Float64Array(n), rowEnv = new Float64Array(n);
  const line = new Float64Array(res + 2 * radius);
  const rowPass = (
    kernelRe: Float64Array,
    kernelIm: Float64Array | null,
    outRe: Float64Array,
    outIm: Float64Array,
  ) => {
    for (let y = 0; y < res; y++) {
      for (let i = 0; i < line.length; i++) line[i] = map[y * res + clamp(i - radius)];
      for (let x = 0; x < res; x++) {
        let re = 0, im = 0;
        for (let t = 0; t < taps; t++) {
          re += kernelRe[t] * line[x + t];
          if (kernelIm) im += kernelIm[t] * line[x + t];
        }
        outRe[y * res + x] = re;
        outIm[y * res + x] = im;
      }
    }
  };
  rowPass(envelope, null, rowEnv, rowIm);
  const envelopeBlur = new Float64Array(n);
  for (let y = 0; y < res; y++) {
    for (let x = 0; x < res; x++) {
      let s = 0;
      for (let t = 0; t < taps; t++) s += envelope[t] * rowEnv[clamp(y + t - radius) * res + x];
      envelopeBlur[y * res + x] = s;
    }
  }
  return GABORS.map(({ a, b, dc, gain }) => {
    rowPass(a.re, a.im, rowRe, rowIm);
    const out = new Float32Array(n);
    for (let y = 0; y < res; y++) {
      for (let x = 0; x < res; x++) {
        let re = 0, im = 0;
        for (let t = 0; t < taps; t++) {
          const j = clamp(y + t - radius) * res + x, pr = rowRe[j], pi = rowIm[j];
          re += pr * b.re[t] - pi * b.im[t];
          im += pr * b.im[t] + pi * b.re[t];
        }
        const even = (re - dc * envelopeBlur[y * res + x]) / gain, odd = im / gain;
        out[y * res + x] = Math.sqrt(even * even + odd * odd);
      }
    }
    return out;
  });
}

/** A normalised Gaussian window on a res×res map: flat indices and weights summing to 1. */
interface Window {
  index: Int32Array;
  weight: Float32Array;
}

/** Windows depend only on the lattice, so they are built once per process. */
const WINDOWS = new Map<string, Window[]>();

/** The normalised Gaussian windows of every receptive field of `grid` on a res×res map, truncated at ±2.5σ. */
function latticeWindows(res: number, grid: { n: number; sigma: number }): Window[] {
  const key = `${res}/${grid.n}/${grid.sigma}`;
  const cached = WINDOWS.get(key);
  if (cached) return cached;
  const windows = Array.from({ length: grid.n * grid.n }, (_, p) => {
    const cx = ((p % grid.n) + 0.5) / grid.n, cy = (Math.floor(p / grid.n) + 0.5) / grid.n;
    const s = grid.sigma * res, x0 = cx * res - 0.5, y0 = cy * res - 0.5, reach = Math.ceil(2.5 * s);
    const index: number[] = [], weight: number[] = [];
    for (let y = Math.max(0, Math.floor(y0 - reach)); y <= Math.min(res - 1, Math.ceil(y0 + reach)); y++) {
      for (let x = Math.max(0, Math.floor(x0 - reach)); x <= Math.min(res - 1, Math.ceil(x0 + reach)); x++) {
        index.push(y * res + x);
        weight.push(Math.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * s * s)));
      }
    }
    const total = weight.reduce((a, b) => a + b, 0);
    return { index: Int32Array.from(index), weight: Float32Array.from(weight, (w) => w / total) };
  });
  WINDOWS.set(key, windows);
  return windows;
}

function applyWindow(map: Float32Array, { index, weight }: Window): number {
  let sum = 0;
  for (let i = 0; i < index.length; i++) sum += weight[i] * map[index[i]];
  return sum;
}

/** Border columns on each side from which a row's background colour is estimated. */
const BORDER = 3;

/**
 * Figure–ground segmentation from pixels: the red, green and blue planes are blurred by `preBlur`, each row's
 * background colour is the per-channel median of its {@link BORDER} leftmost and rightmost cells (backgrounds
 * here vary only from top to bottom), and a cell's figure membership is dⁿ/(dⁿ + cⁿ) of its RGB distance d to
 * its row's background (n = {@link FIGURE_EXPONENT}). A ±ε change of every pixel moves d by at most √3·ε.
 * Returns the soft mask and the blurred luminance and opponent channels.
 */
export function figureGround(image: GridImage, preBlur: number, semiSaturation: number) {
  const g = FEATURE_GRID, cells = g * g;
  const planes = [0, 1, 2].map((c) => blur(image.rgb.subarray(c * cells, (c + 1) * cells), g, preBlur));
  const [r, gr, b] = planes;
  const maps = [
    r.map((v, i) => 0.299 * v + 0.587 * gr[i] + 0.114 * b[i]),
    r.map((v, i) => v - gr[i]),
    b.map((v, i) => v - (r[i] + gr[i]) / 2),
  ];
  const mask = new Float32Array(g * g);
  const background = planes.map(() => new Float32Array(g));
  const border = new Float32Array(2 * BORDER);
  for (let y = 0; y < g; y++) {
    planes.forEach((m, c) => {
      for (let i = 0; i < BORDER; i++) border[i] = m[y * g + i], border[BORDER + i] = m[y * g + g - 1 - i];
      border.sort();
      background[c][y] = (border[BORDER - 1] + border[BORDER]) / 2;
    });
  }
  const cn = semiSaturation ** FIGURE_EXPONENT;
  for (let y = 0; y < g; y++) {
    for (let x = 0; x < g; x++) {
      const i = y * g + x;
      let d2 = 0;
      planes.forEach((m, c) => (d2 += (m[i] - background[c][y]) ** 2));
      const dn = Math.pow(d2, FIGURE_EXPONENT / 2);
      mask[i] = dn / (dn + cn);
    }
  }
  return { mask, maps };
}

/** Silhouette in the object-centred frame plus the area's extras (see {@link EXTRAS}). */
function objectFeatures(roi: "VO" | "PHC" | "LO" | "TO", image: GridImage, preBlur: number, c: number) {
  const g = FEATURE_GRID;
  const { mask: sharp, maps } = figureGround(image, preBlur, c);
  // The silhouette is read through a blur, as large receptive fields would: a boundary that moves by a
  // fraction of a pixel changes the descriptor a little, not a cell at a time.
  const mask = blur(sharp, g, SILHOUETTE_BLUR);
  let area = 0, mx = 0, my = 0;
  for (let y = 0; y < g; y++) {
    for (let x = 0; x < g; x++) {
      const m = mask[y * g + x];
      area += m, mx += m * x, my += m * y;
    }
  }
  const out = new Float32Array(SHAPE_GRID * SHAPE_GRID + EXTRAS[roi]);
  if (area < 1e-6) return out;
  mx /= area, my /= area;
  let spread = 0;
  for (let y = 0; y < g; y++) {
    for (let x = 0; x < g; x++) spread += mask[y * g + x] * ((x - mx) ** 2 + (y - my) ** 2);
  }
  // The frame is centred on the centroid and scaled by the radius of gyration, so position and size are
  // removed only as well as the segmentation finds them: robust, but not exactly invariant.
  const half = FRAME_HALF_WIDTH * Math.sqrt(spread / area), sub = 3;
  for (let cy = 0; cy < SHAPE_GRID; cy++) {
    for (let cx = 0; cx < SHAPE_GRID; cx++) {
      let s = 0;
      for (let j = 0; j < sub; j++) {
        for (let i = 0; i < sub; i++) {
          const u = ((cx + (i + 0.5) / sub) / SHAPE_GRID) * 2 - 1,
            v = ((cy + (j + 0.5) / sub) / SHAPE_GRID) * 2 - 1;
          s += bilinear(mask, g, mx + u * half, my + v * half);
        }
      }
      out[cy * SHAPE_GRID + cx] = s / (sub * sub);
    }
  }
  const extras = out.subarray(SHAPE_GRID * SHAPE_GRID);
  if (roi === "LO" || roi === "TO") {
    extras.set([(mx + 0.5) / g, (my + 0.5) / g, Math.sqrt(area) / g]);
  } else if (roi === "VO") {
    // Surface: the figure's mean colour and how its texture energy spreads over orientations.
    const energy = gaborEnergy(maps[0], g);
    const sums = new Float64Array(7);
    for (let i = 0; i < g * g; i++) {
      for (let ch = 0; ch < 3; ch++) sums[ch] += mask[i] * maps[ch][i];
      for (let o = 0; o < 4; o++) sums[3 + o] += mask[i] * energy[o][i];
    }
    for (let ch = 0; ch < 3; ch++) extras[ch] = sums[ch] / area;
    const orientation = Float32Array.from({ length: 4 }, (_, o) => sums[3 + o] / area);
    extras.set(normaliseGroups(orientation, 4, 4, SURFACE_SEMI_SATURATION), 3);
  } else {
    // Scene: the ground's luminance above and below the middle and its colour.
    const sums = new Float64Array(6);
    for (let y = 0; y < g; y++) {
      for (let x = 0; x < g; x++) {
        const i = y * g + x, ground = 1 - mask[i];
        const half = y < g / 2 ? 0 : 2;
        sums[half] += ground * maps[0][i], sums[half + 1] += ground;
        sums[4] += ground * maps[1][i], sums[5] += ground * maps[2][i];
      }
    }
    const groundArea = g * g - area;
    const safe = (n: number, d: number) => (d > 1e-6 ? n / d : 0);
    extras.set([
      safe(sums[0], sums[1]),
      safe(sums[2], sums[3]),
      safe(sums[4], groundArea),
      safe(sums[5], groundArea),
    ]);
  }
  return out;
}

/** Bilinear sample of a res×res map at (x, y) in cell units (cell centres at integers); 0 outside. */
function bilinear(map: Float32Array, res: number, x: number, y: number): number {
  const x0 = Math.floor(x), y0 = Math.floor(y), fx = x - x0, fy = y - y0;
  const at = (
    xx: number,
    yy: number,
  ) => (xx < 0 || yy < 0 || xx >= res || yy >= res ? 0 : map[yy * res + xx]);
  return (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) +
    fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
}
