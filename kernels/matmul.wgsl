// GEMM operands for a plain row-major matmul: C[M,N] = alpha·op(A)·op(B) + beta·C (+ bias[n]), where op
// transposes when TRANS_A / TRANS_B is set (A stored [K,M], B stored [N,K]). One segment spans all of K.
// A and B are read as vec4s: on llvmpipe every storage load costs a loop over the SIMD lanes, so one vec4 load
// beats four scalar ones. Linked with a driver, which includes _gemm_core.wgsl.

struct Params { m: u32, n: u32, k: u32, has_bias: u32, alpha: f32, beta: f32 }

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
// Stored rows of A / B are whole vec4s (their length is a multiple of 4), so quads can be loaded at once.
override VEC_A: bool = false;
override VEC_B: bool = false;

var<private> col: u32; // first of this invocation's 8 columns

fn a_at(i: u32) -> f32 {
  return a[i >> 2u][i & 3u];
}

fn b_at(i: u32) -> f32 {
  return b[i >> 2u][i & 3u];
}

fn segments(z: u32) -> vec2u {
  return vec2u(0u, 1u);
}

fn seg_len(seg: u32) -> u32 {
  return params.k;
}

fn begin_columns(n0: u32) {
  col = n0;
}

fn begin_segment(seg: u32) -> bool {
  return true;
}

fn load_a(m: u32, seg: u32, k: u32, len: u32) -> vec4f {
  let ks = vec4u(k) + vec4u(0u, 1u, 2u, 3u);
  var v: vec4f;
  if (TRANS_A) {
    let i = ks * params.m + m;
    v = vec4f(a_at(i.x), a_at(i.y), a_at(i.z), a_at(i.w));
  } else if (VEC_A) {
    v = a[(m * params.k + k) >> 2u];
  } else {
    let i = m * params.k + k;
    v = vec4f(a_at(i), a_at(i + 1u), a_at(i + 2u), a_at(i + 3u));
  }
  return select(vec4f(0.0), v, (ks < vec4u(len)) & vec4<bool>(m < params.m));
}

// op(B)[k, n..n+3], zero past N or K.
fn b_quad(k: u32, n: u32) -> vec4f {
  let ns = vec4u(n) + vec4u(0u, 1u, 2u, 3u);
  var v: vec4f;
  if (TRANS_B) {
    let i = ns * params.k + k;
    v = vec4f(b_at(i.x), b_at(i.y), b_at(i.z), b_at(i.w));
  } else if (VEC_B) {
    v = b[(k * params.n + n) >> 2u];
  } else {
    let i = k * params.n + n;
    v = vec4f(b_at(i), b_at(i + 1u), b_at(i + 2u), b_at(i + 3u));
  }
  return select(vec4f(0.0), v, (ns < vec4u(params.n)) & vec4<bool>(k < params.k));
}

fn b_row(k: u32) -> Cols {
  return Cols(b_quad(k, col), b_quad(k, col + 4u));
}

// Transposed B with whole-vec4 rows: each stored row holds op(B)[k..k+3, n] for one column n.
fn b_column(k: u32, n: u32) -> vec4f {
  return select(vec4f(0.0), b[(n * params.k + k) >> 2u], n < params.n);
}

fn load_b(seg: u32, k: u32, len: u32) -> BBlock {
  if (TRANS_B && VEC_B) {
    let lo = transpose(mat4x4f(b_column(k, col), b_column(k, col + 1u), b_column(k, col + 2u), b_column(k, col + 3u)));
    let hi = transpose(
      mat4x4f(b_column(k, col + 4u), b_column(k, col + 5u), b_column(k, col + 6u), b_column(k, col + 7u)),
    );
    return BBlock(Cols(lo[0], hi[0]), Cols(lo[1], hi[1]), Cols(lo[2], hi[2]), Cols(lo[3], hi[3]));
  }
  return BBlock(b_row(k), b_row(k + 1u), b_row(k + 2u), b_row(k + 3u));
}

fn store4(m: u32, n: u32, v: vec4f) {
  for (var j = 0u; j < 4u; j++) {
    if (n + j < params.n) {
      let i = m * params.n + n + j;
      var r = params.alpha * v[j];
      if (params.has_bias != 0u) {
        r += bias[n + j];
      }
      if (params.beta != 0.0) {
        r += params.beta * c[i];
      }
      c[i] = r;
    }
  }
}

fn store(m: u32, n0: u32, v: Cols, z: u32) {
  if (m < params.m) {
    store4(m, n0, v.lo);
    store4(m, n0 + 4u, v.hi);
  }
}
