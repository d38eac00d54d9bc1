// SGD update with PyTorch's semantics (torch.optim.SGD, single-tensor path), one invocation per element:
//   g = grad + weight_decay * p                      (coupled L2, applied before momentum)
//   b = g on the first step, else momentum * b + (1 - dampening) * g
//   g = g + momentum * b (Nesterov) or g = b
//   p = p - lr * g
// `plain` is the momentum-free variant: it never touches binding 4, so no buffer is allocated for it.
struct Hyper { count: u32, weight_decay: f32, momentum: f32, dampening: f32, nesterov: u32 }
// Rewritten every step with queue.writeBuffer (lr follows the schedule; `first` marks the buffer's first use).
struct Now { lr: f32, first: u32 }

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<uniform> hyper: Hyper;
@group(0) @binding(3) var<uniform> now: Now;
@group(0) @binding(4) var<storage, read_write> momentum_buffer: array<f32>;

fn element(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256)
fn plain(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = element(gid, groups);
  if (i >= hyper.count) {
    return;
  }
  let p = param[i];
  param[i] = p - now.lr * (grad[i] + hyper.weight_decay * p);
}

@compute @workgroup_size(256)
fn momentum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = element(gid, groups);
  if (i >= hyper.count) {
    return;
  }
  let p = param[i];
  var g = grad[i] + hyper.weight_decay * p;
  // torch clones the gradient into a fresh buffer on the first step instead of decaying zeros.
  var b = g;
  if (now.first == 0u) {
    b = hyper.momentum * momentum_buffer[i] + (1.0 - hyper.dampening) * g;
  }
  momentum_buffer[i] = b;
  if (hyper.nesterov != 0u) {
    g = g + hyper.momentum * b;
  } else {
    g = b;
  }
  param[i] = p - now.lr * g;
}
