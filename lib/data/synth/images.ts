/**
 * Procedural object images. A class is a *shape* (a silhouette defined in an object-centred frame); every class
 * also owns a characteristic *texture* that fills the silhouette in most, but not all, of its images, so texture
 * is a correlated but imperfect cue, as in natural image sets. Colours, position, scale, rotation, aspect and
 * background vary freely and carry no class information.
 * @module
 */
import type { Random } from "../../random.ts";

/** A silhouette test in the object frame: (u, v) ∈ [-1, 1]², `j` ∈ [0, 1] is a per-exemplar shape jitter. */
export type Inside = (u: number, v: number, j: number) => boolean;

const TAU = 2 * Math.PI;
/** Triangle wave with period 1, 1 at integers and 0 at half-integers. */
const tri = (x: number) => Math.abs(((x % 1) + 1) % 1 - 0.5) * 2;

/** Inside the regular n-gon of circumradius r (one vertex at θ = −π/2 + phase). */
function polygon(n: number, r: number, phase = 0): Inside {
  return (u, v) => {
    const theta = Math.atan2(v, u) + Math.PI / 2 - phase;
    const sector = ((theta % (TAU / n)) + TAU / n) % (TAU / n) - Math.PI / n;
    return Math.hypot(u, v) * Math.cos(sector) <= r * Math.cos(Math.PI / n);
  };
}

/** Inside the polar curve ρ ≤ r(θ, j). */
function polar(r: (theta: number, j: number) => number): Inside {
  return (u, v, j) => Math.hypot(u, v) <= r(Math.atan2(v, u), j);
}

/** A star with `n` points whose inner radius grows with the jitter. */
const star = (n: number): Inside =>
  polar((t, j) => 0.38 + 0.14 * j + (0.57 - 0.14 * j) * tri((n * t) / TAU + 0.25));

/**
 * The shape catalogue, in the order classes are drawn from it (`--classes C` takes the first C). Names are
 * lowercase letters only, so cue-conflict file names `<shape><i>-<texture><j>.png` parse unambiguously.
 */
export const SHAPES: readonly { name: string; inside: Inside }[] = [
  { name: "star", inside: star(5) },
  {
    name: "cross",
    inside: (u, v, j) =>
      (Math.abs(u) < 0.24 + 0.1 * j && Math.abs(v) < 0.95) ||
      (Math.abs(v) < 0.24 + 0.1 * j && Math.abs(u) < 0.95),
  },
  { name: "ring", inside: (u, v, j) => Math.hypot(u, v) < 0.95 && Math.hypot(u, v) > 0.45 + 0.12 * j },
  { name: "triangle", inside: polygon(3, 1) },
  {
    name: "heart",
    inside: (u, v) => {
      const x = u * 1.25, y = -v * 1.25 + 0.2;
      const a = x * x + y * y - 1;
      return a * a * a - x * x * y * y * y <= 0;
    },
  },
  {
    name: "crescent",
    inside: (u, v, j) => Math.hypot(u, v) < 0.95 && Math.hypot(u - 0.35 - 0.15 * j, v + 0.15) > 0.7,
  },
  { name: "square", inside: (u, v) => Math.abs(u) < 0.75 && Math.abs(v) < 0.75 },
  { name: "hexagon", inside: polygon(6, 0.95) },
  {
    name: "arrow",
    inside: (u, v, j) =>
      (u > -0.95 && u < 0.15 && Math.abs(v) < 0.18 + 0.08 * j) ||
      (u >= 0.15 && u < 0.95 && Math.abs(v) < (0.95 - u) * 1.1),
  },
  { name: "flower", inside: polar((t, j) => 0.4 + 0.1 * j + 0.55 * Math.abs(Math.cos(2.5 * t))) },
  { name: "ellipse", inside: (u, v, j) => (u / 0.95) ** 2 + (v / (0.45 + 0.1 * j)) ** 2 <= 1 },
  { name: "gear", inside: polar((t, j) => (Math.cos(8 * t) > 0 ? 0.95 : 0.7 - 0.1 * j)) },
  { name: "hourglass", inside: (u, v) => Math.abs(v) < 0.95 && Math.abs(u) < 0.12 + 0.8 * Math.abs(v) },
  {
    name: "tee",
    inside: (u, v, j) =>
      (v > -0.95 && v < -0.45 && Math.abs(u) < 0.95) ||
      (v >= -0.45 && v < 0.95 && Math.abs(u) < 0.2 + 0.08 * j),
  },
  {
    name: "ell",
    inside: (u, v, j) =>
      (u > -0.85 && u < -0.4 + 0.1 * j && Math.abs(v) < 0.95) ||
      (v > 0.45 && v < 0.95 && u > -0.85 && u < 0.85),
  },
  { name: "pentagon", inside: polygon(5, 0.95) },
  { name: "octagon", inside: polygon(8, 0.95, Math.PI / 8) },
  {
    name: "trefoil",
    inside: polar((t, j) => 0.35 + 0.1 * j + 0.6 * Math.abs(Math.cos(1.5 * t + Math.PI / 4))),
  },
  { name: "sparkle", inside: star(4) },
  {
    name: "frame",
    inside: (u, v, j) =>
      Math.max(Math.abs(u), Math.abs(v)) < 0.85 && Math.max(Math.abs(u), Math.abs(v)) > 0.5 + 0.1 * j,
  },
  {
    name: "chevron",
    inside: (u, v, j) => Math.abs(u) < 0.95 && Math.abs(v + 0.3 - 0.75 * Math.abs(u)) < 0.22 + 0.08 * j,
  },
  { name: "dome", inside: (u, v) => v < 0.35 && Math.hypot(u, v - 0.35) < 0.95 },
  {
    name: "kite",
    inside: (u, v) => Math.abs(u) < (v < -0.3 ? (v + 0.95) * 1.0 : (0.95 - v) * 0.52) && v > -0.95,
  },
  { name: "trapezoid", inside: (u, v) => Math.abs(v) < 0.6 && Math.abs(u) < 0.5 + 0.45 * ((v + 0.6) / 1.2) },
];

/** Texture families; a texture class is a family at a fixed base orientation (variants repeat families). */
const FAMILIES = [
  "stripes",
  "dots",
  "checks",
  "noise",
  "waves",
  "grid",
  "rings",
  "zigzag",
  "bricks",
  "spots",
] as const;

/** The characteristic texture of class `k`: family `k mod 10`, base orientation rotated by 60° per variant. */
export function textureName(k: number): string {
  const variant = Math.floor(k / FAMILIES.length);
  return FAMILIES[k % FAMILIES.length] + (variant === 0 ? "" : `-${variant * 60}deg`);
}

/** An RGB colour in [0, 1]. */
export type Rgb = [number, number, number];

/** Everything that determines one image (all random choices are made by {@link sampleScene}). */
export interface SceneSpec {
  /** Index into {@link SHAPES} of the silhouette drawn. */
  shapeId: number;
  /** Index of the texture (see {@link textureName}) that fills it. */
  textureId: number;
  /** Per-exemplar silhouette jitter in [0, 1]. */
  shapeJitter: number;
  /** Object centre x, as a fraction of the image width (left to right). */
  cx: number;
  /** Object centre y, as a fraction of the image height (top to bottom). */
  cy: number;
  /** Object radius as a fraction of the image side. */
  radius: number;
  /** Rotation of the silhouette in radians. */
  rotation: number;
  /** Horizontal stretch of the silhouette (object frame). */
  aspect: number;
  /** Texture parameters: orientation (rad), spatial frequency (cycles per image), phase, colours, seeds. */
  texture: { angle: number; frequency: number; phase: number; colors: [Rgb, Rgb]; points: Float32Array };
  /** Background: two colours and a layout (flat, vertical gradient, or a horizon split at `horizon`). */
  background: { kind: "flat" | "gradient" | "horizon"; colors: [Rgb, Rgb]; horizon: number };
}

/** A rendered image with the object's coverage mask (the figure–ground segmentation later stages read). */
export interface RenderedImage {
  /** Side in pixels. */
  size: number;
  /** size×size×3 interleaved RGB (HWC), rows top to bottom. */
  rgb: Uint8Array;
  /** size×size object coverage in [0, 1] (2×2 supersampled). */
  coverage: Float32Array;
}

/** HSV (all in [0, 1]) to RGB. */
function hsv(h: number, s: number, v: number): Rgb {
  const f = (n: number) => {
    const k = (n + h * 6) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5), f(3), f(1)];
}

/**
 * Draws a random scene: silhouette `shapeId` filled with texture `textureId`. `rng` should be a stream dedicated
 * to this image (e.g. `root.fork("train", k)`), which makes each image independent of generation order.
 */
export function sampleScene(rng: Random, shapeId: number, textureId: number): SceneSpec {
  const radius = rng.uniform(0.26, 0.4);
  const margin = radius + 0.03;
  const hue = rng.next();
  // Texture colours: random hue pair with a guaranteed lightness difference so the texture is visible.
  const light = rng.uniform(0.75, 1), dark = light - rng.uniform(0.35, 0.6);
  const colors: [Rgb, Rgb] = [
    hsv(hue, rng.uniform(0.3, 0.9), light),
    hsv((hue + rng.uniform(0, 0.5)) % 1, rng.uniform(0.3, 0.9), dark),
  ];
  // Background hue kept away from the object's so the silhouette stays segmentable.
  const bgHue = (hue + rng.uniform(0.3, 0.7)) % 1;
  const bgValue = rng.chance(0.5) ? rng.uniform(0.1, 0.35) : rng.uniform(0.55, 0.8);
  const points = new Float32Array(48);
  for (let i = 0; i < points.length; i++) points[i] = rng.next();
  const variant = Math.floor(textureId / FAMILIES.length);
  return {
    shapeId,
    textureId,
    shapeJitter: rng.next(),
    cx: rng.uniform(margin, 1 - margin),
    cy: rng.uniform(margin, 1 - margin),
    radius,
    rotation: rng.uniform(-0.35, 0.35),
    aspect: rng.uniform(0.85, 1.15),
    texture: {
      // Each texture class has a base orientation; ±12° jitter keeps classes apart in orientation space.
      angle: ((variant * 60 + (textureId % FAMILIES.length) * 17) * Math.PI) / 180 + rng.uniform(-0.21, 0.21),
      frequency: rng.uniform(5, 8),
      phase: rng.next(),
      colors,
      points,
    },
    background: {
      kind: rng.pick(["flat", "gradient", "horizon"] as const),
      colors: [
        hsv(bgHue, rng.uniform(0.1, 0.6), bgValue),
        hsv(bgHue, rng.uniform(0.1, 0.6), bgValue * rng.uniform(0.6, 1.2)),
      ],
      horizon: rng.uniform(0.3, 0.7),
    },
  };
}

/** Texture value in [0, 1] at image position (x, y) ∈ [0, 1]² for the family of `spec.textureId`. */
function textureAt(spec: SceneSpec, x: number, y: number): number {
  const { angle, frequency: f, phase, points } = spec.texture;
  const c = Math.cos(angle), s = Math.sin(angle);
  const u = x * c + y * s, v = -x * s + y * c;
  const frac = (t: number) => t - Math.floor(t);
  // A soft square wave: sharp enough to look like stripes, smooth enough not to alias at 32–64 px.
  const square = (t: number) => 0.5 + 0.5 * Math.tanh(4 * Math.sin(TAU * t));
  switch (FAMILIES[spec.textureId % FAMILIES.length]) {
    case "stripes":
      return square(u * f + phase);
    case "dots": {
      const a = frac(u * f + phase) - 0.5, b = frac(v * f + phase) - 0.5;
      return a * a + b * b < 0.08 ? 1 : 0;
    }
    case "checks":
      return square(u * f * 0.5 + phase) > 0.5 === square(v * f * 0.5 + phase) > 0.5 ? 1 : 0;
    case "noise": {
      // Value noise on a 6×6 lattice of random grey levels, bilinearly interpolated, then contrast-stretched.
      const gx = frac((u * f) / 3 + phase) * 6, gy = frac((v * f) / 3 + phase) * 6;
      const i = Math.floor(gx), j = Math.floor(gy), fx = gx - i, fy = gy - j;
      const at = (a: number, b: number) => points[((b % 6) * 6 + (a % 6)) % points.length];
      const n = (1 - fy) * ((1 - fx) * at(i, j) + fx * at(i + 1, j)) +
        fy * ((1 - fx) * at(i, j + 1) + fx * at(i + 1, j + 1));
      return Math.min(1, Math.max(0, (n - 0.5) * 2.5 + 0.5));
    }
    case "waves":
      return square(u * f + 0.12 * Math.sin(TAU * v * f * 0.5) + phase);
    case "grid":
      return Math.min(frac(u * f + phase), frac(v * f + phase)) < 0.25 ? 1 : 0;
    case "rings":
      return square(Math.hypot(x - spec.cx, y - spec.cy) * f * 1.5 + phase);
    case "zigzag":
      return square(u * f + 0.5 * tri(v * f) + phase);
    case "bricks": {
      const row = Math.floor(v * f * 0.8 + phase);
      const col = u * f * 0.5 + (row % 2) * 0.5;
      return frac(v * f * 0.8 + phase) < 0.2 || frac(col) < 0.12 ? 0 : 1;
    }
    case "spots": {
      // Random discs (24 centres in `points`), tiled so the pattern has no edge.
      let hit = 0;
      for (let p = 0; p < 24; p++) {
        const dx = frac(u * 2 - points[2 * p]) - 0.5, dy = frac(v * 2 - points[2 * p + 1]) - 0.5;
        if (dx * dx + dy * dy < 0.006) hit = 1;
      }
      return hit;
    }
  }
  throw new Error("unreachable texture family");
}

function backgroundAt(spec: SceneSpec, y: number): Rgb {
  const { kind, colors: [a, b], horizon } = spec.background;
  const t = kind === "flat" ? 0 : kind === "gradient" ? y : y > horizon ? 1 : 0;
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** The silhouette test of `spec` in image coordinates (x, y) ∈ [0, 1]², with its rotation precomputed. */
function silhouette(spec: SceneSpec): (x: number, y: number) => boolean {
  const c = Math.cos(spec.rotation), s = Math.sin(spec.rotation), inside = SHAPES[spec.shapeId].inside;
  return (x, y) => {
    const dx = (x - spec.cx) / spec.radius, dy = (y - spec.cy) / spec.radius;
    const u = (dx * c + dy * s) / spec.aspect, v = -dx * s + dy * c;
    // Every silhouette lies within the square [-1, 1]², whose corners are at radius √2.
    return u * u + v * v <= 2 && inside(u, v, spec.shapeJitter);
  };
}

/** Renders `spec` at `size`×`size` pixels. */
export function renderScene(spec: SceneSpec, size: number): RenderedImage {
  const rgb = new Uint8Array(size * size * 3);
  const coverage = new Float32Array(size * size);
  const [c1, c2] = spec.texture.colors;
  const insideObject = silhouette(spec);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let inside = 0;
      for (let sy = 0; sy < 2; sy++) {
        for (let sx = 0; sx < 2; sx++) {
          if (insideObject((px + 0.25 + 0.5 * sx) / size, (py + 0.25 + 0.5 * sy) / size)) inside++;
        }
      }
      const x = (px + 0.5) / size, y = (py + 0.5) / size;
      const alpha = inside / 4;
      const bg = backgroundAt(spec, y);
      const t = alpha > 0 ? textureAt(spec, x, y) : 0;
      const o = (py * size + px) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const fg = c2[ch] + (c1[ch] - c2[ch]) * t;
        rgb[o + ch] = Math.round(255 * Math.min(1, Math.max(0, alpha * fg + (1 - alpha) * bg[ch])));
      }
      coverage[py * size + px] = alpha;
    }
  }
  return { size, rgb, coverage };
}
