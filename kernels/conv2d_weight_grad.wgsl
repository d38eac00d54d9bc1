// Weight gradient of conv2d as implicit GEMM: dW[co, (ci, tap)] = Σ dY[co, (b, oy, ox)] · X[(b, oy, ox), (ci, tap)].
// M = cout, N = cin·k·k, one segment per output row (b, oy), reduction over ox inside it. The long reduction
// (batch·oh·ow) is split over z: split z writes its partial sums to out[z] and gemm_splitk.wgsl adds them.
// Includes _conv2d_shape.wgsl.
#include "_conv2d_shape.wgsl"

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// Four weight columns: channel offset ci·h·w (-1 past N) and tap position relative to the padded corner.
struct Origin { base: vec4i, y: vec4i, x: vec4i }

var<private> org_lo: Origin;
var<private> org_hi: Origin;
var<private> row_lo: vec4i; // per output row: offset of x[b, ci, iy, 0], -1 when the row is in the padding
var<private> row_hi: vec4i;
var<private> dy_row: u32; // per output row: offset of dy[b, 0, oy, 0]

fn segments(z: u32) -> vec2u {
  let total = conv.batch * conv.oh;
  let chunk = (total + conv.splits - 1u) / conv.splits;
  return vec2u(min(z * chunk, total), min((z + 1u) * chunk, total));
}

fn seg_len(seg: u32) -> u32 {
  return conv.ow;
}

fn origin(n: vec4u) -> Origin {
  let taps = conv.k * conv.k;
  let ci = n / taps;
  let t = n % taps;
  let base = select(vec4i(-1), vec4i(ci * conv.h * conv.w), ci < vec4u(conv.cin));
  let pad = vec4i(i32(conv.pad));
  return Origin(base, vec4i(t / conv.k) - pad, vec4i(t % conv.k) - pad);
}

fn begin_columns(n0: u32) {
  org_lo = origin(quad(n0));
  org_hi = origin(quad(n0 + 4u));
}

fn row_offset(o: Origin, b: u32, oy: u32) -> vec4i {
  let iy = o.y + i32(oy * conv.stride);
  let inside = (o.base >= vec4i(0)) & (iy >= vec4i(0)) & (iy < vec4i(i32(conv.h)));
  return select(vec4i(-1), i32(b * conv.cin * conv.h * conv.w) + o.base + iy * i32(conv.w), inside);
}

fn begin_segment(seg: u32) -> bool {
  let b = seg / conv.oh;
  let oy = seg % conv.oh;
  dy_row = (b * conv.cout * conv.oh + oy) * conv.ow;
  row_lo = row_offset(org_lo, b, oy);
  row_hi = row_offset(org_hi, b, oy);
  return any(row_lo >= vec4i(0)) || any(row_hi >= vec4i(0));
}

// Every dy row starts on a vec4 boundary (ow is a multiple of 4).
override ALIGNED_ROWS: bool = false;

// dy[i..i+3] from the one or two vec4s that hold it.
fn dy_quad(i: u32) -> vec4f {
  let lo = dy[i >> 2u];
  if (ALIGNED_ROWS) {
    return lo;
  }
  return window4(lo, dy[(i >> 2u) + 1u], i & 3u);
}

fn load_a(m: u32, seg: u32, k: u32, len: u32) -> vec4f {
  let v = dy_quad(dy_row + m * conv.oh * conv.ow + k);
  return select(vec4f(0.0), v, (quad(k) < vec4u(len)) & vec4<bool>(m < conv.cout));
}

fn gather(row: vec4i, ix: vec4i) -> vec4f {
  let ok = (row >= vec4i(0)) & (ix >= vec4i(0)) & (ix < vec4i(i32(conv.w)));
  let i = vec4u(max(row + ix, vec4i(0)));
  return select(vec4f(0.0), vec4f(x[i.x], x[i.y], x[i.z], x[i.w]), ok);
}

fn b_row(seg: u32, k: u32, len: u32) -> Cols {
  if (k >= len) {
    return Cols(vec4f(0.0), vec4f(0.0));
  }
  let ox = i32(k * conv.stride);
  return Cols(gather(row_lo, org_lo.x + ox), gather(row_hi, org_hi.x + ox));
}

fn store(m: u32, n0: u32, v: Cols, z: u32) {
  let n_total = conv.cin * conv.k * conv.k;
  for (var j = 0u; j < 8u; j++) {
    let n = n0 + j;
    if (m < conv.cout && n < n_total) {
      out[(z * conv.cout + m) * n_total + n] = select(v.hi[j % 4u], v.lo[j % 4u], j < 4u);
    }
  }
}
