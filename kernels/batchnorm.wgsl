// BatchNorm2d per-channel reductions over (batch, height, width) of NCHW tensors. The elementwise passes
// (normalise, eval mode, input gradient) are generated from rules in lib/ops/batchnorm.ts.
//
// Each channel's batch·plane values are cut into `chunks` runs of `chunk`; one invocation reduces one
// (channel, run) pair into `partial`, then one invocation per channel combines the runs serially. No
// barriers, no atomics, and the result does not depend on scheduling.
struct Params {
  batch: u32,
  channels: u32,
  plane: u32,
  chunk: u32,
  chunks: u32,
  eps: f32,
  momentum: f32,
}

// Forward: stats_partial, stats_final.
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> partial: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@group(0) @binding(0) var<storage, read> partial_in: array<f32>;
@group(0) @binding(1) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(2) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(3) var<storage, read_write> save_mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> save_invstd: array<f32>;
@group(0) @binding(5) var<uniform> p_stats: Params;

// Backward: grad_partial, grad_final.
@group(0) @binding(0) var<storage, read> gx: array<f32>;
@group(0) @binding(1) var<storage, read> gdy: array<f32>;
@group(0) @binding(2) var<storage, read> gmean: array<f32>;
@group(0) @binding(3) var<storage, read> ginvstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> gpartial: array<f32>;
@group(0) @binding(5) var<uniform> p_grad: Params;

@group(0) @binding(0) var<storage, read> gpartial_in: array<f32>;
@group(0) @binding(1) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(2) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(3) var<uniform> p_final: Params;

// Flat index of the j-th value (j < batch·plane) of channel c.
fn flat_index(q: Params, c: u32, j: u32) -> u32 {
  return ((j / q.plane) * q.channels + c) * q.plane + j % q.plane;
}

fn thread_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 64u;
}

// Per run: mean and sum of squared deviations from it (two passes over a short, cached run: no cancellation).
@compute @workgroup_size(64)
fn stats_partial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = thread_index(gid, groups);
  if (t >= p.channels * p.chunks) { return; }
  let c = t / p.chunks;
  let begin = (t % p.chunks) * p.chunk;
  let end = min(begin + p.chunk, p.batch * p.plane);
  var sum = 0.0;
  for (var j = begin; j < end; j++) { sum += x[flat_index(p, c, j)]; }
  let mean = sum / f32(end - begin);
  var m2 = 0.0;
  for (var j = begin; j < end; j++) {
    let d = x[flat_index(p, c, j)] - mean;
    m2 += d * d;
  }
  partial[2u * t] = mean;
  partial[2u * t + 1u] = m2;
}

// Per channel: Chan's pairwise merge of the runs; saves mean and 1/sqrt(biased var + eps) and updates the
// running statistics as PyTorch does (running_var takes the unbiased variance).
@compute @workgroup_size(64)
fn stats_final(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let c = thread_index(gid, groups);
  if (c >= p_stats.channels) { return; }
  let total = p_stats.batch * p_stats.plane;
  var n = 0.0;
  var mean = 0.0;
  var m2 = 0.0;
  for (var k = 0u; k < p_stats.chunks; k++) {
    let nb = f32(min(p_stats.chunk, total - k * p_stats.chunk));
    let at_k = 2u * (c * p_stats.chunks + k);
    let delta = partial_in[at_k] - mean;
    let merged = n + nb;
    mean += delta * nb / merged;
    m2 += partial_in[at_k + 1u] + delta * delta * n * nb / merged;
    n = merged;
  }
  save_mean[c] = mean;
  save_invstd[c] = 1.0 / sqrt(m2 / n + p_stats.eps);
  let m = p_stats.momentum;
  running_mean[c] = (1.0 - m) * running_mean[c] + m * mean;
  running_var[c] = (1.0 - m) * running_var[c] + m * m2 / (n - 1.0);
}

// Per run: sum of dy and of dy·x̂.
@compute @workgroup_size(64)
fn grad_partial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = thread_index(gid, groups);
  if (t >= p_grad.channels * p_grad.chunks) { return; }
  let c = t / p_grad.chunks;
  let begin = (t % p_grad.chunks) * p_grad.chunk;
  let end = min(begin + p_grad.chunk, p_grad.batch * p_grad.plane);
  let mean = gmean[c];
  let invstd = ginvstd[c];
  var sum_dy = 0.0;
  var sum_dy_xhat = 0.0;
  for (var j = begin; j < end; j++) {
    let i = flat_index(p_grad, c, j);
    let dy = gdy[i];
    sum_dy += dy;
    sum_dy_xhat += dy * (gx[i] - mean) * invstd;
  }
  gpartial[2u * t] = sum_dy;
  gpartial[2u * t + 1u] = sum_dy_xhat;
}

// Per channel: dBias = Σ dy, dWeight = Σ dy·x̂ (overwritten).
@compute @workgroup_size(64)
fn grad_final(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let c = thread_index(gid, groups);
  if (c >= p_final.channels) { return; }
  var sum_dy = 0.0;
  var sum_dy_xhat = 0.0;
  for (var k = 0u; k < p_final.chunks; k++) {
    let at_k = 2u * (c * p_final.chunks + k);
    sum_dy += gpartial_in[at_k];
    sum_dy_xhat += gpartial_in[at_k + 1u];
  }
  dbias[c] = sum_dy;
  dweight[c] = sum_dy_xhat;
}
