// GEMM core shared by every matmul and convolution kernel: one invocation owns a 16×8 tile of C (16 rows, 8
// columns) in 32 named vec4 accumulators (named: an indexed array would become stack memory, and llvmpipe
// compiles big indexed arrays very slowly).
//
// A driver (_gemm_cpu.wgsl or _gemm_gpu.wgsl) walks the reduction; an operand file (matmul.wgsl, conv2d_*.wgsl)
// says what A, B and C are. The reduction is cut into segments (a convolution tap, an output row, …) so that
// operand files can hoist index arithmetic out of the inner loop. Operand files define:
//   fn segments(z: u32) -> vec2u              // [first, end) segments for split z of the reduction
//   fn seg_len(seg: u32) -> u32               // reduction length of a segment (uniform)
//   fn begin_columns(n0: u32)                 // once per invocation: columns n0..n0+7
//   fn begin_segment(seg: u32) -> bool        // per segment; false when no column of this invocation reads it
//   fn load_a(m: u32, seg: u32, k: u32, len: u32) -> vec4f   // A[m, k..k+3] of the segment, 0 past len or M
//   fn load_b(seg: u32, k: u32, len: u32) -> BBlock           // B[k..k+3, n0..n0+7], 0 past len or N
//   fn store(m: u32, n0: u32, v: Cols, z: u32)                // writes C[m, n0..n0+7] (guards M and N)

// One row of B (or C) at the invocation's 8 columns.
struct Cols { lo: vec4f, hi: vec4f }

// Four consecutive reduction steps of B: rows k..k+3.
struct BBlock { k0: Cols, k1: Cols, k2: Cols, k3: Cols }

var<private> c00: vec4f; var<private> c01: vec4f;
var<private> c10: vec4f; var<private> c11: vec4f;
var<private> c20: vec4f; var<private> c21: vec4f;
var<private> c30: vec4f; var<private> c31: vec4f;
var<private> c40: vec4f; var<private> c41: vec4f;
var<private> c50: vec4f; var<private> c51: vec4f;
var<private> c60: vec4f; var<private> c61: vec4f;
var<private> c70: vec4f; var<private> c71: vec4f;
var<private> c80: vec4f; var<private> c81: vec4f;
var<private> c90: vec4f; var<private> c91: vec4f;
var<private> c100: vec4f; var<private> c101: vec4f;
var<private> c110: vec4f; var<private> c111: vec4f;
var<private> c120: vec4f; var<private> c121: vec4f;
var<private> c130: vec4f; var<private> c131: vec4f;
var<private> c140: vec4f; var<private> c141: vec4f;
var<private> c150: vec4f; var<private> c151: vec4f;

// C[16×8] += A[16 rows × 4 k] · B[4 k × 8 cols].
fn mac(
  a0: vec4f, a1: vec4f, a2: vec4f, a3: vec4f, a4: vec4f, a5: vec4f, a6: vec4f, a7: vec4f,
  a8: vec4f, a9: vec4f, a10: vec4f, a11: vec4f, a12: vec4f, a13: vec4f, a14: vec4f, a15: vec4f,
  b: BBlock,
) {
  let b0 = b.k0;
  let b1 = b.k1;
  let b2 = b.k2;
  let b3 = b.k3;
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
  c80 = fma(vec4f(a8.w), b3.lo, fma(vec4f(a8.z), b2.lo, fma(vec4f(a8.y), b1.lo, fma(vec4f(a8.x), b0.lo, c80))));
  c81 = fma(vec4f(a8.w), b3.hi, fma(vec4f(a8.z), b2.hi, fma(vec4f(a8.y), b1.hi, fma(vec4f(a8.x), b0.hi, c81))));
  c90 = fma(vec4f(a9.w), b3.lo, fma(vec4f(a9.z), b2.lo, fma(vec4f(a9.y), b1.lo, fma(vec4f(a9.x), b0.lo, c90))));
  c91 = fma(vec4f(a9.w), b3.hi, fma(vec4f(a9.z), b2.hi, fma(vec4f(a9.y), b1.hi, fma(vec4f(a9.x), b0.hi, c91))));
  c100 = fma(vec4f(a10.w), b3.lo, fma(vec4f(a10.z), b2.lo, fma(vec4f(a10.y), b1.lo, fma(vec4f(a10.x), b0.lo, c100))));
  c101 = fma(vec4f(a10.w), b3.hi, fma(vec4f(a10.z), b2.hi, fma(vec4f(a10.y), b1.hi, fma(vec4f(a10.x), b0.hi, c101))));
  c110 = fma(vec4f(a11.w), b3.lo, fma(vec4f(a11.z), b2.lo, fma(vec4f(a11.y), b1.lo, fma(vec4f(a11.x), b0.lo, c110))));
  c111 = fma(vec4f(a11.w), b3.hi, fma(vec4f(a11.z), b2.hi, fma(vec4f(a11.y), b1.hi, fma(vec4f(a11.x), b0.hi, c111))));
  c120 = fma(vec4f(a12.w), b3.lo, fma(vec4f(a12.z), b2.lo, fma(vec4f(a12.y), b1.lo, fma(vec4f(a12.x), b0.lo, c120))));
  c121 = fma(vec4f(a12.w), b3.hi, fma(vec4f(a12.z), b2.hi, fma(vec4f(a12.y), b1.hi, fma(vec4f(a12.x), b0.hi, c121))));
  c130 = fma(vec4f(a13.w), b3.lo, fma(vec4f(a13.z), b2.lo, fma(vec4f(a13.y), b1.lo, fma(vec4f(a13.x), b0.lo, c130))));
  c131 = fma(vec4f(a13.w), b3.hi, fma(vec4f(a13.z), b2.hi, fma(vec4f(a13.y), b1.hi, fma(vec4f(a13.x), b0.hi, c131))));
  c140 = fma(vec4f(a14.w), b3.lo, fma(vec4f(a14.z), b2.lo, fma(vec4f(a14.y), b1.lo, fma(vec4f(a14.x), b0.lo, c140))));
  c141 = fma(vec4f(a14.w), b3.hi, fma(vec4f(a14.z), b2.hi, fma(vec4f(a14.y), b1.hi, fma(vec4f(a14.x), b0.hi, c141))));
  c150 = fma(vec4f(a15.w), b3.lo, fma(vec4f(a15.z), b2.lo, fma(vec4f(a15.y), b1.lo, fma(vec4f(a15.x), b0.lo, c150))));
  c151 = fma(vec4f(a15.w), b3.hi, fma(vec4f(a15.z), b2.hi, fma(vec4f(a15.y), b1.hi, fma(vec4f(a15.x), b0.hi, c151))));
}

// Hands the finished 16×8 tile at (m0, n0) to the operand file's store.
fn store_tile(m0: u32, n0: u32, z: u32) {
  store(m0, n0, Cols(c00, c01), z);
  store(m0 + 1u, n0, Cols(c10, c11), z);
  store(m0 + 2u, n0, Cols(c20, c21), z);
  store(m0 + 3u, n0, Cols(c30, c31), z);
  store(m0 + 4u, n0, Cols(c40, c41), z);
  store(m0 + 5u, n0, Cols(c50, c51), z);
  store(m0 + 6u, n0, Cols(c60, c61), z);
  store(m0 + 7u, n0, Cols(c70, c71), z);
  store(m0 + 8u, n0, Cols(c80, c81), z);
  store(m0 + 9u, n0, Cols(c90, c91), z);
  store(m0 + 10u, n0, Cols(c100, c101), z);
  store(m0 + 11u, n0, Cols(c110, c111), z);
  store(m0 + 12u, n0, Cols(c120, c121), z);
  store(m0 + 13u, n0, Cols(c130, c131), z);
  store(m0 + 14u, n0, Cols(c140, c141), z);
  store(m0 + 15u, n0, Cols(c150, c151), z);
}
