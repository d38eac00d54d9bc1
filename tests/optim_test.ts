/**
 * Optimizer kernels against a float64 transcription of the update rules in the PyTorch docs (pseudo-code of
 * torch.optim.SGD / Adam / AdamW), over several parameters of odd sizes and a changing learning rate.
 *
 * Tolerance: parameters and gradients are O(1); each step is a handful of fp32 operations, each rounding
 * by ≤ 2^-24 relative, so after ≤ 6 steps the fp32 trajectory stays within ~1e-6 of the float64 one:
 * atol 2e-6, rtol 1e-5.
 */
import { getGpu } from "../lib/gpu/device.ts";
import { encodeSafetensors, parseSafetensors, SafetensorsError } from "../lib/io/safetensors.ts";
import { Adam, type AdamOptions } from "../lib/optim/adam.ts";
import type { Optimizer, OptimParam } from "../lib/optim/optimizer.ts";
import { cosineAnnealingLR, stepLR, withWarmup } from "../lib/optim/schedule.ts";
import { Sgd, type SgdOptions } from "../lib/optim/sgd.ts";
import { assertClose, deepStrictEqual, equal, ok, rejects, throws } from "../lib/testing/assert.ts";

const TOLERANCE = { atol: 2e-6, rtol: 1e-5 };
/** Odd sizes: a single element, less than a workgroup, across a workgroup boundary, several workgroups. */
const SHAPES = [[1], [7], [3, 100], [513]];
const LRS = [0.1, 0.1, 0.05, 0.05, 0.02, 0.01];

/** Deterministic uniform values in [-1, 1). */
function uniform(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Float64 state of one parameter in the reference: values plus named state vectors. */
interface RefParam {
  p: Float64Array;
  state: Record<string, Float64Array>;
  wd: number;
}

/** One reference update of one parameter at step t (1-based), transcribed from the torch docs pseudo-code. */
type RefRule = (x: RefParam, g: Float32Array, t: number, lr: number) => void;

function sgdRule({ momentum = 0, dampening = 0, nesterov = false }: SgdOptions): RefRule {
  return (x, grad, t, lr) => {
    // torch keeps no momentum buffer at all without momentum.
    const b = momentum !== 0 ? (x.state.momentum_buffer ??= new Float64Array(x.p.length)) : null;
    for (let i = 0; i < x.p.length; i++) {
      let g = grad[i] + x.wd * x.p[i];
      if (b) {
        b[i] = t > 1 ? momentum * b[i] + (1 - dampening) * g : g;
        g = nesterov ? g + momentum * b[i] : b[i];
      }
      x.p[i] -= lr * g;
    }
  };
}

function adamRule(
  { betas: [beta1, beta2] = [0.9, 0.999], eps = 1e-8, decoupled = false }: AdamOptions,
): RefRule {
  return (x, grad, t, lr) => {
    const m = x.state.exp_avg ??= new Float64Array(x.p.length);
    const v = x.state.exp_avg_sq ??= new Float64Array(x.p.length);
    for (let i = 0; i < x.p.length; i++) {
      let g = grad[i];
      if (decoupled) x.p[i] -= lr * x.wd * x.p[i];
      else g += x.wd * x.p[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      const mHat = m[i] / (1 - beta1 ** t), vHat = v[i] / (1 - beta2 ** t);
      x.p[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
    }
  };
}

/** GPU parameters with their initial values and per-step gradients (fixed by the seed). */
async function setup(shapes: readonly number[][], weightDecays: readonly (number | undefined)[] = []) {
  const gpu = await getGpu();
  const params: OptimParam[] = shapes.map((shape, k) => ({
    name: `layer${k}.weight`,
    shape,
    param: gpu.upload(uniform(numel(shape), 100 + k), `p${k}`),
    grad: gpu.buffer(numel(shape) * 4, `g${k}`),
    weightDecay: weightDecays[k],
  }));
  const gradients = (step: number) => shapes.map((shape, k) => uniform(numel(shape), 1000 * step + k));
  return { gpu, params, gradients };
}

/** Runs `steps` updates on the GPU (gradients of step t from `gradients(t)`), returning the parameters. */
async function run(
  optimizer: Optimizer,
  gradients: (step: number) => Float32Array[],
  steps: number,
): Promise<Float32Array[]> {
  const { gpu, params } = optimizer;
  for (let s = 0; s < steps; s++) {
    const t = optimizer.stepCount + 1;
    gradients(t).forEach((g, k) => gpu.write(params[k].grad, g));
    gpu.submit(optimizer.step(LRS[t - 1]));
  }
  return await Promise.all(params.map((p) => gpu.readF32(p.param, numel(p.shape))));
}

/** The float64 reference trajectory for the same parameters, gradients and learning rates. */
function reference(rule: RefRule, shapes: readonly number[][], wds: number[], steps: number): RefParam[] {
  const xs = shapes.map((shape, k) => ({
    p: Float64Array.from(uniform(numel(shape), 100 + k)),
    state: {},
    wd: wds[k],
  }));
  for (let t = 1; t <= steps; t++) {
    const grads = shapes.map((shape, k) => uniform(numel(shape), 1000 * t + k));
    xs.forEach((x, k) => rule(x, grads[k], t, LRS[t - 1]));
  }
  return xs;
}

async function compareTrajectory(
  label: string,
  create: (params: OptimParam[]) => Promise<Optimizer>,
  rule: RefRule,
  defaultWd: number,
  overrides: (number | undefined)[] = [],
) {
  const steps = LRS.length;
  const { params, gradients } = await setup(SHAPES, overrides);
  const optimizer = await create(params);
  const got = await run(optimizer, gradients, steps);
  const want = reference(rule, SHAPES, SHAPES.map((_, k) => overrides[k] ?? defaultWd), steps);
  const state = await optimizer.exportState();
  deepStrictEqual(state.get("optim.step")?.data, new BigInt64Array([BigInt(steps)]));
  want.forEach((x, k) => {
    assertClose(got[k], x.p, { ...TOLERANCE, label: `${label} param ${k}` });
    for (const [kind, values] of Object.entries(x.state)) {
      const exported = state.get(`optim.layer${k}.weight.${kind}`);
      deepStrictEqual(exported?.shape, SHAPES[k]);
      assertClose(exported!.data as Float32Array, values, { ...TOLERANCE, label: `${label} ${kind} ${k}` });
    }
  });
}

Deno.test("optim: SGD plain, momentum, Nesterov, weight decay and dampening follow torch over 6 steps", async () => {
  const gpu = await getGpu();
  const cases: [string, SgdOptions][] = [
    ["plain", {}],
    ["momentum", { momentum: 0.9 }],
    ["nesterov", { momentum: 0.9, nesterov: true }],
    ["momentum+wd", { momentum: 0.9, weightDecay: 1e-2 }],
    ["momentum+wd+dampening", { momentum: 0.5, dampening: 0.1, weightDecay: 0.05 }],
  ];
  for (const [label, options] of cases) {
    await compareTrajectory(
      label,
      (p) => Sgd.create(gpu, p, options),
      sgdRule(options),
      options.weightDecay ?? 0,
    );
  }
  // Per-parameter overrides (torch parameter groups): no decay on two of the four tensors.
  const options = { momentum: 0.9, weightDecay: 0.1, nesterov: true };
  await compareTrajectory("groups", (p) => Sgd.create(gpu, p, options), sgdRule(options), 0.1, [
    0,
    undefined,
    0,
  ]);
  // No momentum: no state tensors besides the step count.
  const { params } = await setup([[3]]);
  deepStrictEqual([...(await (await Sgd.create(gpu, params)).exportState()).keys()], ["optim.step"]);
});

Deno.test("optim: Adam (coupled L2) and AdamW (decoupled) follow torch over 6 steps", async () => {
  const gpu = await getGpu();
  const cases: [string, AdamOptions][] = [
    ["adam", {}],
    ["adam+l2", { weightDecay: 5e-4 }],
    ["adamw", { decoupled: true, weightDecay: 0.1, betas: [0.8, 0.99], eps: 1e-6 }],
  ];
  for (const [label, options] of cases) {
    const defaultWd = options.weightDecay ?? 0;
    await compareTrajectory(label, (p) => Adam.create(gpu, p, options), adamRule(options), defaultWd, [0.3]);
  }
  // AdamW's default weight decay is torch's 1e-2.
  await compareTrajectory(
    "adamw default",
    (p) => Adam.create(gpu, p, { decoupled: true }),
    adamRule({ decoupled: true }),
    1e-2,
  );
});

Deno.test("optim: closed-form steps (first Adam step is lr·sign(g); SGD momentum on a constant gradient)", async () => {
  const gpu = await getGpu();
  const p0 = new Float32Array([1, -2, 0.5, 3, 0.25]);
  const g = new Float32Array([0.3, -0.02, 4, -1e-3, 0.7]);
  const param = () => [{ name: "w", shape: [5], param: gpu.upload(p0), grad: gpu.upload(g) }];
  const moved = (step: (i: number) => number) => Array.from(p0, (p, i) => p - step(i));

  // m̂ = g and v̂ = g² on step 1, so the move is lr·g/(|g| + eps) ≈ lr·sign(g) up to eps/|g| ≤ 1e-5.
  const adam = await Adam.create(gpu, param());
  gpu.submit(adam.step(0.01));
  assertClose(await gpu.readF32(adam.params[0].param, 5), moved((i) => 0.01 * Math.sign(g[i])), {
    atol: 2e-7,
  });

  // Momentum μ = 0.5, constant g: b1 = g, b2 = 1.5g, so p2 = p0 − lr·g·2.5 (lr 0.1 both steps).
  const sgd = await Sgd.create(gpu, param(), { momentum: 0.5 });
  gpu.submit(sgd.step(0.1));
  gpu.submit(sgd.step(0.1));
  assertClose(await gpu.readF32(sgd.params[0].param, 5), moved((i) => 0.25 * g[i]), { atol: 1e-6 });
  // Nesterov: step 1 moves g + μg, step 2 moves g + μ·1.5g: total lr·g·(1.5 + 1.75).
  const nesterov = await Sgd.create(gpu, param(), { momentum: 0.5, nesterov: true });
  gpu.submit(nesterov.step(0.1));
  gpu.submit(nesterov.step(0.1));
  assertClose(await gpu.readF32(nesterov.params[0].param, 5), moved((i) => 0.325 * g[i]), { atol: 1e-6 });
});

Deno.test("optim: resume from exported state through a safetensors file is bit-exact", async () => {
  const gpu = await getGpu();
  const shapes = [[5], [2, 129]];
  const makers: [string, (p: OptimParam[]) => Promise<Optimizer>][] = [
    ["sgd", (p) => Sgd.create(gpu, p, { momentum: 0.9, weightDecay: 1e-4, nesterov: true })],
    ["adam", (p) => Adam.create(gpu, p, { weightDecay: 5e-4 })],
    ["adamw", (p) => Adam.create(gpu, p, { decoupled: true })],
  ];
  for (const [label, make] of makers) {
    const straight = await setup(shapes);
    const want = await run(await make(straight.params), straight.gradients, 5);

    const first = await setup(shapes);
    const before = await make(first.params);
    const params = await run(before, first.gradients, 3);
    const file = encodeSafetensors(await before.exportState());

    const second = await setup(shapes);
    second.params.forEach((p, k) => gpu.write(p.param, params[k]));
    const after = await make(second.params);
    after.importState(parseSafetensors(file, "ckpt.safetensors").tensors, "ckpt.safetensors");
    equal(after.stepCount, 3);
    const got = await run(after, second.gradients, 2);
    got.forEach((values, k) => deepStrictEqual(values, want[k], `${label} param ${k}`));
  }
});

Deno.test("optim: importState names a missing or mis-shaped state tensor; bad options are refused", async () => {
  const gpu = await getGpu();
  const { params } = await setup([[4]]);
  const adam = await Adam.create(gpu, params);
  const state = await adam.exportState();
  state.delete("optim.layer0.weight.exp_avg_sq");
  throws(
    () => adam.importState(state, "c.safetensors"),
    (e: Error) =>
      e instanceof SafetensorsError &&
      e.message === "c.safetensors: missing tensor 'optim.layer0.weight.exp_avg_sq' (expected shape [4])",
  );
  state.set("optim.layer0.weight.exp_avg_sq", { shape: [2, 2], data: new Float32Array(4) });
  throws(() => adam.importState(state), /exp_avg_sq' has shape \[2,2\], expected \[4\]/);
  await rejects(Sgd.create(gpu, params, { nesterov: true }), /Nesterov momentum requires a momentum/);
  await rejects(Adam.create(gpu, params, { betas: [1, 0.9] }), /beta1 1 must be in \[0, 1\)/);
  await rejects(Sgd.create(gpu, [...params, ...params]), /'layer0\.weight' listed twice/);
  await rejects(Sgd.create(gpu, [{ ...params[0], shape: [5] }]), /\[5\] needs 20 bytes; param has 16/);
  // step() hands back the same recorded dispatches every time: nothing is allocated per step.
  equal(adam.step(0.1), adam.step(0.1));
});

Deno.test("schedule: StepLR, cosine annealing and warmup match torch's closed forms", () => {
  const step = stepLR({ baseLr: 0.1, stepSize: 20 });
  assertClose([0, 19, 20, 39, 40, 59].map(step), [0.1, 0.1, 0.01, 0.01, 0.001, 0.001], { rtol: 1e-12 });
  equal(stepLR({ baseLr: 1, stepSize: 3, gamma: 0.5 })(7), 0.25);

  const cosine = cosineAnnealingLR({ baseLr: 0.1, tMax: 10, minLr: 0.001 });
  // t = 0: base; t = T/2: midpoint; t = T: eta_min; t = T/3: cos(π/3) = 1/2 → min + 3/4·(base − min).
  assertClose([0, 5, 10].map(cosine), [0.1, 0.0505, 0.001], { rtol: 1e-12 });
  assertClose([cosine(10 / 3)], [0.001 + 0.75 * 0.099], { rtol: 1e-12 });
  ok(cosine(15) > cosine(10)); // torch's cosine continues past T_max (no clamping, no restart)

  // SequentialLR([LinearLR(1/3, 4), CosineAnnealingLR(T_max=10)], milestones=[4]).
  const warm = withWarmup(cosineAnnealingLR({ baseLr: 0.3, tMax: 10 }), { epochs: 4 });
  assertClose([0, 1, 2, 3, 4, 9, 14].map(warm), [0.1, 0.15, 0.2, 0.25, 0.3, 0.15, 0], {
    rtol: 1e-12,
    atol: 1e-15,
  });
  throws(() => stepLR({ baseLr: 0.1, stepSize: 0 }), RangeError);
});
