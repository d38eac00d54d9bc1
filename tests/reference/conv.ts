/**
 * Float64 reference for conv2d (NCHW, weight [out, in, k, k]) and its gradients, written as the direct sums of
 * the definition: the oracle GPU results are compared to.
 * @module
 */

/** Shape of a reference convolution. */
export interface ConvShape {
  batch: number;
  inChannels: number;
  height: number;
  width: number;
  outChannels: number;
  kernel: number;
  stride: number;
  padding: number;
}

/** Output height and width. */
export function convOut(s: ConvShape): [number, number] {
  return [
    Math.floor((s.height + 2 * s.padding - s.kernel) / s.stride) + 1,
    Math.floor((s.width + 2 * s.padding - s.kernel) / s.stride) + 1,
  ];
}

/** Calls `f(xIndex, wIndex, yIndex)` for every product term x·w that lands inside the image. */
function forEachTerm(
  s: ConvShape,
  f: (xi: number, wi: number, yi: number) => void,
): void {
  const [oh, ow] = convOut(s);
  for (let b = 0; b < s.batch; b++) {
    for (let co = 0; co < s.outChannels; co++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          const yi = ((b * s.outChannels + co) * oh + oy) * ow + ox;
          for (let ci = 0; ci < s.inChannels; ci++) {
            for (let ky = 0; ky < s.kernel; ky++) {
              const iy = oy * s.stride - s.padding + ky;
              if (iy < 0 || iy >= s.height) continue;
              for (let kx = 0; kx < s.kernel; kx++) {
                const ix = ox * s.stride - s.padding + kx;
                if (ix < 0 || ix >= s.width) continue;
                f(
                  ((b * s.inChannels + ci) * s.height + iy) * s.width + ix,
                  ((co * s.inChannels + ci) * s.kernel + ky) * s.kernel + kx,
                  yi,
                );
              }
            }
          }
        }
      }
    }
  }
}

/** y = conv(x, w) + bias, float64. */
export function conv2dRef(
  s: ConvShape,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  bias?: ArrayLike<number>,
): Float64Array {
  const [oh, ow] = convOut(s);
  const y = new Float64Array(s.batch * s.outChannels * oh * ow);
  if (bias) { for (let i = 0; i < y.length; i++) y[i] = bias[Math.floor(i / (oh * ow)) % s.outChannels]; }
  forEachTerm(s, (xi, wi, yi) => y[yi] += x[xi] * w[wi]);
  return y;
}

/** Gradients of the scalar `sum(dy ⊙ conv(x, w) + bias)`: dx, dw and dBias, float64. */
export function conv2dGradRef(
  s: ConvShape,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  dy: ArrayLike<number>,
): { dx: Float64Array; dw: Float64Array; dBias: Float64Array } {
  const [oh, ow] = convOut(s);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  const dBias = new Float64Array(s.outChannels);
  forEachTerm(s, (xi, wi, yi) => {
    dx[xi] += dy[yi] * w[wi];
    dw[wi] += dy[yi] * x[xi];
  });
  for (let i = 0; i < dy.length; i++) dBias[Math.floor(i / (oh * ow)) % s.outChannels] += dy[i];
  return { dx, dw, dBias };
}
