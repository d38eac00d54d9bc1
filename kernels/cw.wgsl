// Carlini–Wagner L2 (Carlini & Wagner 2017) as in Foolbox, includes _logit_rows.wgsl. The attack
// optimises δ in tanh space: x = ½·tanh(w0 + δ) + ½ with w0 = artanh(0.999999·(2·x_clean − 1)), minimising
// c·max(z_y − max_{j≠y} z_j + κ, 0) + ‖x − x_rec‖² with Adam (β1 0.9, β2 0.999, ε 1e-8).
//   map:   x = ½·tanh(w0 + δ) + ½ (the model input)
//   rows:  per example: the hinge term c·max(margin + κ, 0) into rows[2r], 1 into rows[2r + 1] when
//          misclassified (argmax of z + κ·e_y is not y), and dlogits = c·[margin + κ > 0]·(e_y − e_m);
//          example 0 also advances Adam's step count
//   adam:  g = (∇ₓ + 2(x − x_rec))·½(1 − tanh²(w0 + δ)); Adam step on δ
//   track: keep the closest misclassified x per example (flag for a row copy), and whether any was found
#include "_logit_rows.wgsl"

struct RowParams { batch: u32, classes: u32, kappa: f32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read> consts: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<storage, read_write> rows: array<f32>;
@group(0) @binding(5) var<storage, read_write> counter: array<f32>;
@group(0) @binding(6) var<uniform> pr: RowParams;

@compute @workgroup_size(64)
fn rows_main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= pr.batch) { return; }
  if (row == 0u) { counter[0] += 1.0; }
  let base = row * pr.classes;
  let y = labels[row];
  let other = row_argmax_other(base, pr.classes, y);
  let margin = logits[base + y] - logits[base + other];
  let hinged = margin + pr.kappa > 0.0;
  rows[2u * row] = consts[row] * max(margin + pr.kappa, 0.0);
  // with κ added to z_y, y stays the argmax unless another logit beats z_y + κ (first maximum wins ties)
  var fooled = false;
  for (var k = 0u; k < pr.classes; k++) {
    let v = logits[base + k];
    let top = logits[base + y] + pr.kappa;
    fooled = fooled || (k < y && v >= top) || (k > y && v > top);
  }
  rows[2u * row + 1u] = select(0.0, 1.0, fooled);
  for (var k = 0u; k < pr.classes; k++) { dlogits[base + k] = 0.0; }
  if (hinged) {
    dlogits[base + y] = consts[row];
    dlogits[base + other] = -consts[row];
  }
}

struct ElementParams { count: u32, stepsize: f32 }

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> w0: array<f32>;
@group(0) @binding(2) var<storage, read> delta_in: array<f32>;
@group(0) @binding(3) var<uniform> pm: ElementParams;

fn element(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256)
fn map(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = element(gid, groups);
  if (i >= pm.count) { return; }
  x[i] = 0.5 * tanh(w0[i] + delta_in[i]) + 0.5;
}

@group(0) @binding(0) var<storage, read_write> delta: array<f32>;
@group(0) @binding(1) var<storage, read_write> m: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<storage, read> dx: array<f32>;
@group(0) @binding(4) var<storage, read> xa: array<f32>;
@group(0) @binding(5) var<storage, read> xrec: array<f32>;
@group(0) @binding(6) var<storage, read> wa: array<f32>;
@group(0) @binding(7) var<storage, read> step_count: array<f32>;
@group(0) @binding(8) var<uniform> pa: ElementParams;

@compute @workgroup_size(256)
fn adam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = element(gid, groups);
  if (i >= pa.count) { return; }
  let t = tanh(wa[i] + delta[i]);
  let g = (dx[i] + 2.0 * (xa[i] - xrec[i])) * 0.5 * (1.0 - t * t);
  m[i] = 0.9 * m[i] + 0.1 * g;
  v[i] = 0.999 * v[i] + 0.001 * g * g;
  let n = step_count[0];
  let m_hat = m[i] / (1.0 - pow(0.9, n));
  let v_hat = v[i] / (1.0 - pow(0.999, n));
  delta[i] -= pa.stepsize * m_hat / (sqrt(v_hat) + 1e-8);
}

struct TrackParams { batch: u32 }

@group(0) @binding(0) var<storage, read> track_rows: array<f32>;
@group(0) @binding(1) var<storage, read> norms: array<f32>;
@group(0) @binding(2) var<storage, read_write> best: array<f32>;
@group(0) @binding(3) var<storage, read_write> found: array<f32>;
@group(0) @binding(4) var<storage, read_write> flag: array<f32>;
@group(0) @binding(5) var<uniform> pt: TrackParams;

@compute @workgroup_size(64)
fn track(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= pt.batch) { return; }
  let fooled = track_rows[2u * row + 1u] != 0.0;
  let closer = fooled && norms[row] < best[row];
  if (closer) { best[row] = norms[row]; }
  if (fooled) { found[row] = 1.0; }
  flag[row] = select(0.0, 1.0, closer);
}
