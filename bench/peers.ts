/**
 * The same work as our kernels, done by the JS peers on WebGPU: jax-js (`jit`) and tfjs-webgpu. Each returns a
 * {@link Timed} body that queues `iterations` results and waits on the last one's readback.
 * @module
 */
import type { Timed } from "./suite.ts";

// Full npm: specifiers, not deno.json imports: with nodeModulesDir "auto" Deno installs every package of the
// import map on a user's first run, and these peers (and tfjs for the tests) are only for benchmarks and tests.
type Jax = typeof import("npm:@jax-js/jax@0.1.25");
type Tf = typeof import("npm:@tensorflow/tfjs@4.22.0");

let jax: Promise<Jax> | null = null;
let tf: Promise<Tf> | null = null;

/** jax-js on its WebGPU device (it opens its own device on the same adapter). */
export function loadJax(): Promise<Jax> {
  jax ??= (async () => {
    // deno-lint-ignore no-import-prefix -- bench-only package, kept out of deno.json (see the comment above)
    const mod = await import("npm:@jax-js/jax@0.1.25");
    const devices = await mod.init();
    if (!devices.includes("webgpu")) {
      throw new Error(`jax-js has no webgpu device (has ${devices.join(", ")})`);
    }
    mod.defaultDevice("webgpu");
    return mod;
  })();
  return jax;
}

/** tfjs with the webgpu backend. */
function loadTf(): Promise<Tf> {
  tf ??= (async () => {
    // deno-lint-ignore no-import-prefix -- bench-only package, kept out of deno.json (see the comment above)
    const mod = await import("npm:@tensorflow/tfjs@4.22.0");
    // deno-lint-ignore no-import-prefix -- as above
    await import("npm:@tensorflow/tfjs-backend-webgpu@4.22.0");
    if (!(await mod.setBackend("webgpu"))) throw new Error("tfjs: webgpu backend did not initialise");
    await mod.ready();
    return mod;
  })();
  return tf;
}

function randomData(count: number): Float32Array<ArrayBuffer> {
  return Float32Array.from({ length: count }, () => Math.random() - 0.5);
}

/** Runs `step` `iterations` times, keeping only the newest result alive, then waits on its data. */
async function chain<T extends { dispose(): void }>(
  iterations: number,
  step: () => T,
  wait: (last: T) => Promise<unknown>,
): Promise<void> {
  let last = step();
  for (let i = 1; i < iterations; i++) {
    last.dispose();
    last = step();
  }
  await wait(last);
  last.dispose();
}

/** jax-js `jit(matmul)` of two [n, n] matrices. */
export async function jaxMatmul(n: number): Promise<Timed> {
  const { jit, numpy: np } = await loadJax();
  const a = np.array(randomData(n * n)).reshape([n, n]);
  const b = np.array(randomData(n * n)).reshape([n, n]);
  const f = jit((x: InstanceType<Jax["Array"]>, y: InstanceType<Jax["Array"]>) => np.matmul(x, y));
  return (iterations) => chain(iterations, () => f(a.ref, b.ref), (c) => c.ref.data());
}

/** tfjs-webgpu `matMul` of two [n, n] matrices. */
export async function tfMatmul(n: number): Promise<Timed> {
  const t = await loadTf();
  const a = t.tensor2d(randomData(n * n), [n, n]), b = t.tensor2d(randomData(n * n), [n, n]);
  return (iterations) => chain(iterations, () => t.matMul(a, b), (c) => c.data());
}

/** Convolution shape of the conv rows (NCHW; tfjs runs the same sizes in its native NHWC). */
export interface PeerConv {
  batch: number;
  channels: number;
  size: number;
  kernel: number;
  padding: number;
}

/** jax-js forward (and with `backward`, input and weight gradients of sum(y·r)) under one `jit`. */
export async function jaxConv(s: PeerConv, backward: boolean): Promise<Timed> {
  const { jit, grad, lax, numpy: np } = await loadJax();
  type A = InstanceType<Jax["Array"]>;
  const x = np.array(randomData(s.batch * s.channels * s.size ** 2)).reshape([
    s.batch,
    s.channels,
    s.size,
    s.size,
  ]);
  const w = np.array(randomData(s.channels ** 2 * s.kernel ** 2)).reshape([
    s.channels,
    s.channels,
    s.kernel,
    s.kernel,
  ]);
  const r = np.array(randomData(s.batch * s.channels * s.size ** 2)).reshape([
    s.batch,
    s.channels,
    s.size,
    s.size,
  ]);
  const pad: [number, number][] = [[s.padding, s.padding], [s.padding, s.padding]];
  const conv = (xx: A, ww: A) => lax.conv(xx, ww, [1, 1], pad);
  if (!backward) {
    const f = jit(conv);
    return (iterations) => chain(iterations, () => f(x.ref, w.ref), (y) => y.ref.data());
  }
  const g = jit(grad((xx: A, ww: A, rr: A) => conv(xx, ww).mul(rr).sum(), { argnums: [0, 1] }));
  return (iterations) =>
    chain(
      iterations,
      () => {
        const [dx, dw] = g(x.ref, w.ref, r.ref) as [A, A];
        return { dx, dw, dispose: () => (dx.dispose(), dw.dispose()) };
      },
      async (out) => await Promise.all([out.dx.ref.data(), out.dw.ref.data()]),
    );
}

/** tfjs-webgpu `conv2d` (NHWC), and with `backward` its input and weight gradients via `tf.grads`. */
export async function tfConv(s: PeerConv, backward: boolean): Promise<Timed> {
  const t = await loadTf();
  const x = t.tensor4d(randomData(s.batch * s.channels * s.size ** 2), [s.batch, s.size, s.size, s.channels]);
  const w = t.tensor4d(randomData(s.channels ** 2 * s.kernel ** 2), [
    s.kernel,
    s.kernel,
    s.channels,
    s.channels,
  ]);
  const dy = t.tensor4d(randomData(s.batch * s.channels * s.size ** 2), [
    s.batch,
    s.size,
    s.size,
    s.channels,
  ]);
  const conv = (xx: typeof x, ww: typeof w) => t.conv2d(xx, ww, 1, s.padding);
  if (!backward) return (iterations) => chain(iterations, () => conv(x, w), (y) => y.data());
  const g = t.grads((xx, ww) => conv(xx as typeof x, ww as typeof w));
  return (iterations) =>
    chain(
      iterations,
      () => {
        const [dx, dw] = g([x, w], dy);
        return { dx, dw, dispose: () => (dx.dispose(), dw.dispose()) };
      },
      async (out) => await Promise.all([out.dx.data(), out.dw.data()]),
    );
}
