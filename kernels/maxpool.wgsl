// MaxPool2d (PyTorch semantics: floor mode, implicit -inf padding, first maximum wins, NaN propagates).
// `argmax` holds, per output, the index h·width + w of the chosen input within its (n, c) plane.
// Backward is a gather: one invocation per input element sums the dy of the windows that chose it, so
// overlapping windows (kernel > stride) need no atomics and the result is deterministic.
struct Params {
  planes: u32,
  height: u32,
  width: u32,
  out_height: u32,
  out_width: u32,
  kernel: u32,
  stride: u32,
  padding: u32,
  accumulate: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> argmax: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> argmax_in: array<u32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> q: Params;

// By the bits: a compiler may fold `v != v` to false.
fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = gid.x + gid.y * groups.x * 256u;
  if (o >= p.planes * p.out_height * p.out_width) { return; }
  let ow = o % p.out_width;
  let oh = (o / p.out_width) % p.out_height;
  let base = (o / (p.out_width * p.out_height)) * p.height * p.width;
  // padding ≤ kernel / 2 (checked on the host) keeps every window's clamped range non-empty
  let h0 = i32(oh * p.stride) - i32(p.padding);
  let w0 = i32(ow * p.stride) - i32(p.padding);
  let hs = u32(max(h0, 0));
  let ws = u32(max(w0, 0));
  let he = u32(min(h0 + i32(p.kernel), i32(p.height)));
  let we = u32(min(w0 + i32(p.kernel), i32(p.width)));
  var best = x[base + hs * p.width + ws];
  var arg = hs * p.width + ws;
  for (var h = hs; h < he; h++) {
    for (var w = ws; w < we; w++) {
      let v = x[base + h * p.width + w];
      if (v > best || is_nan(v)) {
        best = v;
        arg = h * p.width + w;
      }
    }
  }
  y[o] = best;
  argmax[o] = arg;
}

// Range of output positions along one axis whose window covers input position `i`.
fn covering(i: u32, out_size: u32) -> vec2u {
  let reach = i32(i + q.padding) - i32(q.kernel) + 1;
  let lo = select(0u, (u32(reach) + q.stride - 1u) / q.stride, reach > 0);
  let hi = min((i + q.padding) / q.stride + 1u, out_size);
  return vec2u(lo, hi);
}

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= q.planes * q.height * q.width) { return; }
  let pos = i % (q.height * q.width);
  let plane = i / (q.height * q.width);
  let rows = covering(pos / q.width, q.out_height);
  let cols = covering(pos % q.width, q.out_width);
  var sum = 0.0;
  for (var oh = rows.x; oh < rows.y; oh++) {
    for (var ow = cols.x; ow < cols.y; ow++) {
      let o = (plane * q.out_height + oh) * q.out_width + ow;
      if (argmax_in[o] == pos) { sum += dy[o]; }
    }
  }
  dx[i] = select(sum, dx[i] + sum, q.accumulate != 0u);
}
