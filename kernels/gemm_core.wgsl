// GEMM core shared by every matmul and convolution kernel: one invocation owns an 8×8 tile of C in 16 named
// vec4 accumulators (named, not an indexed array, so llvmpipe keeps them in registers).
//
// A driver (gemm_cpu.wgsl or gemm_gpu.wgsl) walks the reduction; an operand file (matmul.wgsl, conv2d_*.wgsl)
// says what A, B and C are. The reduction is cut into segments (a convolution tap, an output row, …) so that
// operand files can hoist index arithmetic out of the inner loop. Operand files define:
//   fn segments(z: u32) -> vec2u              // [first, end) segments for split z of the reduction
//   fn seg_len(seg: u32) -> u32               // reduction length of a segment (uniform)
//   fn begin_columns(n0: u32)                 // once per invocation: columns n0..n0+7
//   fn begin_segment(seg: u32) -> bool        // per segment; false when no column of this invocation reads it
//   fn load_a(m: u32, seg: u32, k: u32, len: u32) -> vec4f   // A[m, k..k+3] of the segment, 0 past len or M
//   fn load_b(seg: u32, k: u32, len: u32) -> Cols             // B[k, n0..n0+7], 0 past len or N
//   fn store(m: u32, n0: u32, v: Cols, z: u32)                // writes C[m, n0..n0+7] (guards M and N)

struct Cols { lo: vec4f, hi: vec4f }

var<private> c00: vec4f; var<private> c01: vec4f;
var<private> c10: vec4f; var<private> c11: vec4f;
var<private> c20: vec4f; var<private> c21: vec4f;
var<private> c30: vec4f; var<private> c31: vec4f;
var<private> c40: vec4f; var<private> c41: vec4f;
var<private> c50: vec4f; var<private> c51: vec4f;
var<private> c60: vec4f; var<private> c61: vec4f;
var<private> c70: vec4f; var<private> c71: vec4f;


// C[8×8] += A[8 rows × 4 k] · B[4 k × 8 cols].
fn mac(a0: vec4f, a1: vec4f, a2: vec4f, a3: vec4f, a4: vec4f, a5: vec4f, a6: vec4f, a7: vec4f,
       b0: Cols, b1: Cols, b2: Cols, b3: Cols) {
  c00 = fma(vec4f(a0.w), b3.lo, fma(vec4f(a0.z), b2.lo, fma(vec4f(a0.y), b1.lo, fma(vec4f(a0.x), b0.lo, c00))));
  c01 = fma(vec4f(a0.w), b3.hi, fma(vec4f(a0.z), b2.hi, fma(vec4f(a0.y), b1.hi, fma(vec4f(a0.x), b0.hi, c01))));
  c10 = fma(vec4f(a1.w), b3.lo, fma(vec4f(a1.z), b2.lo, fma(vec4f(a1.y), b1.lo, fma(vec4f(a1.x), b0.lo, c10))));
  c11 = fma(vec4f(a1.w), b3.hi, fma(vec4f(a1.z), b2.hi, fma(vec4f(a1.y), b1.hi, fma(vec4f(a1.x), b0.hi, c11))));
  c20 = fma(vec4f(a2.w), b3.lo, fma(vec4f(a2.z), b2.lo, fma(vec4f(a2.y), b1.lo, fma(vec4f(a2.x), b0.lo, c20))));
  c21 = fma(vec4f(a2.w), b3.hi, fma(vec4f(a2.z), b2.hi, fma(vec4f(a2.y), b1.hi, fma(vec4f(a2.x), b0.hi, c21))));
  c30 = fma(vec4f(a3.w), b3.lo, fma(vec4f(a3.z), b2.lo, fma(vec4f(a3.y), b1.lo, fma(vec4f(a3.x), b0.lo, c30))));
  c31 = fma(vec4f(a3.w), b3.hi, fma(vec4f(a3.z), b2.hi, fma(vec4f(a3.y), b1.hi, fma(vec4f(a3.x), b0.hi, c31))));
  c40 = fma(vec4f(a4.w), b3.lo, fma(vec4f(a4.z), b2.lo, fma(vec4f(a4.y), b1.lo, fma(vec4f(a4.x), b0.lo, c40))));
  c41 = fma(vec4f(a4.w), b3.hi, fma(vec4f(a4.z), b2.hi, fma(vec4f(a4.y), b1.hi, fma(vec4f(a4.x), b0.hi, c41))));
  c50 = fma(vec4f(a5.w), b3.lo, fma(vec4f(a5.z), b2.lo, fma(vec4f(a5.y), b1.lo, fma(vec4f(a5.x), b0.lo, c50))));
  c51 = fma(vec4f(a5.w), b3.hi, fma(vec4f(a5.z), b2.hi, fma(vec4f(a5.y), b1.hi, fma(vec4f(a5.x), b0.hi, c51))));
  c60 = fma(vec4f(a6.w), b3.lo, fma(vec4f(a6.z), b2.lo, fma(vec4f(a6.y), b1.lo, fma(vec4f(a6.x), b0.lo, c60))));
  c61 = fma(vec4f(a6.w), b3.hi, fma(vec4f(a6.z), b2.hi, fma(vec4f(a6.y), b1.hi, fma(vec4f(a6.x), b0.hi, c61))));
  c70 = fma(vec4f(a7.w), b3.lo, fma(vec4f(a7.z), b2.lo, fma(vec4f(a7.y), b1.lo, fma(vec4f(a7.x), b0.lo, c70))));
  c71 = fma(vec4f(a7.w), b3.hi, fma(vec4f(a7.z), b2.hi, fma(vec4f(a7.y), b1.hi, fma(vec4f(a7.x), b0.hi, c71))));
}

// Hands the finished 8×8 tile at (m0, n0) to the operand file's store.
fn store_tile(m0: u32, n0: u32, z: u32) {
  store(m0, n0, Cols(c00, c01), z);
  store(m0 + 1u, n0, Cols(c10, c11), z);
  store(m0 + 2u, n0, Cols(c20, c21), z);
  store(m0 + 3u, n0, Cols(c30, c31), z);
  store(m0 + 4u, n0, Cols(c40, c41), z);
  store(m0 + 5u, n0, Cols(c50, c51), z);
  store(m0 + 6u, n0, Cols(c60, c61), z);
  store(m0 + 7u, n0, Cols(c70, c71), z);
}
