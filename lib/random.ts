/**
 * A small seeded PRNG for reproducible synthetic data: sfc32 (Chris Doty-Humphrey's "small fast counter"),
 * seeded from a string key through the cyrb128 hash. Streams are addressed by *label* rather than by draw
 * order (`rng.fork("image", 17)`), so adding or reordering one part of a generator never changes the numbers
 * drawn by another part.
 * @module
 */

/**
 * A deterministic random stream. Not cryptographic.
 *
 * @example
 * ```ts
 * const root = new Random("seed:0");
 * const a = root.fork("image", 3).normal(); // same value on every run and platform
 * const order = root.fork("order").shuffle([0, 1, 2, 3]);
 * ```
 */
export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spare: number | null = null;

  /**
   * Seeds the stream from `key`.
   * @param key any string or number; equal keys give equal streams.
   */
  constructor(readonly key: string | number) {
    [this.#a, this.#b, this.#c, this.#d] = cyrb128(String(key));
    // sfc32's first outputs are correlated with the seed words; burn a few as its author recommends.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** An independent stream named by this stream's key plus `labels`; it does not advance this stream. */
  fork(...labels: (string | number)[]): Random {
    return new Random(`${this.key}/${labels.join("/")}`);
  }

  /** Uniform integer in [0, 2³²). */
  uint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal deviate (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.#spare !== null) {
      const s = this.#spare;
      this.#spare = null;
      return s;
    }
    const u = 1 - this.next(); // (0, 1]: log(0) impossible
    const r = Math.sqrt(-2 * Math.log(u)), phi = 2 * Math.PI * this.next();
    this.#spare = r * Math.sin(phi);
    return r * Math.cos(phi);
  }

  /** Gamma(shape, 1) deviate (Marsaglia–Tsang; shape < 1 by the usual U^(1/shape) boost). */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(1 - this.next(), 1 / shape);
    const d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal(), v0 = 1 + c * x;
      if (v0 <= 0) continue;
      const v = v0 * v0 * v0, u = 1 - this.next();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  }

  /** Beta(a, b) deviate. */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    return x / (x + this.gamma(b));
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T>(array: T[]): T[] {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [array[i], array[j]] = [array[j], array[i]];
    }
    return array;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(array: readonly T[]): T {
    return array[this.int(array.length)];
  }

  /** A uniformly random permutation of 0..n−1. */
  permutation(n: number): Uint32Array {
    return Uint32Array.from(this.shuffle(Array.from({ length: n }, (_, i) => i)));
  }
}

/** cyrb128: a fast 128-bit string hash (public domain, bryc), used only to spread a key over sfc32's state. */
function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}
