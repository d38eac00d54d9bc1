// Per-example norms of a [batch, dim] buffer, or of its difference from another: one invocation per row.
// p = 1, 2, or 0 for the maximum norm. With `subtract` = 0 the second buffer is ignored (bind the first twice).
struct Params { batch: u32, dim: u32, p: u32, subtract: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> norms: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= params.batch) { return; }
  let base = row * params.dim;
  var acc = 0.0;
  for (var i = 0u; i < params.dim; i++) {
    let v = abs(a[base + i] - select(0.0, b[base + i], params.subtract == 1u));
    if (params.p == 0u) {
      acc = max(acc, v);
    } else if (params.p == 1u) {
      acc += v;
    } else {
      acc += v * v;
    }
  }
  norms[row] = select(acc, sqrt(acc), params.p == 2u);
}
