// Mean softmax cross-entropy over a batch with the count of correct argmax predictions, and its gradient.
// Includes _softmax_rows.wgsl. Forward: forward_rows (one invocation per row) then forward_total (one
// invocation: out = [mean loss, correct]). Backward: one invocation per row writes dlogits.
#include "_softmax_rows.wgsl"

struct Params { batch: u32, classes: u32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> rows: array<f32>;
@group(0) @binding(2) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@group(0) @binding(0) var<storage, read> rows_in: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p_total: Params;

@compute @workgroup_size(64)
fn forward_rows(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= p.batch) { return; }
  let ce = ce_row(row, p.classes);
  rows[2u * row] = ce.loss;
  rows[2u * row + 1u] = ce.correct;
}

@compute @workgroup_size(1)
fn forward_total() {
  var loss = 0.0;
  var correct = 0.0;
  for (var row = 0u; row < p_total.batch; row++) {
    loss += rows_in[2u * row];
    correct += rows_in[2u * row + 1u];
  }
  out[0] = loss / f32(p_total.batch);
  out[1] = correct;
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= p.batch) { return; }
  ce_row_grad(row, p.classes, ce_row(row, p.classes).lse, 1.0 / f32(p.batch));
}
