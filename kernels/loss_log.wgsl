// Appends one training step's loss values to a history buffer on the GPU, so the host reads the losses of
// many steps in one readback (each readback costs ~12 ms on the software adapter) and can name the exact
// step at which a loss stopped being finite.
struct Params { slot: u32, width: u32 }

@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(0) @binding(1) var<storage, read_write> history: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x < params.width) {
    history[params.slot * params.width + gid.x] = values[gid.x];
  }
}
