/**
 * Rows for our matmul and conv2d kernels against jax-js and tfjs-webgpu doing the same work.
 * @module
 */
import type { Gpu } from "../lib/gpu/device.ts";
import { Conv2d } from "../lib/ops/conv2d.ts";
import { Matmul } from "../lib/ops/matmul.ts";
import { jaxConv, jaxMatmul, type PeerConv, tfConv, tfMatmul } from "./peers.ts";
import { addRow, type Timed } from "./suite.ts";

/** Submits `dispatches` `iterations` times and waits for the queue once. */
function submitter(gpu: Gpu, dispatches: Parameters<Gpu["submit"]>[0]): Timed {
  return async (iterations) => {
    for (let i = 0; i < iterations; i++) gpu.submit(dispatches);
    await gpu.sync("bench");
  };
}

function randomBuffer(gpu: Gpu, count: number): GPUBuffer {
  return gpu.upload(Float32Array.from({ length: count }, () => Math.random() - 0.5));
}

/** Adds the matmul row (n³) and the conv2d forward and forward+backward rows. */
export function addOpRows(
  gpu: Gpu,
  { n = 1024, conv = { batch: 32, channels: 64, size: 32, kernel: 3, padding: 1 } } = {},
): void {
  addRow({
    task: `matmul ${n}³`,
    flops: 2 * n ** 3,
    contenders: {
      neuroguide: async () => {
        const mm = await Matmul.create(gpu, { m: n, n, k: n });
        const c = gpu.buffer(n * n * 4);
        return submitter(gpu, mm.run({ a: randomBuffer(gpu, n * n), b: randomBuffer(gpu, n * n), c }));
      },
      "jax-js": () => jaxMatmul(n),
      "tfjs-webgpu": () => tfMatmul(n),
    },
  });
  const s: PeerConv = conv;
  const forwardFlops = 2 * s.batch * s.channels ** 2 * s.size ** 2 * s.kernel ** 2;
  const label = `b${s.batch} ${s.size}×${s.size} ${s.channels}→${s.channels} ${s.kernel}×${s.kernel}`;
  for (const backward of [false, true]) {
    addRow({
      task: `conv2d ${backward ? "fwd+bwd" : "forward"} ${label}`,
      flops: forwardFlops * (backward ? 3 : 1),
      contenders: {
        neuroguide: async () => {
          const op = await Conv2d.create(gpu, {
            batch: s.batch,
            inChannels: s.channels,
            height: s.size,
            width: s.size,
            outChannels: s.channels,
            kernel: s.kernel,
            stride: 1,
            padding: s.padding,
            bias: false,
          });
          const act = s.batch * s.channels * s.size ** 2;
          const [x, weight, y, dx, dWeight] = [
            act,
            s.channels ** 2 * s.kernel ** 2,
            act,
            act,
            s.channels ** 2 * s.kernel ** 2,
          ]
            .map((count) => randomBuffer(gpu, count));
          const dispatches = op.forward({ x, weight, y });
          if (backward) {
            dispatches.push(
              ...op.backwardInput({ dy: y, weight, dx }),
              ...op.backwardParams({ x, dy: y, dWeight }),
            );
          }
          return submitter(gpu, dispatches);
        },
        "jax-js": () => jaxConv(s, backward),
        "tfjs-webgpu": () => tfConv(s, backward),
      },
    });
  }
}
