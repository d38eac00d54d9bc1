// Difference-of-logits-ratio losses of APGD (Croce & Hein 2020; includes _logit_rows.wgsl), value and
// gradient w.r.t. the logits per example, plus 1 where misclassified. π sorts the row's logits descending.
//   dlr:          L = −(z_y − max_{j≠y} z_j) / (z_π1 − z_π3 + 1e-12)
//   dlr_targeted: L = −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2 + 1e-12)
// Gradients follow autograd through the sort: the denominator's terms receive N/D² with their signs.
#include "_logit_rows.wgsl"

struct Params { batch: u32, classes: u32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> fooled: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;
@group(0) @binding(6) var<storage, read> targets: array<u32>;

fn begin_row(base: u32, label: u32, row: u32) {
  for (var k = 0u; k < p.classes; k++) { dlogits[base + k] = 0.0; }
  fooled[row] = select(0.0, 1.0, row_argmax(base, p.classes) != label);
}

@compute @workgroup_size(64)
fn dlr(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= p.batch) { return; }
  let base = row * p.classes;
  let label = labels[row];
  let top = row_top4(base, p.classes);
  let other = row_argmax_other(base, p.classes, label);
  let n = logits[base + label] - logits[base + other];
  let d = logits[base + top[0]] - logits[base + top[2]] + 1e-12;
  begin_row(base, label, row);
  loss[row] = -n / d;
  dlogits[base + label] -= 1.0 / d;
  dlogits[base + other] += 1.0 / d;
  dlogits[base + top[0]] += n / (d * d);
  dlogits[base + top[2]] -= n / (d * d);
}

@compute @workgroup_size(64)
fn dlr_targeted(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= p.batch) { return; }
  let base = row * p.classes;
  let label = labels[row];
  let t = targets[row];
  let top = row_top4(base, p.classes);
  let n = logits[base + label] - logits[base + t];
  let d = logits[base + top[0]] - 0.5 * (logits[base + top[2]] + logits[base + top[3]]) + 1e-12;
  begin_row(base, label, row);
  loss[row] = -n / d;
  dlogits[base + label] -= 1.0 / d;
  dlogits[base + t] += 1.0 / d;
  dlogits[base + top[0]] += n / (d * d);
  dlogits[base + top[2]] -= 0.5 * n / (d * d);
  dlogits[base + top[3]] -= 0.5 * n / (d * d);
}
