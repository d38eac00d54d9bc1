// Forward convolution as implicit GEMM: Y[co, (b, oy, ox)] = Σ W[co, (tap, ci)] · X[(tap, ci), (b, oy, ox)]
// (+ bias[co]). M = cout, N = batch·oh·ow, one segment per kernel tap, reduction over ci inside it, so the
// tap's bounds checks are done once per segment. Includes _conv2d_shape.wgsl.
#include "_conv2d_shape.wgsl"

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<vec4f>; // [tap][cout][cin padded], see conv2d_weight_layout
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

// Where four output pixels look in the input: image offset (-1 past N) and top-left input position.
struct Origin { base: vec4i, y: vec4i, x: vec4i }

var<private> org_lo: Origin;
var<private> org_hi: Origin;
var<private> off_lo: vec4i; // per tap: offset of x[b, 0, iy, ix], -1 when in the padding
var<private> off_hi: vec4i;

fn segments(z: u32) -> vec2u {
  return vec2u(0u, conv.k * conv.k);
}

fn seg_len(seg: u32) -> u32 {
  return conv.cin;
}

fn origin(n: vec4u) -> Origin {
  let pixels = conv.oh * conv.ow;
  let b = n / pixels;
  let r = n % pixels;
  let base = select(vec4i(-1), vec4i(b * conv.cin * conv.h * conv.w), b < vec4u(conv.batch));
  let pad = vec4i(i32(conv.pad));
  return Origin(base, vec4i((r / conv.ow) * conv.stride) - pad, vec4i((r % conv.ow) * conv.stride) - pad);
}

fn begin_columns(n0: u32) {
  org_lo = origin(quad(n0));
  org_hi = origin(quad(n0 + 4u));
}

fn tap_offset(o: Origin, ky: i32, kx: i32) -> vec4i {
  let iy = o.y + ky;
  let ix = o.x + kx;
  let inside = (o.base >= vec4i(0)) & (iy >= vec4i(0)) & (iy < vec4i(i32(conv.h))) & (ix >= vec4i(0)) &
    (ix < vec4i(i32(conv.w)));
  return select(vec4i(-1), o.base + iy * i32(conv.w) + ix, inside);
}

fn begin_segment(seg: u32) -> bool {
  let ky = i32(seg / conv.k);
  let kx = i32(seg % conv.k);
  off_lo = tap_offset(org_lo, ky, kx);
  off_hi = tap_offset(org_hi, ky, kx);
  return any(off_lo >= vec4i(0)) || any(off_hi >= vec4i(0));
}

fn load_a(m: u32, seg: u32, k: u32, len: u32) -> vec4f {
  // ci past cin reads the zero padding
  return select(vec4f(0.0), weight[((seg * conv.cout + m) * padded4(conv.cin) + k) >> 2u], m < conv.cout);
}

fn gather(off: vec4i, add: u32) -> vec4f {
  let i = vec4u(max(off, vec4i(0))) + add;
  return select(vec4f(0.0), vec4f(x[i.x], x[i.y], x[i.z], x[i.w]), off >= vec4i(0));
}

fn b_row(seg: u32, k: u32, len: u32) -> Cols {
  if (k >= len) {
    return Cols(vec4f(0.0), vec4f(0.0));
  }
  let add = k * conv.h * conv.w;
  return Cols(gather(off_lo, add), gather(off_hi, add));
}

fn store(m: u32, n0: u32, v: Cols, z: u32) {
  let pixels = conv.oh * conv.ow;
  for (var j = 0u; j < 8u; j++) {
    let n = n0 + j;
    if (m < conv.cout && n < conv.batch * pixels) {
      let i = ((n / pixels) * conv.cout + m) * pixels + n % pixels;
      var r = select(v.hi[j % 4u], v.lo[j % 4u], j < 4u);
      if (conv.has_bias != 0u) {
        r += bias[m];
      }
      y[i] = r;
    }
  }
}
