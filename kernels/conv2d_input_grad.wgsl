// Input gradient of conv2d as implicit GEMM: dX[ci, (b, iy, ix)] (+)= Σ Wᵀ[ci, (tap, co)] · dY[(tap, co), (b, oy, ox)]
// where oy = (iy + pad - ky) / stride when that divides exactly. M = cin, N = batch·h·w, one segment per tap,
// reduction over co inside it. Includes _conv2d_shape.wgsl.
//
// With stride s only one tap in s² reaches a given pixel, depending on (iy mod s, ix mod s). The columns are
// therefore ordered phase by phase (all pixels with iy ≡ py, ix ≡ px, then the next phase), so neighbouring
// invocations share their phase and skip the taps that cannot reach them instead of multiplying zeros.
#include "_conv2d_shape.wgsl"

@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<vec4f>; // [tap][cin][cout padded], see conv2d_weight_layout
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

// Four input pixels: dY image offset (-1 past N) and padded position (iy + pad, ix + pad).
struct Origin { base: vec4i, y: vec4i, x: vec4i }

var<private> org_lo: Origin;
var<private> org_hi: Origin;
var<private> off_lo: vec4i; // per tap: offset of dy[b, 0, oy, ox], -1 when no output pixel uses this tap
var<private> off_hi: vec4i;

fn segments(z: u32) -> vec2u {
  return vec2u(0u, conv.k * conv.k);
}

fn seg_len(seg: u32) -> u32 {
  return conv.cout;
}

// Four input pixels (b, iy, ix) for GEMM columns n, in the phase order above; b ≥ batch past N.
struct Pixels { b: vec4u, y: vec4u, x: vec4u }

fn pixels(n: vec4u) -> Pixels {
  let s = conv.stride;
  var py = vec4u(0u);
  var px = vec4u(0u);
  var local = n;
  var start = 0u;
  // phases are consecutive ranges of columns: the last one starting at or before n holds it
  for (var phase = 0u; phase < s * s; phase++) {
    let here = n >= vec4u(start);
    py = select(py, vec4u(phase / s), here);
    px = select(px, vec4u(phase % s), here);
    local = select(local, n - start, here);
    start += conv.batch * ((conv.h - phase / s + s - 1u) / s) * ((conv.w - phase % s + s - 1u) / s);
  }
  let rows = (vec4u(conv.h) - py + s - 1u) / s;
  let cols = (vec4u(conv.w) - px + s - 1u) / s;
  let per_image = rows * cols;
  let r = local % per_image;
  let b = select(local / per_image, vec4u(conv.batch), n >= vec4u(start));
  return Pixels(b, py + s * (r / cols), px + s * (r % cols));
}

fn origin(n: vec4u) -> Origin {
  let p = pixels(n);
  let base = select(vec4i(-1), vec4i(p.b * conv.cout * conv.oh * conv.ow), p.b < vec4u(conv.batch));
  let pad = vec4i(i32(conv.pad));
  return Origin(base, vec4i(p.y) + pad, vec4i(p.x) + pad);
}

fn begin_columns(n0: u32) {
  org_lo = origin(quad(n0));
  org_hi = origin(quad(n0 + 4u));
}

fn tap_offset(o: Origin, ky: i32, kx: i32) -> vec4i {
  let s = vec4i(i32(conv.stride));
  let ny = o.y - ky;
  let nx = o.x - kx;
  let oy = ny / s;
  let ox = nx / s;
  let hit = (o.base >= vec4i(0)) & (ny >= vec4i(0)) & (nx >= vec4i(0)) & (oy * s == ny) & (ox * s == nx) &
    (oy < vec4i(i32(conv.oh))) & (ox < vec4i(i32(conv.ow)));
  return select(vec4i(-1), o.base + oy * i32(conv.ow) + ox, hit);
}

fn begin_segment(seg: u32) -> bool {
  let ky = i32(seg / conv.k);
  let kx = i32(seg % conv.k);
  off_lo = tap_offset(org_lo, ky, kx);
  off_hi = tap_offset(org_hi, ky, kx);
  return any(off_lo >= vec4i(0)) || any(off_hi >= vec4i(0));
}

fn load_a(m: u32, seg: u32, k: u32, len: u32) -> vec4f {
  // co past cout reads the zero padding
  return select(vec4f(0.0), weight[((seg * conv.cin + m) * padded4(conv.cout) + k) >> 2u], m < conv.cin);
}

fn gather(off: vec4i, add: u32) -> vec4f {
  let i = vec4u(max(off, vec4i(0))) + add;
  return select(vec4f(0.0), vec4f(dy[i.x], dy[i.y], dy[i.z], dy[i.w]), off >= vec4i(0));
}

fn b_row(seg: u32, k: u32, len: u32) -> Cols {
  if (k >= len) {
    return Cols(vec4f(0.0), vec4f(0.0));
  }
  let add = k * conv.oh * conv.ow;
  return Cols(gather(off_lo, add), gather(off_hi, add));
}

fn store4(m: u32, p: Pixels, v: vec4f) {
  for (var j = 0u; j < 4u; j++) {
    if (m < conv.cin && p.b[j] < conv.batch) {
      let i = ((p.b[j] * conv.cin + m) * conv.h + p.y[j]) * conv.w + p.x[j];
      var r = v[j];
      if (conv.beta != 0.0) {
        r += conv.beta * dx[i];
      }
      dx[i] = r;
    }
  }
}

fn store(m: u32, n0: u32, v: Cols, z: u32) {
  store4(m, pixels(quad(n0)), v.lo);
  store4(m, pixels(quad(n0 + 4u)), v.hi);
}
