// GEMM driver for software adapters (llvmpipe/lavapipe): no workgroup memory and no barriers, which are very
// expensive there; each invocation streams its own A rows and B columns. A workgroup is one row of tiles (its
// invocations share A rows). Includes _gemm_core.wgsl; needs an operand file.
#include "_gemm_core.wgsl"

override WG_X: u32 = 64u;

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let n0 = gid.x * 8u;
  let m0 = wid.y * 16u;
  begin_columns(n0);
  let range = segments(wid.z);
  for (var seg = range.x; seg < range.y; seg++) {
    if (!begin_segment(seg)) {
      continue;
    }
    let len = seg_len(seg);
    for (var k = 0u; k < len; k += 4u) {
      mac(
        load_a(m0, seg, k, len),
        load_a(m0 + 1u, seg, k, len),
        load_a(m0 + 2u, seg, k, len),
        load_a(m0 + 3u, seg, k, len),
        load_a(m0 + 4u, seg, k, len),
        load_a(m0 + 5u, seg, k, len),
        load_a(m0 + 6u, seg, k, len),
        load_a(m0 + 7u, seg, k, len),
        load_a(m0 + 8u, seg, k, len),
        load_a(m0 + 9u, seg, k, len),
        load_a(m0 + 10u, seg, k, len),
        load_a(m0 + 11u, seg, k, len),
        load_a(m0 + 12u, seg, k, len),
        load_a(m0 + 13u, seg, k, len),
        load_a(m0 + 14u, seg, k, len),
        load_a(m0 + 15u, seg, k, len),
        load_b(seg, k, len),
      );
    }
  }
  store_tile(m0, n0, wid.z);
}
