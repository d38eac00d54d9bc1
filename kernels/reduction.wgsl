// Whole-buffer reductions of any length in two barrier-free, atomic-free passes: `partials` invocations each
// fold a grid-stride slice (i = t, t + partials, …) into one partial, then a single invocation folds the
// partials. Deterministic for a given `partials`.
struct Params {
  count: u32,
  partials: u32,
  accumulate: u32,
  scale: f32,
}

// partial_sum_squares, partial_non_finite
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> partial: array<f32>;
@group(0) @binding(1) var<storage, read_write> partial_flags: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

// partial_squared_difference
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial_diff: array<f32>;
@group(0) @binding(3) var<uniform> p_diff: Params;

// final_sum, final_any
@group(0) @binding(0) var<storage, read> partial_in: array<f32>;
@group(0) @binding(0) var<storage, read> partial_flags_in: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read_write> flag: array<u32>;
@group(0) @binding(2) var<uniform> p_final: Params;

fn thread_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 64u;
}

@compute @workgroup_size(64)
fn partial_sum_squares(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = thread_index(gid, groups);
  if (t >= p.partials) { return; }
  var sum = 0.0;
  for (var i = t; i < p.count; i += p.partials) { sum += x[i] * x[i]; }
  partial[t] = sum;
}

@compute @workgroup_size(64)
fn partial_squared_difference(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let t = thread_index(gid, groups);
  if (t >= p_diff.partials) { return; }
  var sum = 0.0;
  for (var i = t; i < p_diff.count; i += p_diff.partials) {
    let d = a[i] - b[i];
    sum += d * d;
  }
  partial_diff[t] = sum;
}

// Tests the exponent bits (all ones = ±Inf or NaN) rather than `v != v`, which a compiler may fold away.
@compute @workgroup_size(64)
fn partial_non_finite(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = thread_index(gid, groups);
  if (t >= p.partials) { return; }
  var bad = 0u;
  for (var i = t; i < p.count; i += p.partials) {
    bad |= u32((bitcast<u32>(x[i]) & 0x7f800000u) == 0x7f800000u);
  }
  partial_flags[t] = bad;
}

// out[0] = scale · Σ partials (or += with accumulate).
@compute @workgroup_size(1)
fn final_sum() {
  var sum = 0.0;
  for (var k = 0u; k < p_final.partials; k++) { sum += partial_in[k]; }
  let value = p_final.scale * sum;
  out[0] = select(value, out[0] + value, p_final.accumulate != 0u);
}

// flag[0] = 1 if any partial saw a non-finite value; never cleared here.
@compute @workgroup_size(1)
fn final_any() {
  var bad = 0u;
  for (var k = 0u; k < p_final.partials; k++) { bad |= partial_flags_in[k]; }
  if (bad != 0u) { flag[0] = 1u; }
}
