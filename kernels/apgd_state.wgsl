// APGD's per-example bookkeeping (Croce & Hein 2020; auto-attack `autopgd_base.py`), one invocation per row,
// so that a whole run needs no readback. `state` holds 6 floats per row:
//   0 best loss   1 previous iteration's loss (0 before the first: the reference's zero-filled history)
//   2 loss increases since the last checkpoint   3 best loss at the last checkpoint
//   4 1 if the step was halved at the last checkpoint (1 initially, so condition 2 cannot fire at the first)
//   5 1 once any iterate was misclassified
// `improved` and `halve` are per-row flags for the row copies that follow (attack_step.wgsl copy_rows).
struct Params { batch: u32, interval: u32, step: f32, threshold: f32 }

@group(0) @binding(0) var<storage, read> loss: array<f32>;
@group(0) @binding(1) var<storage, read> fooled: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: array<f32>;
@group(0) @binding(3) var<storage, read_write> rate: array<f32>;
@group(0) @binding(4) var<storage, read_write> improved: array<f32>;
@group(0) @binding(5) var<storage, read_write> halve: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

const STRIDE = 6u;

fn bind_all() {
  _ = loss[0];
  _ = fooled[0];
  _ = rate[0];
  _ = improved[0];
  _ = halve[0];
}

// At the start point: best = loss, step size η = p.step (2ε).
@compute @workgroup_size(64)
fn init(@builtin(global_invocation_id) gid: vec3u) {
  bind_all();
  let row = gid.x;
  if (row >= p.batch) { return; }
  let s = row * STRIDE;
  state[s] = loss[row];
  state[s + 1u] = 0.0;
  state[s + 2u] = 0.0;
  state[s + 3u] = loss[row];
  state[s + 4u] = 1.0;
  state[s + 5u] = fooled[row];
  rate[row] = p.step;
  improved[row] = 0.0;
  halve[row] = 0.0;
}

// After each iterate's loss: strict improvement updates the best; count increases over the previous loss.
@compute @workgroup_size(64)
fn track(@builtin(global_invocation_id) gid: vec3u) {
  bind_all();
  let row = gid.x;
  if (row >= p.batch) { return; }
  let s = row * STRIDE;
  let l = loss[row];
  let better = l > state[s];
  if (better) { state[s] = l; }
  improved[row] = select(0.0, 1.0, better);
  state[s + 2u] += select(0.0, 1.0, l > state[s + 1u]);
  state[s + 1u] = l;
  state[s + 5u] = max(state[s + 5u], fooled[row]);
}

// At a checkpoint after `interval` iterations: halve η when the loss rose in at most threshold·interval of
// them (condition 1), or when η was not halved at the last checkpoint and the best loss has not improved
// since (condition 2).
@compute @workgroup_size(64)
fn checkpoint(@builtin(global_invocation_id) gid: vec3u) {
  bind_all();
  let row = gid.x;
  if (row >= p.batch) { return; }
  let s = row * STRIDE;
  let oscillating = state[s + 2u] <= p.threshold * f32(p.interval);
  let stalled = state[s + 4u] == 0.0 && state[s + 3u] >= state[s];
  let h = oscillating || stalled;
  state[s + 2u] = 0.0;
  state[s + 3u] = state[s];
  state[s + 4u] = select(0.0, 1.0, h);
  halve[row] = select(0.0, 1.0, h);
  if (h) { rate[row] = rate[row] * 0.5; }
}
