// Neural-guidance loss L = (1 − α)·CE(logits, labels) + α·MSE(head, target), CE averaged over the batch and
// MSE over all batch·dim head values; includes _softmax_rows.wgsl. α and the gradient scale live in a
// uniform the host rewrites between steps.
// Forward: forward_rows (one invocation per row) then forward_total (one invocation:
// out = [total, ce, mse, correct]). Backward: one dispatch; the first `batch` invocations write a dlogits row
// each, the next batch·dim one dhead value each.
#include "_softmax_rows.wgsl"

struct Params {
  batch: u32,
  classes: u32,
  dim: u32,
  alpha: f32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read> head: array<f32>;
@group(0) @binding(3) var<storage, read> neural_target: array<f32>;
@group(0) @binding(4) var<storage, read_write> rows: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(5) var<storage, read_write> dhead: array<f32>;
@group(0) @binding(6) var<uniform> p_back: Params;

@group(0) @binding(0) var<storage, read> rows_in: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p_total: Params;

@compute @workgroup_size(64)
fn forward_rows(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= p.batch) { return; }
  let ce = ce_row(row, p.classes);
  var sse = 0.0;
  for (var d = row * p.dim; d < (row + 1u) * p.dim; d++) {
    let e = head[d] - neural_target[d];
    sse += e * e;
  }
  rows[3u * row] = ce.loss;
  rows[3u * row + 1u] = ce.correct;
  rows[3u * row + 2u] = sse;
}

@compute @workgroup_size(1)
fn forward_total() {
  var ce = 0.0;
  var correct = 0.0;
  var sse = 0.0;
  for (var row = 0u; row < p_total.batch; row++) {
    ce += rows_in[3u * row];
    correct += rows_in[3u * row + 1u];
    sse += rows_in[3u * row + 2u];
  }
  ce /= f32(p_total.batch);
  let mse = sse / f32(p_total.batch * p_total.dim);
  out[0] = (1.0 - p_total.alpha) * ce + p_total.alpha * mse;
  out[1] = ce;
  out[2] = mse;
  out[3] = correct;
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = gid.x + gid.y * groups.x * 64u;
  let n = p_back.batch;
  if (t < n) {
    let scale = p_back.scale * (1.0 - p_back.alpha) / f32(n);
    ce_row_grad(t, p_back.classes, ce_row(t, p_back.classes).lse, scale);
  } else if (t < n + n * p_back.dim) {
    let d = t - n;
    dhead[d] = p_back.scale * p_back.alpha * 2.0 * (head[d] - neural_target[d]) / f32(n * p_back.dim);
  }
}
