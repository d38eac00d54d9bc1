// Per-example softmax cross-entropy for attacks (includes _logit_rows.wgsl): one invocation per row
// writes the loss, the gradient w.r.t. the logits (not averaged over the batch: each example is attacked on
// its own) and 1 where the example is misclassified (first maximum != label).
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
  let arg = row_argmax(base, p.classes);
  let top = logits[base + arg];
  var sum = 0.0;
  for (var k = 0u; k < p.classes; k++) { sum += exp(logits[base + k] - top); }
  let lse = top + log(sum);
  for (var k = 0u; k < p.classes; k++) {
    dlogits[base + k] = exp(logits[base + k] - lse) - select(0.0, 1.0, k == label);
  }
  loss[row] = lse - logits[base + label];
  fooled[row] = select(0.0, 1.0, arg != label);
}
