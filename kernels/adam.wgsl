// Adam / AdamW update with PyTorch's semantics (torch.optim.Adam, single-tensor path), one invocation per element:
//   Adam  (decoupled = 0): g = grad + weight_decay * p           (coupled L2)
//   AdamW (decoupled = 1): p = p * (1 - lr * weight_decay)       (decoupled decay, before the moment update)
//   m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
//   p = p - step_size * m / (sqrt(v) / bias_correction2_sqrt + eps)
// with step_size = lr / (1 - beta1^t) and bias_correction2_sqrt = sqrt(1 - beta2^t) computed on the CPU in
// float64 each step, as torch does; eps sits outside the square root.
struct Hyper {
  count: u32,
  one_minus_beta1: f32,
  beta2: f32,
  one_minus_beta2: f32,
  eps: f32,
  weight_decay: f32,
  decoupled: u32,
}
// Rewritten every step with queue.writeBuffer.
struct Now { lr: f32, step_size: f32, bias_correction2_sqrt: f32 }

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<uniform> hyper: Hyper;
@group(0) @binding(3) var<uniform> now: Now;
@group(0) @binding(4) var<storage, read_write> exp_avg: array<f32>;
@group(0) @binding(5) var<storage, read_write> exp_avg_sq: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= hyper.count) {
    return;
  }
  var p = param[i];
  var g = grad[i];
  if (hyper.decoupled != 0u) {
    p = p * (1.0 - now.lr * hyper.weight_decay);
  } else {
    g = g + hyper.weight_decay * p;
  }
  // torch's lerp for weights below 0.5: m + w * (g - m).
  let m = exp_avg[i] + hyper.one_minus_beta1 * (g - exp_avg[i]);
  let v = hyper.beta2 * exp_avg_sq[i] + hyper.one_minus_beta2 * g * g;
  exp_avg[i] = m;
  exp_avg_sq[i] = v;
  param[i] = p - now.step_size * (m / (sqrt(v) / now.bias_correction2_sqrt + hyper.eps));
}
