/**
 * The image-computable stages of the simulated ventral stream. Each image is reduced to feature maps of
 * growing receptive-field size and invariance:
 * - **v1**: complex-cell (quadrature Gabor) energy at 4 orientations, pooled in small receptive fields;
 * - **v2**: energies at 2 scales plus pixelwise orientation conjunctions, pooled in medium fields;
 * - **v4**: texture statistics (the normalised distribution of energy over orientation × scale, contrast and
 *   colour opponency) pooled in large fields;
 * - **shape**: the object's silhouette resampled into an object-centred 8×8 frame, invariant to position,
 *   scale, texture and colour (what the LO/TO/VO/PHC voxels read), plus a few non-shape extras per area.
 * @module
 */
import type { RenderedImage } from "./images.ts";

/** Side of the grid the early stages work on: every image is first resampled to it. */
export const FEATURE_GRID = 32;
/** Orientations of the Gabor bank (radians). */
const ORIENTATIONS = [0, Math.PI / 4, Math.PI / 2, (3 * Math.PI) / 4];
/** Gabor wavelength and envelope σ in grid pixels; the coarse scale reuses the kernel on a 2× smaller grid. */
const WAVELENGTH = 4, ENVELOPE = 2;

/** Energy (sum over the 8 orientation × scale channels) at which V4's normalisation is half-saturated. */
const SEMI_SATURATION = 0.5;

/** Receptive-field lattice per early stage: an n×n grid of centres, Gaussian σ as a fraction of the image. */
export const RF_GRIDS = {
  v1: { n: 8, sigma: 0.07 },
  v2: { n: 6, sigma: 0.11 },
  v4: { n: 4, sigma: 0.22 },
} as const;

/** Channels per receptive field for each early stage. */
export const CHANNELS = { v1: 4, v2: 14, v4: 11 } as const;
/** Silhouette descriptor side (SHAPE_GRID² dimensions). */
export const SHAPE_GRID = 8;

/** Feature vectors of one image, flat `[position][channel]` for the retinotopic stages. */
export interface ImageFeatures {
  v1: Float32Array;
  v2: Float32Array;
  v4: Float32Array;
  /** Object-centred silhouette, SHAPE_GRID² values in [0, 1]. */
  shape: Float32Array;
  /** Object centroid x, y and √area (image fractions): the coarse position/size code of LO. */
  place: Float32Array;
  /** Object mean luminance and colour opponency: surface properties (VO). */
  surface: Float32Array;
  /** Background luminance above/below the middle and colour opponency: scene layout (PHC). */
  scene: Float32Array;
}

/** Computes every stage's features for one rendered image. */
export function imageFeatures(image: RenderedImage): ImageFeatures {
  const g = FEATURE_GRID;
  const [lum, rg, by] = opponentChannels(image, g);
  const fine = gaborEnergy(lum, g);
  const coarse = gaborEnergy(downsample2(lum, g), g / 2);
  // Pixelwise conjunctions of orientation energies: V2-like "corner/junction" channels.
  const conj: Float32Array[] = [];
  for (let a = 0; a < 4; a++) {
    for (let b = a + 1; b < 4; b++) {
      const m = new Float32Array(g * g);
      for (let i = 0; i < m.length; i++) m[i] = Math.sqrt(fine[a][i] * fine[b][i]);
      conj.push(m);
    }
  }
  const at = (maps: { map: Float32Array; res: number }[], grid: { n: number; sigma: number }) => {
    const out = new Float32Array(grid.n * grid.n * maps.length);
    for (let p = 0; p < grid.n * grid.n; p++) {
      const cx = ((p % grid.n) + 0.5) / grid.n, cy = (Math.floor(p / grid.n) + 0.5) / grid.n;
      maps.forEach(({ map, res }, k) => {
        out[p * maps.length + k] = applyWindow(map, gaussianWindow(res, cx, cy, grid.sigma));
      });
    }
    return out;
  };
  const fineMaps = fine.map((map) => ({ map, res: g }));
  const coarseMaps = coarse.map((map) => ({ map, res: g / 2 }));
  const v1 = at(fineMaps, RF_GRIDS.v1);
  const v2 = at([...fineMaps, ...coarseMaps, ...conj.map((map) => ({ map, res: g }))], RF_GRIDS.v2);
  const raw4 = at([...fineMaps, ...coarseMaps, { map: rg, res: g }, { map: by, res: g }], RF_GRIDS.v4);
  const v4 = new Float32Array(RF_GRIDS.v4.n ** 2 * CHANNELS.v4);
  for (let p = 0; p < RF_GRIDS.v4.n ** 2; p++) {
    const src = raw4.subarray(p * 10, p * 10 + 10), dst = v4.subarray(p * CHANNELS.v4, (p + 1) * CHANNELS.v4);
    let total = 0;
    for (let k = 0; k < 8; k++) total += src[k];
    // Texture statistics: *where* the energy lies in orientation × scale (divisively normalised, with a
    // semi-saturation constant so near-blank regions give ≈0 instead of an amplified noise pattern), how much
    // there is (log contrast), and the local colour.
    for (let k = 0; k < 8; k++) dst[k] = src[k] / (total + SEMI_SATURATION);
    dst[8] = Math.log(total + SEMI_SATURATION);
    dst[9] = src[8];
    dst[10] = src[9];
  }
  return { v1, v2, v4, ...objectFeatures(image, lum, rg, by, g) };
}

/** Luminance and two colour-opponent channels, area-averaged onto a g×g grid. */
function opponentChannels(image: RenderedImage, g: number): [Float32Array, Float32Array, Float32Array] {
  const { size, rgb } = image;
  const sums = [new Float32Array(g * g), new Float32Array(g * g), new Float32Array(g * g)];
  const counts = new Float32Array(g * g);
  // Each source pixel contributes to the grid cell containing its centre (area averaging when size ≥ g);
  // for size < g, grid cells sample their nearest source pixel instead.
  if (size >= g) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const cell = Math.floor(((y + 0.5) * g) / size) * g + Math.floor(((x + 0.5) * g) / size);
        addPixel(rgb, (y * size + x) * 3, sums, cell);
        counts[cell]++;
      }
    }
  } else {
    for (let cell = 0; cell < g * g; cell++) {
      const y = Math.floor(((Math.floor(cell / g) + 0.5) * size) / g),
        x = Math.floor((((cell % g) + 0.5) * size) / g);
      addPixel(rgb, (y * size + x) * 3, sums, cell);
      counts[cell] = 1;
    }
  }
  for (const s of sums) for (let i = 0; i < s.length; i++) s[i] /= counts[i];
  return sums as [Float32Array, Float32Array, Float32Array];
}

function addPixel(rgb: Uint8Array, o: number, [lum, rg, by]: Float32Array[], cell: number): void {
  const r = rgb[o] / 255, gr = rgb[o + 1] / 255, b = rgb[o + 2] / 255;
  lum[cell] += 0.299 * r + 0.587 * gr + 0.114 * b;
  rg[cell] += r - gr;
  by[cell] += b - (r + gr) / 2;
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

/** Quadrature-pair Gabor kernels (even part made zero-mean so flat regions give no energy). */
const KERNELS = (() => {
  const radius = 2 * ENVELOPE, side = 2 * radius + 1;
  return ORIENTATIONS.map((theta) => {
    const even = new Float32Array(side * side), odd = new Float32Array(side * side);
    let mean = 0, wsum = 0;
    for (let dy = -radius; dy <= radius; dy++) {
      for (let dx = -radius; dx <= radius; dx++) {
        const u = dx * Math.cos(theta) + dy * Math.sin(theta);
        const w = Math.exp(-(dx * dx + dy * dy) / (2 * ENVELOPE * ENVELOPE));
        const i = (dy + radius) * side + dx + radius;
        even[i] = w * Math.cos((2 * Math.PI * u) / WAVELENGTH);
        odd[i] = w * Math.sin((2 * Math.PI * u) / WAVELENGTH);
        mean += even[i];
        wsum += w;
      }
    }
    for (let dy = -radius; dy <= radius; dy++) {
      for (let dx = -radius; dx <= radius; dx++) {
        const i = (dy + radius) * side + dx + radius;
        even[i] -= (mean / wsum) * Math.exp(-(dx * dx + dy * dy) / (2 * ENVELOPE * ENVELOPE));
      }
    }
    return { even, odd, radius, side };
  });
})();

/** Complex-cell energy √(even² + odd²) per orientation, edges clamped (by padding the map once). */
function gaborEnergy(map: Float32Array, res: number): Float32Array[] {
  const { radius, side } = KERNELS[0], wide = res + 2 * radius;
  const padded = new Float32Array(wide * wide);
  for (let y = 0; y < wide; y++) {
    for (let x = 0; x < wide; x++) {
      padded[y * wide + x] =
        map[Math.min(res - 1, Math.max(0, y - radius)) * res + Math.min(res - 1, Math.max(0, x - radius))];
    }
  }
  return KERNELS.map(({ even, odd }) => {
    const out = new Float32Array(res * res);
    for (let y = 0; y < res; y++) {
      for (let x = 0; x < res; x++) {
        let e = 0, o = 0;
        for (let ky = 0; ky < side; ky++) {
          const row = (y + ky) * wide + x, krow = ky * side;
          for (let kx = 0; kx < side; kx++) {
            const v = padded[row + kx];
            e += even[krow + kx] * v;
            o += odd[krow + kx] * v;
          }
        }
        out[y * res + x] = Math.sqrt(e * e + o * o);
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
const WINDOWS = new Map<string, Window>();

/** The Gaussian window around (cx, cy) (image fractions) with σ = `sigma` × image side, truncated at ±2.5σ. */
function gaussianWindow(res: number, cx: number, cy: number, sigma: number): Window {
  const key = `${res}/${cx}/${cy}/${sigma}`;
  const cached = WINDOWS.get(key);
  if (cached) return cached;
  const s = sigma * res, x0 = cx * res - 0.5, y0 = cy * res - 0.5, reach = Math.ceil(2.5 * s);
  const index: number[] = [], weight: number[] = [];
  for (let y = Math.max(0, Math.floor(y0 - reach)); y <= Math.min(res - 1, Math.ceil(y0 + reach)); y++) {
    for (let x = Math.max(0, Math.floor(x0 - reach)); x <= Math.min(res - 1, Math.ceil(x0 + reach)); x++) {
      index.push(y * res + x);
      weight.push(Math.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * s * s)));
    }
  }
  const total = weight.reduce((a, b) => a + b, 0);
  const window = { index: Int32Array.from(index), weight: Float32Array.from(weight, (w) => w / total) };
  WINDOWS.set(key, window);
  return window;
}

function applyWindow(map: Float32Array, { index, weight }: Window): number {
  let sum = 0;
  for (let i = 0; i < index.length; i++) sum += weight[i] * map[index[i]];
  return sum;
}

/** The object-centred descriptors read by the late stages, from the coverage mask and the colour maps. */
function objectFeatures(
  image: RenderedImage,
  lum: Float32Array,
  rg: Float32Array,
  by: Float32Array,
  g: number,
) {
  const { size, coverage } = image;
  let x0 = size, x1 = -1, y0 = size, y1 = -1, area = 0, mx = 0, my = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const a = coverage[y * size + x];
      area += a;
      mx += a * x;
      my += a * y;
      if (a >= 0.5) {
        x0 = Math.min(x0, x), x1 = Math.max(x1, x), y0 = Math.min(y0, y), y1 = Math.max(y1, y);
      }
    }
  }
  const shape = new Float32Array(SHAPE_GRID * SHAPE_GRID);
  if (x1 >= 0) {
    // A square box around the silhouette's bounding box: removes position and scale, keeps aspect.
    const side = Math.max(x1 - x0, y1 - y0) + 1,
      bx = (x0 + x1 + 1) / 2 - side / 2,
      by0 = (y0 + y1 + 1) / 2 - side / 2;
    const sub = 4; // 4×4 samples per descriptor cell
    for (let cy = 0; cy < SHAPE_GRID; cy++) {
      for (let cx = 0; cx < SHAPE_GRID; cx++) {
        let s = 0;
        for (let j = 0; j < sub; j++) {
          for (let i = 0; i < sub; i++) {
            const px = Math.floor(bx + ((cx + (i + 0.5) / sub) * side) / SHAPE_GRID);
            const py = Math.floor(by0 + ((cy + (j + 0.5) / sub) * side) / SHAPE_GRID);
            if (px >= 0 && py >= 0 && px < size && py < size) s += coverage[py * size + px];
          }
        }
        shape[cy * SHAPE_GRID + cx] = s / (sub * sub);
      }
    }
  }
  // Surface (object) and scene (background) colour statistics on the feature grid, split by coverage.
  const fg = [0, 0, 0, 0], bgTop = [0, 0], bgBottom = [0, 0], bgColour = [0, 0, 0];
  for (let y = 0; y < g; y++) {
    for (let x = 0; x < g; x++) {
      const a = coverage[Math.floor(((y + 0.5) * size) / g) * size + Math.floor(((x + 0.5) * size) / g)];
      const i = y * g + x;
      fg[0] += a * lum[i], fg[1] += a * rg[i], fg[2] += a * by[i], fg[3] += a;
      const half = y < g / 2 ? bgTop : bgBottom;
      half[0] += (1 - a) * lum[i], half[1] += 1 - a;
      bgColour[0] += (1 - a) * rg[i], bgColour[1] += (1 - a) * by[i], bgColour[2] += 1 - a;
    }
  }
  const safe = (n: number, d: number) => (d > 0 ? n / d : 0);
  return {
    shape,
    place: Float32Array.of(safe(mx, area) / size, safe(my, area) / size, Math.sqrt(area) / size),
    surface: Float32Array.of(safe(fg[0], fg[3]), safe(fg[1], fg[3]), safe(fg[2], fg[3])),
    scene: Float32Array.of(
      safe(bgTop[0], bgTop[1]),
      safe(bgBottom[0], bgBottom[1]),
      safe(bgColour[0], bgColour[2]),
      safe(bgColour[1], bgColour[2]),
    ),
  };
}
