// Fills a float buffer with one value. Used to clear gradient accumulators and to set constants.
struct Params { count: u32, value: f32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i < params.count) {
    out[i] = params.value;
  }
}
