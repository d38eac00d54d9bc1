// Adaptive average pooling of NCHW planes to size × size outputs when size divides height and width
// (then every output averages one (height/size) × (width/size) block, as in PyTorch). size 1 is global
// average pooling. Backward is a gather: one invocation per input element.
struct Params {
  planes: u32,
  height: u32,
  width: u32,
  size: u32,
  accumulate: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<uniform> q: Params;

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = gid.x + gid.y * groups.x * 256u;
  if (o >= p.planes * p.size * p.size) { return; }
  let bh = p.height / p.size;
  let bw = p.width / p.size;
  let ow = o % p.size;
  let oh = (o / p.size) % p.size;
  let base = (o / (p.size * p.size)) * p.height * p.width + oh * bh * p.width + ow * bw;
  var sum = 0.0;
  for (var h = 0u; h < bh; h++) {
    for (var w = 0u; w < bw; w++) { sum += x[base + h * p.width + w]; }
  }
  y[o] = sum / f32(bh * bw);
}

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= q.planes * q.height * q.width) { return; }
  let bh = q.height / q.size;
  let bw = q.width / q.size;
  let w = i % q.width;
  let h = (i / q.width) % q.height;
  let plane = i / (q.width * q.height);
  let g = dy[(plane * q.size + h / bh) * q.size + w / bw] / f32(bh * bw);
  dx[i] = select(g, dx[i] + g, q.accumulate != 0u);
}
