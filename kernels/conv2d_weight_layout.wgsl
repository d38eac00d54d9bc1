// Re-lays a conv weight [cout, cin, k, k] as [tap][row][col], cols zero-padded to a multiple of 4, so the
// implicit GEMMs read it in vec4s (one llvmpipe load instead of four strided ones). Forward wants rows = cout,
// cols = cin; the input gradient (transposed = 1) wants rows = cin, cols = cout.

struct Params { cout: u32, cin: u32, taps: u32, transposed: u32 }

@group(0) @binding(0) var<storage, read> weight: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  let flip = params.transposed != 0u;
  let rows = select(params.cout, params.cin, flip);
  let cols = select(params.cin, params.cout, flip);
  let padded = (cols + 3u) & ~3u;
  if (i >= params.taps * rows * padded) {
    return;
  }
  let col = i % padded;
  let row = (i / padded) % rows;
  let tap = i / (padded * rows);
  var v = 0.0;
  if (col < cols) {
    let co = select(row, col, flip);
    let ci = select(col, row, flip);
    v = weight[(co * params.cin + ci) * params.taps + tap];
  }
  out[i] = v;
}
