// FAB-T (Croce & Hein 2020; auto-attack `fab_pt.py`, targeted), one invocation per example. Per example
// `rows` holds [df = z_t − z_y at the current iterate, best norm so far (1e10 = none)].
// seed:    dlogits = e_t − e_y (so backward gives dg = ∇(z_t − z_y)), rows[0] = df.
// project: linearise h = z_t − z_y at x1; d1, d2 = minimal-norm steps from x1 and from x0 onto
//          {u : dg·u = dg·x1 − df} within the box; α = clip(‖d1‖/(‖d1‖ + ‖d2‖), 0, α_max);
//          x1 ← clamp((x1 + η·d1)(1 − α) + (x0 + η·d2)·α).
// check:   if x1 is misclassified: keep it when its norm is the best so far, then x1 ← x0 + β(x1 − x0).
// The box-constrained projection is the reference's (fab_projections.py) found by bisection instead of a
// sort: after flipping w so that the point lies on the positive side, the step is d_i(λ) = clip(−λ·s_i,
// lo − t_i, hi − t_i) with s = w (L2) or sign(w) (L∞), and the answer is the smallest λ with w·d(λ) ≤ −c;
// w·d is monotone in λ, so bisection converges to the same point (to float32 precision). Unreachable planes
// give the fully saturated step, as in the reference.

struct SeedParams { batch: u32, classes: u32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<storage, read_write> seed_rows: array<f32>;
@group(0) @binding(5) var<uniform> ps: SeedParams;

@compute @workgroup_size(64)
fn seed(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= ps.batch) { return; }
  let base = row * ps.classes;
  let y = labels[row];
  let t = targets[row];
  for (var k = 0u; k < ps.classes; k++) { dlogits[base + k] = 0.0; }
  dlogits[base + t] = 1.0;
  dlogits[base + y] = -1.0;
  seed_rows[2u * row] = logits[base + t] - logits[base + y];
}

struct ProjectParams { batch: u32, dim: u32, linf: u32, eta: f32, alpha_max: f32, lo: f32, hi: f32 }

@group(0) @binding(0) var<storage, read_write> x1: array<f32>;
@group(0) @binding(1) var<storage, read> x0: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> project_rows: array<f32>;
@group(0) @binding(4) var<uniform> pp: ProjectParams;

const BISECTIONS = 48u;

fn direction(wi: f32) -> f32 {
  return select(wi, sign(wi), pp.linf == 1u);
}

// The step for coordinate i at λ, with the sign flip `flip` (±1) applied to w.
fn step_at(lambda: f32, wi: f32, ti: f32, flip: f32) -> f32 {
  return clamp(-lambda * direction(flip * wi), pp.lo - ti, pp.hi - ti);
}

// λ of the projection of the point `t` (x1 if from_x1, else x0) onto {u : w·u = b}.
fn solve(base: u32, from_x1: bool, b: f32) -> vec2<f32> {
  var wt = 0.0;
  for (var i = 0u; i < pp.dim; i++) {
    let ti = select(x0[base + i], x1[base + i], from_x1);
    wt += w[base + i] * ti;
  }
  let flip = select(-1.0, 1.0, wt - b >= 0.0);
  let c = flip * (wt - b);
  // λ large enough to saturate every coordinate: the box width over the smallest |s_i| that is non-zero
  var smallest = 3.4e38;
  for (var i = 0u; i < pp.dim; i++) {
    let s = abs(direction(w[base + i]));
    if (s > 1e-8) { smallest = min(smallest, s); }
  }
  var lo = 0.0;
  var hi = (pp.hi - pp.lo) / smallest;
  for (var k = 0u; k < BISECTIONS; k++) {
    let mid = 0.5 * (lo + hi);
    var wd = 0.0;
    for (var i = 0u; i < pp.dim; i++) {
      let ti = select(x0[base + i], x1[base + i], from_x1);
      wd += flip * w[base + i] * step_at(mid, w[base + i], ti, flip);
    }
    if (wd + c <= 0.0) { hi = mid; } else { lo = mid; }
  }
  return vec2<f32>(hi, flip);
}

fn accumulate(norm: f32, d: f32) -> f32 {
  return select(norm + d * d, max(norm, abs(d)), pp.linf == 1u);
}

@compute @workgroup_size(64)
fn project(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= pp.batch) { return; }
  let base = row * pp.dim;
  var wx1 = 0.0;
  for (var i = 0u; i < pp.dim; i++) { wx1 += w[base + i] * x1[base + i]; }
  let b = wx1 - project_rows[2u * row];
  let s1 = solve(base, true, b);
  let s2 = solve(base, false, b);
  var n1 = 0.0;
  var n2 = 0.0;
  for (var i = 0u; i < pp.dim; i++) {
    let wi = select(w[base + i], 0.0, abs(w[base + i]) < 1e-8);
    n1 = accumulate(n1, select(step_at(s1.x, wi, x1[base + i], s1.y), 0.0, wi == 0.0));
    n2 = accumulate(n2, select(step_at(s2.x, wi, x0[base + i], s2.y), 0.0, wi == 0.0));
  }
  let a1 = max(select(sqrt(n1), n1, pp.linf == 1u), 1e-8);
  let a2 = max(select(sqrt(n2), n2, pp.linf == 1u), 1e-8);
  let alpha = clamp(a1 / (a1 + a2), 0.0, pp.alpha_max);
  for (var i = 0u; i < pp.dim; i++) {
    let wi = select(w[base + i], 0.0, abs(w[base + i]) < 1e-8);
    let d1 = select(step_at(s1.x, wi, x1[base + i], s1.y), 0.0, wi == 0.0);
    let d2 = select(step_at(s2.x, wi, x0[base + i], s2.y), 0.0, wi == 0.0);
    let moved = (x1[base + i] + pp.eta * d1) * (1.0 - alpha) + (x0[base + i] + pp.eta * d2) * alpha;
    x1[base + i] = clamp(moved, pp.lo, pp.hi);
  }
}

struct CheckParams { batch: u32, classes: u32, dim: u32, linf: u32, beta: f32 }

@group(0) @binding(0) var<storage, read> logits_: array<f32>;
@group(0) @binding(1) var<storage, read> check_labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> xc: array<f32>;
@group(0) @binding(3) var<storage, read> xc0: array<f32>;
@group(0) @binding(4) var<storage, read_write> adv: array<f32>;
@group(0) @binding(5) var<storage, read_write> check_rows: array<f32>;
@group(0) @binding(6) var<uniform> pc: CheckParams;

@compute @workgroup_size(64)
fn check(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= pc.batch) { return; }
  let lbase = row * pc.classes;
  var arg = 0u;
  for (var k = 1u; k < pc.classes; k++) {
    if (logits_[lbase + k] > logits_[lbase + arg]) { arg = k; }
  }
  if (arg == check_labels[row]) { return; }
  let base = row * pc.dim;
  var norm = 0.0;
  for (var i = 0u; i < pc.dim; i++) {
    let d = xc[base + i] - xc0[base + i];
    norm = select(norm + d * d, max(norm, abs(d)), pc.linf == 1u);
  }
  norm = select(sqrt(norm), norm, pc.linf == 1u);
  let better = norm < check_rows[2u * row + 1u];
  if (better) { check_rows[2u * row + 1u] = norm; }
  for (var i = 0u; i < pc.dim; i++) {
    if (better) { adv[base + i] = xc[base + i]; }
    xc[base + i] = xc0[base + i] + pc.beta * (xc[base + i] - xc0[base + i]);
  }
}
