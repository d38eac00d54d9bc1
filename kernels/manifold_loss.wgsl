// Manifold-guidance loss (docs/method.md#manifold-guidance) L = w_ce·CE + w_rad·L_rad + w_dim·L_dim on a batch of head outputs
// h [batch, dim] with labels, against stored per-class centres μ [classes, dim], radii r [classes] and
// orthonormal bases U [classes, rank, dim] (unused basis rows are zero). Includes _softmax_rows.wgsl.
// Rows whose label is ≥ classes take no part in the manifold terms (their CE is NaN, see _softmax_rows).
//   L_rad = mean over classes present of ReLU(s_c − r_c), s_c = √(mean_{i∈c} ‖h_i − μ_c‖²);
//   L_dim = mean over classes with ≥ 2 rows of mean_{i∈c} sign·ρ_i, ρ_i = ‖(I − U_cᵀU_c) x̃_i‖_ε / ‖x̃_i‖_ε,
//           x̃_i = h_i − (batch mean of class c), ‖v‖_ε = √(‖v‖² + ε²); VAF_i = 1 − ρ_i.
// Forward: class_means (classes·dim invocations) → forward_rows (batch) → forward_total (1), which also leaves
// the per-class gradient coefficients for the backward: ce_grads (batch), row_grads (batch) →
// class_means of g (classes·dim) → head_grads (batch·dim). The backward reads the forward's scratch, so it
// must follow it in the same step.
#include "_softmax_rows.wgsl"

struct Params {
  batch: u32,
  classes: u32,
  dim: u32,
  rank: u32,
  w_ce: f32,
  w_rad: f32,
  w_dim: f32,
  dim_sign: f32,
  scale: f32,
}

const EPS = 1e-6;
// Per-row scratch: [‖h − μ‖², ‖r‖_ε, ‖x̃‖_ε, ce loss, ce correct, lse].
const ROW = 6u;
// Per-class scratch: [count, radius coefficient, dim coefficient].
const CLS = 3u;

// class_means: out[c, k] = mean of x[i, k] over the rows of class c (0 when absent); x is the head outputs in
// the forward and the row gradients g in the backward.
@group(0) @binding(0) var<storage, read> cm_x: array<f32>;
@group(0) @binding(1) var<storage, read> cm_labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> cm_mean: array<f32>;
@group(0) @binding(3) var<uniform> cm_p: Params;

@compute @workgroup_size(64)
fn class_means(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = gid.x + gid.y * groups.x * 64u;
  if (t >= cm_p.classes * cm_p.dim) { return; }
  let c = t / cm_p.dim;
  let k = t % cm_p.dim;
  var sum = 0.0;
  var n = 0.0;
  for (var i = 0u; i < cm_p.batch; i++) {
    if (cm_labels[i] == c) {
      sum += cm_x[i * cm_p.dim + k];
      n += 1.0;
    }
  }
  cm_mean[t] = select(0.0, sum / n, n > 0.0);
}

// forward_rows: per row, the CE terms, ‖h − μ‖², ‖r‖_ε, ‖x̃‖_ε and the basis coefficients z = U_c x̃.
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read> head: array<f32>;
@group(0) @binding(3) var<storage, read> centres: array<f32>;
@group(0) @binding(4) var<storage, read> basis: array<f32>;
@group(0) @binding(5) var<storage, read> class_mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> rows: array<f32>;
@group(0) @binding(7) var<storage, read_write> coeff: array<f32>;
@group(0) @binding(8) var<uniform> p: Params;

fn centred(i: u32, c: u32, k: u32) -> f32 {
  return head[i * p.dim + k] - class_mean[c * p.dim + k];
}

@compute @workgroup_size(64)
fn forward_rows(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.batch) { return; }
  let ce = ce_row(i, p.classes);
  rows[ROW * i + 3u] = ce.loss;
  rows[ROW * i + 4u] = ce.correct;
  rows[ROW * i + 5u] = ce.lse;
  let c = labels[i];
  if (c >= p.classes) { return; }
  var to_centre = 0.0;
  var spread = 0.0;
  for (var k = 0u; k < p.dim; k++) {
    let e = head[i * p.dim + k] - centres[c * p.dim + k];
    to_centre += e * e;
    spread += centred(i, c, k) * centred(i, c, k);
  }
  for (var d = 0u; d < p.rank; d++) {
    let u = (c * p.rank + d) * p.dim;
    var z = 0.0;
    for (var k = 0u; k < p.dim; k++) { z += basis[u + k] * centred(i, c, k); }
    coeff[i * p.rank + d] = z;
  }
  // The residual is formed as (I − UᵀU)x̃ explicitly, not as ‖x̃‖² − ‖z‖², which cancels when VAF ≈ 1.
  var res = 0.0;
  for (var k = 0u; k < p.dim; k++) {
    var projected = 0.0;
    for (var d = 0u; d < p.rank; d++) {
      projected += coeff[i * p.rank + d] * basis[(c * p.rank + d) * p.dim + k];
    }
    let r = centred(i, c, k) - projected;
    res += r * r;
  }
  rows[ROW * i] = to_centre;
  rows[ROW * i + 1u] = sqrt(res + EPS * EPS);
  rows[ROW * i + 2u] = sqrt(spread + EPS * EPS);
}

// forward_total: out = [total, ce, L_rad, L_dim, correct]; class_coef per class for the backward.
@group(0) @binding(0) var<storage, read> ft_rows: array<f32>;
@group(0) @binding(1) var<storage, read> ft_labels: array<u32>;
@group(0) @binding(2) var<storage, read> ft_radii: array<f32>;
@group(0) @binding(3) var<storage, read_write> ft_coef: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> ft_p: Params;

@compute @workgroup_size(1)
fn forward_total() {
  var ce = 0.0;
  var correct = 0.0;
  for (var i = 0u; i < ft_p.batch; i++) {
    ce += ft_rows[ROW * i + 3u];
    correct += ft_rows[ROW * i + 4u];
  }
  ce /= f32(ft_p.batch);
  var present = 0.0;
  var spread_classes = 0.0;
  var rad = 0.0;
  var dim = 0.0;
  for (var c = 0u; c < ft_p.classes; c++) {
    var n = 0.0;
    var to_centre = 0.0;
    var ratio = 0.0;
    for (var i = 0u; i < ft_p.batch; i++) {
      if (ft_labels[i] == c) {
        n += 1.0;
        to_centre += ft_rows[ROW * i];
        ratio += ft_rows[ROW * i + 1u] / ft_rows[ROW * i + 2u];
      }
    }
    let s = sqrt(to_centre / max(n, 1.0));
    let excess = s - ft_radii[c];
    ft_coef[CLS * c] = n;
    // dL_rad/dh_i = (h_i − μ_c)/(Q·n_c·s_c) while the hinge is active; Q is applied below.
    ft_coef[CLS * c + 1u] = select(0.0, 1.0 / (n * s), n > 0.0 && excess > 0.0);
    ft_coef[CLS * c + 2u] = select(0.0, 1.0 / n, n > 1.0);
    if (n > 0.0) {
      present += 1.0;
      rad += max(excess, 0.0);
    }
    if (n > 1.0) {
      spread_classes += 1.0;
      dim += ft_p.dim_sign * ratio / n;
    }
  }
  rad /= max(present, 1.0);
  dim /= max(spread_classes, 1.0);
  for (var c = 0u; c < ft_p.classes; c++) {
    ft_coef[CLS * c + 1u] /= max(present, 1.0);
    ft_coef[CLS * c + 2u] *= ft_p.dim_sign / max(spread_classes, 1.0);
  }
  out[0] = ft_p.w_ce * ce + ft_p.w_rad * rad + ft_p.w_dim * dim;
  out[1] = ce;
  out[2] = rad;
  out[3] = dim;
  out[4] = correct;
}

// ce_grads: dlogits = scale·w_ce·(softmax − one_hot)/batch, from the forward's log-sum-exp.
@group(0) @binding(0) var<storage, read> cg_logits: array<f32>;
@group(0) @binding(1) var<storage, read> cg_labels: array<u32>;
@group(0) @binding(2) var<storage, read> cg_rows: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<uniform> cg_p: Params;

@compute @workgroup_size(64)
fn ce_grads(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= cg_p.batch) { return; }
  let base = i * cg_p.classes;
  let lse = cg_rows[ROW * i + 5u];
  let scale = cg_p.scale * cg_p.w_ce / f32(cg_p.batch);
  for (var k = 0u; k < cg_p.classes; k++) {
    dlogits[base + k] = scale * (exp(cg_logits[base + k] - lse) - select(0.0, 1.0, k == cg_labels[i]));
  }
}

// row_grads: g_i = dL_dim/dx̃_i before centring = coef_c·(r_i/(‖r‖_ε‖x̃‖_ε) − ρ_i x̃_i/‖x̃‖_ε²), using that
// (I − P) is a symmetric projector, so (I − P)ᵀr = r.
@group(0) @binding(0) var<storage, read> rg_labels: array<u32>;
@group(0) @binding(1) var<storage, read> rg_head: array<f32>;
@group(0) @binding(2) var<storage, read> rg_basis: array<f32>;
@group(0) @binding(3) var<storage, read> rg_class_mean: array<f32>;
@group(0) @binding(4) var<storage, read> rg_rows: array<f32>;
@group(0) @binding(5) var<storage, read> rg_coef: array<f32>;
@group(0) @binding(6) var<storage, read> rg_coeff: array<f32>;
@group(0) @binding(7) var<storage, read_write> row_grad: array<f32>;
@group(0) @binding(8) var<uniform> rg_p: Params;

@compute @workgroup_size(64)
fn row_grads(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= rg_p.batch) { return; }
  let dim = rg_p.dim;
  let c = rg_labels[i];
  if (c >= rg_p.classes) {
    for (var k = 0u; k < dim; k++) { row_grad[i * dim + k] = 0.0; }
    return;
  }
  let coef = rg_coef[CLS * c + 2u];
  let a = rg_rows[ROW * i + 1u];
  let b = rg_rows[ROW * i + 2u];
  for (var k = 0u; k < dim; k++) {
    var projected = 0.0;
    for (var d = 0u; d < rg_p.rank; d++) {
      projected += rg_coeff[i * rg_p.rank + d] * rg_basis[(c * rg_p.rank + d) * dim + k];
    }
    let x = rg_head[i * dim + k] - rg_class_mean[c * dim + k];
    row_grad[i * dim + k] = coef * ((x - projected) / (a * b) - (a / b) * x / (b * b));
  }
}

// head_grads: dhead = scale·(w_rad·radius_coef·(h − μ) + w_dim·(g − mean_c g)).
@group(0) @binding(0) var<storage, read> hg_head: array<f32>;
@group(0) @binding(1) var<storage, read> hg_labels: array<u32>;
@group(0) @binding(2) var<storage, read> hg_centres: array<f32>;
@group(0) @binding(3) var<storage, read> hg_coef: array<f32>;
@group(0) @binding(4) var<storage, read> hg_row_grad: array<f32>;
@group(0) @binding(5) var<storage, read> hg_grad_mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> dhead: array<f32>;
@group(0) @binding(7) var<uniform> hg_p: Params;

@compute @workgroup_size(64)
fn head_grads(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = gid.x + gid.y * groups.x * 64u;
  if (t >= hg_p.batch * hg_p.dim) { return; }
  let i = t / hg_p.dim;
  let k = t % hg_p.dim;
  let c = hg_labels[i];
  if (c >= hg_p.classes) {
    dhead[t] = 0.0;
    return;
  }
  let to_centre = hg_head[t] - hg_centres[c * hg_p.dim + k];
  let rad = hg_coef[CLS * c + 1u] * to_centre;
  let dim = hg_row_grad[t] - hg_grad_mean[c * hg_p.dim + k];
  dhead[t] = hg_p.scale * (hg_p.w_rad * rad + hg_p.w_dim * dim);
}
