// Bias gradient: out[c] = Σ_o Σ_p g[(o·channels + c)·inner + p], the sum of the output gradient over every
// axis but the channel (linear: inner = 1; conv2d: outer = batch, inner = oh·ow). One invocation per channel.

struct Params { outer: u32, channels: u32, inner: u32 }

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= params.channels) {
    return;
  }
  var total = 0.0;
  for (var o = 0u; o < params.outer; o++) {
    // per-row partial sums keep the fp32 error of long reductions down
    var row = 0.0;
    let base = (o * params.channels + c) * params.inner;
    for (var p = 0u; p < params.inner; p++) {
      row += g[base + p];
    }
    total += row;
  }
  out[c] = total;
}
