// GEMM driver for real GPUs: a 16×8 workgroup owns a 128×128 block of C and stages 16-deep slices of A and B
// in workgroup memory, so each global value is read once per workgroup instead of once per invocation.
// Includes _gemm_core.wgsl; needs an operand file. Every invocation reaches every barrier (no early exit).
#include "_gemm_core.wgsl"

const KC = 16u; // reduction depth staged per barrier pair

var<workgroup> tile_a: array<vec4f, 512>; // [128 rows][4 quads of k]
var<workgroup> tile_b: array<Cols, 256>; // [16 k][16 column octets]

@compute @workgroup_size(16, 8, 1)
fn main(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
) {
  let n0 = gid.x * 8u;
  let m0 = gid.y * 16u;
  let row = lid.y * 16u;
  begin_columns(n0);
  let range = segments(wid.z);
  for (var seg = range.x; seg < range.y; seg++) {
    _ = begin_segment(seg);
    let len = seg_len(seg);
    for (var k0 = 0u; k0 < len; k0 += KC) {
      if (lid.x < 4u) {
        let k = k0 + 4u * lid.x;
        for (var i = 0u; i < 16u; i++) {
          tile_a[(row + i) * 4u + lid.x] = load_a(m0 + i, seg, k, len);
        }
      }
      if (lid.y < 4u) {
        let b = load_b(seg, k0 + 4u * lid.y, len);
        let at = lid.y * 64u + lid.x;
        tile_b[at] = b.k0;
        tile_b[at + 16u] = b.k1;
        tile_b[at + 32u] = b.k2;
        tile_b[at + 48u] = b.k3;
      }
      workgroupBarrier();
      for (var q = 0u; q < 4u; q++) {
        let b = q * 64u + lid.x;
        mac(
          tile_a[row * 4u + q],
          tile_a[(row + 1u) * 4u + q],
          tile_a[(row + 2u) * 4u + q],
          tile_a[(row + 3u) * 4u + q],
          tile_a[(row + 4u) * 4u + q],
          tile_a[(row + 5u) * 4u + q],
          tile_a[(row + 6u) * 4u + q],
          tile_a[(row + 7u) * 4u + q],
          tile_a[(row + 8u) * 4u + q],
          tile_a[(row + 9u) * 4u + q],
          tile_a[(row + 10u) * 4u + q],
          tile_a[(row + 11u) * 4u + q],
          tile_a[(row + 12u) * 4u + q],
          tile_a[(row + 13u) * 4u + q],
          tile_a[(row + 14u) * 4u + q],
          tile_a[(row + 15u) * 4u + q],
          BBlock(tile_b[b], tile_b[b + 16u], tile_b[b + 32u], tile_b[b + 48u]),
        );
      }
      workgroupBarrier();
    }
  }
  store_tile(m0, n0, wid.z);
}
