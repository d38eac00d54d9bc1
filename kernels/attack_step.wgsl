// Elementwise update and projection steps of the gradient attacks, over [batch, dim] images updated in place.
// Every entry binds the same resources (layout "auto" requires each binding to be used, hence `bind_all`):
//   x      the iterate, updated in place          x0     the clean images (centre of the ε-ball)
//   v      a direction or second image (read)     row_a  a per-example value (step size, flag)
//   row_b  a per-example norm                     aux    a second writable image (APGD's previous iterate)
// P∞ clips to [x0 − ε, x0 + ε] and then to the box [lo, hi]: Foolbox's and AutoAttack's order.
struct Params { batch: u32, dim: u32, eps: f32, lo: f32, hi: f32, a: f32 }

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> x0: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> row_a: array<f32>;
@group(0) @binding(4) var<storage, read> row_b: array<f32>;
@group(0) @binding(5) var<storage, read_write> aux: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

fn bind_all() {
  _ = x0[0];
  _ = v[0];
  _ = row_a[0];
  _ = row_b[0];
  _ = aux[0];
}

fn index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

fn project_linf(value: f32, centre: f32) -> f32 {
  return clamp(clamp(value, centre - p.eps, centre + p.eps), p.lo, p.hi);
}

// x = P∞(x + row_a · sign(v)): an L∞ (FGSM / PGD / APGD) step.
@compute @workgroup_size(256)
fn linf_step(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  bind_all();
  let i = index(gid, groups);
  if (i >= p.batch * p.dim) { return; }
  x[i] = project_linf(x[i] + row_a[i / p.dim] * sign(v[i]), x0[i]);
}

// x = P∞(x).
@compute @workgroup_size(256)
fn linf_project(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  bind_all();
  let i = index(gid, groups);
  if (i >= p.batch * p.dim) { return; }
  x[i] = project_linf(x[i], x0[i]);
}

// x = x + row_a · v / max(row_b, 1e-12) with row_b = ‖v‖₂: an unprojected L2 step.
@compute @workgroup_size(256)
fn l2_step(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  bind_all();
  let i = index(gid, groups);
  if (i >= p.batch * p.dim) { return; }
  let row = i / p.dim;
  x[i] = x[i] + row_a[row] * v[i] / max(row_b[row], 1e-12);
}

// x = clamp(x0 + (x − x0) · min(1, ε / max(row_b, 1e-12))) with row_b = ‖x − x0‖₂: L2 projection.
@compute @workgroup_size(256)
fn l2_project(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  bind_all();
  let i = index(gid, groups);
  if (i >= p.batch * p.dim) { return; }
  let scale = min(1.0, p.eps / max(row_b[i / p.dim], 1e-12));
  x[i] = clamp(x0[i] + (x[i] - x0[i]) * scale, p.lo, p.hi);
}

// APGD momentum, x = x_k, v = z (the projected gradient step), aux = x_{k−1}:
// x ← x_k + a(z − x_k) + (1 − a)(x_k − x_{k−1}) (unprojected), aux ← x_k.
@compute @workgroup_size(256)
fn momentum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  bind_all();
  let i = index(gid, groups);
  if (i >= p.batch * p.dim) { return; }
  let current = x[i];
  x[i] = current + p.a * (v[i] - current) + (1.0 - p.a) * (current - aux[i]);
  aux[i] = current;
}

// x = v where row_a ≠ 0 (row_a = 1 everywhere copies the whole buffer).
@compute @workgroup_size(256)
fn copy_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  bind_all();
  let i = index(gid, groups);
  if (i >= p.batch * p.dim) { return; }
  if (row_a[i / p.dim] != 0.0) { x[i] = v[i]; }
}
