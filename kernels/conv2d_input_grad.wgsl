// Input gradient of conv2d as implicit GEMM: dX[ci, (b, iy, ix)] (+)= Σ Wᵀ[ci, (tap, co)] · dY[(tap, co), (b, oy, ox)]
// where oy = (iy + pad - ky) / stride when that divides exactly. M = cin, N = batch·h·w, one segment per tap,
// reduction over co inside it. Needs conv2d_shape.wgsl.

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

fn origin(n: vec4u) -> Origin {
  let pixels = conv.h * conv.w;
  let b = n / pixels;
  let r = n % pixels;
  let base = select(vec4i(-1), vec4i(b * conv.cout * conv.oh * conv.ow), b < vec4u(conv.batch));
  let pad = vec4i(i32(conv.pad));
  return Origin(base, vec4i(r / conv.w) + pad, vec4i(r % conv.w) + pad);
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

fn store(m: u32, n0: u32, v: Cols, z: u32) {
  let pixels = conv.h * conv.w;
  for (var j = 0u; j < 8u; j++) {
    let n = n0 + j;
    if (m < conv.cin && n < conv.batch * pixels) {
      let i = ((n / pixels) * conv.cin + m) * pixels + n % pixels;
      var r = select(v.hi[j % 4u], v.lo[j % 4u], j < 4u);
      if (conv.beta != 0.0) {
        r += conv.beta * dx[i];
      }
      dx[i] = r;
    }
  }
}
