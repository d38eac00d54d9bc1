// Square Attack L∞ (Andriushchenko et al. 2020; auto-attack `square.py`) proposals and acceptance.
// init: x = clamp(x0 + ε·stripes), stripes ±1 of shape [batch, C, 1, W].
// propose: x = P∞(best + window) where the window (one per iteration, shared by the batch as in the
// reference) adds ±2ε per channel on an s×s square at (vh, vw); `windows` holds [vh, vw, s, sign bits] per slot.
// accept / accept_init keep per example [margin_min, loss_min, queries] in `state` (loss = margin here).
struct Params { batch: u32, channels: u32, height: u32, width: u32, eps: f32, lo: f32, hi: f32, slot: u32 }

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> x0: array<f32>;
@group(0) @binding(2) var<storage, read> source: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read> windows: array<u32>;

fn index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

// source = stripes, [batch, C, W].
@compute @workgroup_size(256)
fn init(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = index(gid, groups);
  let plane = p.height * p.width;
  if (i >= p.batch * p.channels * plane) { return; }
  let stripe = (i / plane) * p.width + i % p.width;
  x[i] = clamp(x0[i] + p.eps * source[stripe], p.lo, p.hi);
}

// source = the current best images.
@compute @workgroup_size(256)
fn propose(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = index(gid, groups);
  let plane = p.height * p.width;
  if (i >= p.batch * p.channels * plane) { return; }
  let window = vec4<u32>(windows[4u * p.slot], windows[4u * p.slot + 1u], windows[4u * p.slot + 2u],
    windows[4u * p.slot + 3u]);
  let h = (i % plane) / p.width;
  let w = i % p.width;
  let channel = (i / plane) % p.channels;
  let inside = h >= window.x && h < window.x + window.z && w >= window.y && w < window.y + window.z;
  let sign = select(-1.0, 1.0, ((window.w >> channel) & 1u) == 1u);
  let value = source[i] + select(0.0, 2.0 * p.eps * sign, inside);
  x[i] = clamp(clamp(value, x0[i] - p.eps, x0[i] + p.eps), p.lo, p.hi);
}

struct RowParams { batch: u32 }

@group(0) @binding(0) var<storage, read> loss: array<f32>;
@group(0) @binding(1) var<storage, read_write> state: array<f32>;
@group(0) @binding(2) var<storage, read_write> accept: array<f32>;
@group(0) @binding(3) var<uniform> r: RowParams;

// loss = max_{j≠y} z_j − z_y from margin_loss.wgsl, so margin = −loss.
@compute @workgroup_size(64)
fn accept_init(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= r.batch) { return; }
  state[3u * row] = -loss[row];
  state[3u * row + 1u] = -loss[row];
  state[3u * row + 2u] = 1.0;
  accept[row] = 0.0;
}

// Only examples not yet fooled (margin_min > 0) take part and are charged a query.
@compute @workgroup_size(64)
fn accept_step(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= r.batch) { return; }
  let s = 3u * row;
  if (!(state[s] > 0.0)) {
    accept[row] = 0.0;
    return;
  }
  let margin = -loss[row];
  let lower = margin < state[s + 1u];
  if (lower) { state[s + 1u] = margin; }
  let take = lower || margin <= 0.0;
  if (take) { state[s] = margin; }
  accept[row] = select(0.0, 1.0, take);
  state[s + 2u] += 1.0;
}
