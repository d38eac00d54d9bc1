// Split-K epilogue: out[i] = Σ_z partial[z·count + i], adding up the slices a split GEMM wrote separately.

struct Params { count: u32, splits: u32 }

@group(0) @binding(0) var<storage, read> partial: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i < params.count) {
    var sum = 0.0;
    for (var z = 0u; z < params.splits; z++) {
      sum += partial[z * params.count + i];
    }
    out[i] = sum;
  }
}
