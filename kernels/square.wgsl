// Square Attack (Andriushchenko et al. 2020; auto-attack `square.py`) proposals and acceptance.
// propose (L∞): x = P∞(best + window), the window (one per iteration, shared by the batch as in the
//   reference) adding ±2ε per channel on an s×s square at (vh, vw); `windows` holds [vh, vw, s, sign bits, …] (8 per slot).
// propose_l2: one invocation per example (it needs the example's norms); see its comment.
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

// source = the current best images.
@compute @workgroup_size(256)
fn propose(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = index(gid, groups);
  let plane = p.height * p.width;
  if (i >= p.batch * p.channels * plane) { return; }
  let window = vec4<u32>(windows[8u * p.slot], windows[8u * p.slot + 1u], windows[8u * p.slot + 2u],
    windows[8u * p.slot + 3u]);
  let h = (i % plane) / p.width;
  let w = i % p.width;
  let channel = (i / plane) % p.channels;
  let inside = h >= window.x && h < window.x + window.z && w >= window.y && w < window.y + window.z;
  let sign = select(-1.0, 1.0, ((window.w >> channel) & 1u) == 1u);
  let value = source[i] + select(0.0, 2.0 * p.eps * sign, inside);
  x[i] = clamp(clamp(value, x0[i] - p.eps, x0[i] + p.eps), p.lo, p.hi);
}

@group(0) @binding(5) var<storage, read> patterns: array<f32>;
@group(0) @binding(6) var<storage, read> signs: array<u32>;

// Square L2 step for one example (reference: square.py, L2 branch). With δ = best − x0, windows w1 at
// (vh, vw) and w2 at (vh2, vw2), side s, `windows` = [vh, vw, vh2, vw2, s, …] (8 per slot), `patterns` the
// slot's normalised s×s nested-rectangle pattern, `signs` one bit per channel per example (≤ 4 channels):
//   new_c = pattern·(±1) + δ_c[w1]/‖δ_c[w1]‖, rescaled per channel to √(max(ε² − ‖δ‖², 0)/C + ‖δ[w1 ∪ w2]‖²);
//   δ[w2] = 0, δ[w1] = new; x = clamp(x0 + ε·δ/‖δ‖).
@compute @workgroup_size(64)
fn propose_l2(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= p.batch) { return; }
  let t = 8u * p.slot;
  let vh = windows[t];
  let vw = windows[t + 1u];
  let vh2 = windows[t + 2u];
  let vw2 = windows[t + 3u];
  let s = windows[t + 4u];
  let bits = signs[p.slot * p.batch + row];
  let plane = p.height * p.width;
  let base = row * p.channels * plane;
  var image2 = 0.0;
  var union2 = 0.0;
  var window1 = vec4<f32>(0.0);
  for (var c = 0u; c < p.channels; c++) {
    for (var h = 0u; h < p.height; h++) {
      for (var w = 0u; w < p.width; w++) {
        let i = base + c * plane + h * p.width + w;
        let d = source[i] - x0[i];
        let in1 = h >= vh && h < vh + s && w >= vw && w < vw + s;
        let in2 = h >= vh2 && h < vh2 + s && w >= vw2 && w < vw2 + s;
        image2 += d * d;
        if (in1 || in2) { union2 += d * d; }
        if (in1) { window1[c] += d * d; }
      }
    }
  }
  var fresh2 = vec4<f32>(0.0);
  for (var c = 0u; c < p.channels; c++) {
    let sign = select(-1.0, 1.0, ((bits >> c) & 1u) == 1u);
    for (var k = 0u; k < s * s; k++) {
      let i = base + c * plane + (vh + k / s) * p.width + vw + k % s;
      let v = patterns[p.slot * plane + k] * sign + (source[i] - x0[i]) / (1e-12 + sqrt(window1[c]));
      fresh2[c] += v * v;
    }
  }
  let scale = sqrt(max(p.eps * p.eps - image2, 0.0) / f32(p.channels) + union2);
  // Two passes over the new δ: its norm, then the image. `fresh` recomputes each value rather than storing it.
  var total2 = 0.0;
  for (var round = 0u; round < 2u; round++) {
    let inv = p.eps / (sqrt(total2) + 1e-12);
    for (var c = 0u; c < p.channels; c++) {
      let sign = select(-1.0, 1.0, ((bits >> c) & 1u) == 1u);
      for (var h = 0u; h < p.height; h++) {
        for (var w = 0u; w < p.width; w++) {
          let i = base + c * plane + h * p.width + w;
          var d = source[i] - x0[i];
          if (h >= vh && h < vh + s && w >= vw && w < vw + s) {
            let k = (h - vh) * s + (w - vw);
            let v = patterns[p.slot * plane + k] * sign + d / (1e-12 + sqrt(window1[c]));
            d = v / (1e-12 + sqrt(fresh2[c])) * scale;
          } else if (h >= vh2 && h < vh2 + s && w >= vw2 && w < vw2 + s) {
            d = 0.0;
          }
          if (round == 0u) {
            total2 += d * d;
          } else {
            x[i] = clamp(x0[i] + d * inv, p.lo, p.hi);
          }
        }
      }
    }
  }
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
