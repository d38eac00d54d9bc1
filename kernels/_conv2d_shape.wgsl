// Convolution shape and index helpers shared by the three implicit-GEMM operand files (conv2d_forward,
// conv2d_input_grad, conv2d_weight_grad). Layout NCHW, weight [cout, cin, k, k]. Nothing is materialised: each
// operand file gathers A and B straight from the tensors.

struct Conv {
  batch: u32, cin: u32, h: u32, w: u32,
  cout: u32, oh: u32, ow: u32, k: u32,
  stride: u32, pad: u32, splits: u32, has_bias: u32,
  beta: f32, // 1 adds into the output (accumulate), 0 overwrites
}

@group(0) @binding(0) var<uniform> conv: Conv;

// Four consecutive GEMM columns.
fn quad(n: u32) -> vec4u {
  return vec4u(n) + vec4u(0u, 1u, 2u, 3u);
}

// `n` rounded up to a multiple of 4: the row length of a weight re-laid by conv2d_weight_layout.wgsl.
fn padded4(n: u32) -> u32 {
  return (n + 3u) & ~3u;
}

// B[k..k+3] from the operand file's b_row (one reduction step at the invocation's 8 columns).
fn load_b(seg: u32, k: u32, len: u32) -> BBlock {
  return BBlock(b_row(seg, k, len), b_row(seg, k + 1u, len), b_row(seg, k + 2u, len), b_row(seg, k + 3u, len));
}

// Elements r..r+3 of the eight values (a, b), for r in 0..3: an unaligned quad from two aligned vec4 loads.
// Branch-free, since llvmpipe would run every arm of a switch.
fn window4(a: vec4f, b: vec4f, r: u32) -> vec4f {
  let odd = select(vec4f(a.yzw, b.x), vec4f(a.w, b.xyz), r == 3u);
  let even = select(a, vec4f(a.zw, b.xy), r == 2u);
  return select(even, odd, (r & 1u) == 1u);
}
