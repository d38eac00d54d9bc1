// DeepFool (Moosavi-Dezfooli et al. 2016) as in Foolbox, includes _logit_rows.wgsl. Per step, for each
// candidate class k (the clean top-10 but the first): seed ∇(z_k − z_0) → backward → ‖w_k‖ → select the
// closest linearised boundary; then update adds (d + 1e-4)·w/‖w‖₂ (L2) or (d + 1e-4)·sign(w) (L∞) to the
// total perturbation and sets x = clamp(x0 + (1 + overshoot)·p_total), the overshoot on the total as in the
// paper. Examples freeze once misclassified. `rows` holds 4 floats per example:
//   0 active (1 until misclassified)   1 z_k − z_0 of the current candidate   2 best distance d   3 its ‖w‖
#include "_logit_rows.wgsl"

struct Params { batch: u32, classes: u32, candidates: u32, slot: u32, linf: u32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> cands: array<u32>;
@group(0) @binding(2) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(3) var<storage, read_write> rows: array<f32>;
@group(0) @binding(4) var<storage, read> gnorm: array<f32>;
@group(0) @binding(5) var<storage, read_write> flag: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

fn bind_all() {
  _ = logits[0];
  _ = cands[0];
  _ = dlogits[0];
  _ = gnorm[0];
  _ = flag[0];
}

// Freezes examples the current x misclassifies; resets the candidate search.
@compute @workgroup_size(64)
fn begin(@builtin(global_invocation_id) gid: vec3u) {
  bind_all();
  let row = gid.x;
  if (row >= p.batch) { return; }
  let correct = row_argmax(row * p.classes, p.classes) == cands[row * p.candidates];
  rows[4u * row] = select(0.0, rows[4u * row], correct);
  rows[4u * row + 2u] = 3.4e38;
}

// dlogits = e_k − e_0 for candidate `slot`; rows[1] = z_k − z_0.
@compute @workgroup_size(64)
fn seed(@builtin(global_invocation_id) gid: vec3u) {
  bind_all();
  let row = gid.x;
  if (row >= p.batch) { return; }
  let base = row * p.classes;
  let k = cands[row * p.candidates + p.slot];
  let first = cands[row * p.candidates];
  for (var j = 0u; j < p.classes; j++) { dlogits[base + j] = 0.0; }
  dlogits[base + k] = 1.0;
  dlogits[base + first] = -1.0;
  rows[4u * row + 1u] = logits[base + k] - logits[base + first];
}

// With gnorm = ‖w_k‖ (‖·‖₂, or ‖·‖₁ for L∞): d = |z_k − z_0| / (gnorm + 1e-8); keep the first minimum.
@compute @workgroup_size(64)
fn select_closest(@builtin(global_invocation_id) gid: vec3u) {
  bind_all();
  let row = gid.x;
  if (row >= p.batch) { return; }
  let d = abs(rows[4u * row + 1u]) / (gnorm[row] + 1e-8);
  let closer = d < rows[4u * row + 2u];
  if (closer) {
    rows[4u * row + 2u] = d;
    rows[4u * row + 3u] = gnorm[row];
  }
  flag[row] = select(0.0, 1.0, closer);
}

struct UpdateParams { batch: u32, dim: u32, linf: u32, overshoot: f32, lo: f32, hi: f32 }

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> x0: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> state: array<f32>;
@group(0) @binding(4) var<storage, read_write> total: array<f32>;
@group(0) @binding(5) var<uniform> u: UpdateParams;

@compute @workgroup_size(256)
fn update(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= u.batch * u.dim) { return; }
  let row = i / u.dim;
  if (state[4u * row] == 0.0) { return; }
  let d = state[4u * row + 2u] + 1e-4;
  let step = select(d * w[i] / (state[4u * row + 3u] + 1e-8), d * sign(w[i]), u.linf == 1u);
  total[i] += step;
  x[i] = clamp(x0[i] + (1.0 + u.overshoot) * total[i], u.lo, u.hi);
}
