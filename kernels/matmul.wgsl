// GEMM operands for a plain row-major matmul: C[M,N] = alpha·op(A)·op(B) + beta·C (+ bias[n]), where op
// transposes when TRANS_A / TRANS_B is set (A stored [K,M], B stored [N,K]). One segment spans all of K.
// Composed with gemm_core.wgsl and a driver.

struct Params { m: u32, n: u32, k: u32, has_bias: u32, alpha: f32, beta: f32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
// M and N are multiples of 8 and K of 4: no bounds masks needed.
override ALIGNED: bool = false;

var<private> col: vec4u; // first column of each column quad: (n0, n0 + 4, -, -)

fn segments(z: u32) -> vec2u {
  return vec2u(0u, 1u);
}

fn seg_len(seg: u32) -> u32 {
  return params.k;
}

fn begin_columns(n0: u32) {
  col = vec4u(n0, n0 + 4u, 0u, 0u);
}

fn begin_segment(seg: u32) -> bool {
  return true;
}

fn load_a(m: u32, seg: u32, k: u32, len: u32) -> vec4f {
  let ks = vec4u(k) + vec4u(0u, 1u, 2u, 3u);
  var v: vec4f;
  if (TRANS_A) {
    v = vec4f(a[ks.x * params.m + m], a[ks.y * params.m + m], a[ks.z * params.m + m], a[ks.w * params.m + m]);
  } else {
    let i = m * params.k + k;
    v = vec4f(a[i], a[i + 1u], a[i + 2u], a[i + 3u]);
  }
  if (ALIGNED) {
    return v;
  }
  return select(vec4f(0.0), v, (ks < vec4u(len)) & vec4<bool>(m < params.m));
}

// B[k, n..n+3]: zero past N or K.
fn load_b4(k: u32, n: u32) -> vec4f {
  let ns = vec4u(n) + vec4u(0u, 1u, 2u, 3u);
  var v: vec4f;
  if (TRANS_B) {
    v = vec4f(b[ns.x * params.k + k], b[ns.y * params.k + k], b[ns.z * params.k + k], b[ns.w * params.k + k]);
  } else {
    let i = k * params.n + n;
    v = vec4f(b[i], b[i + 1u], b[i + 2u], b[i + 3u]);
  }
  if (ALIGNED) {
    return v;
  }
  return select(vec4f(0.0), v, (ns < vec4u(params.n)) & vec4<bool>(k < params.k));
}

fn load_b(seg: u32, k: u32, len: u32) -> Cols {
  return Cols(load_b4(k, col.x), load_b4(k, col.y));
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
