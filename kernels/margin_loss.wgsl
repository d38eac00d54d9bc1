// The Carlini–Wagner / Square margin as an attacker's loss (includes _logit_rows.wgsl), per example:
// L = max_{j≠y} z_j − z_y (so larger is more adversarial; L ≥ 0 ⇔ the margin z_y − max_{j≠y} z_j ≤ 0),
// its gradient w.r.t. the logits and 1 where misclassified.
#include "_logit_rows.wgsl"

struct Params { batch: u32, classes: u32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> fooled: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= p.batch) { return; }
  let base = row * p.classes;
  let label = labels[row];
  let other = row_argmax_other(base, p.classes, label);
  loss[row] = logits[base + other] - logits[base + label];
  fooled[row] = select(0.0, 1.0, row_argmax(base, p.classes) != label);
  for (var k = 0u; k < p.classes; k++) { dlogits[base + k] = 0.0; }
  dlogits[base + other] = 1.0;
  dlogits[base + label] = -1.0;
}
