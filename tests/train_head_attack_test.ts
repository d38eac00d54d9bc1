/**
 * The `oracle-adversarial` teacher's δ (`lib/train/head_attack.ts`): one FGSM step against the student's neural
 * head. Checked against a central finite difference of ‖head(x) − t‖² computed on the host from forward passes
 * alone, and shown to ignore the labels (the cross-entropy takes no part).
 */
import { getGpu } from "../lib/gpu/device.ts";
import { modelConfig, Plan } from "../lib/nn/mod.ts";
import { createHeadAttack } from "../lib/train/head_attack.ts";
import { deepStrictEqual, ok } from "../lib/testing/assert.ts";

const gpu = await getGpu();
const BATCH = 2, DIM = 3, SIDE = 2;

Deno.test("head attack: steps along sign ∇ₓ‖head − t‖² (finite differences), projected, label-blind", async () => {
  const config = modelConfig("mlp", { classes: 2, imageSize: SIDE, channels: 1, neuralDim: DIM });
  const plan = await Plan.create(gpu, config, BATCH, { inputGrad: true });
  plan.initialize(5);
  const target = gpu.buffer(BATCH * DIM * 4, "target"), labels = gpu.buffer(BATCH * 4, "labels");
  const eps = 0.05;
  const attack = await createHeadAttack(gpu, plan, { target, labels }, eps);
  const images = new Float32Array([0.1, 0.5, 0.9, 0.3, 0.2, 0.4, 0.6, 0.98]);
  const cleanTargets = new Float32Array([0.5, -0.5, 1, -1, 0.25, 2]);

  // the host's reference: squared distance of the head to the targets, from the forward pass alone
  const distance = async (x: Float32Array) => {
    plan.setInput(x);
    gpu.submit(plan.forward("train"));
    const head = await plan.read(plan.model.neural!);
    return head.reduce((s, v, i) => s + (v - cleanTargets[i]) ** 2, 0);
  };
  const h = 1e-3, gradient: number[] = [];
  for (let i = 0; i < images.length; i++) {
    const up = images.slice(), down = images.slice();
    up[i] += h, down[i] -= h;
    gradient.push(((await distance(up)) - (await distance(down))) / (2 * h));
  }

  // from the clean images themselves, a 1.25ε step lands on the ε-ball's surface (or the box's edge)
  const batch = { images, labels: new Uint32Array([0, 1]), count: BATCH };
  const adversarial = await attack(batch, images, cleanTargets);
  let compared = 0;
  for (let i = 0; i < images.length; i++) {
    if (Math.abs(gradient[i]) < 1e-3) continue; // a sign the difference cannot resolve
    const expected = Math.min(1, Math.max(0, images[i] + eps * Math.sign(gradient[i])));
    ok(Math.abs(adversarial[i] - expected) < 1e-6, `pixel ${i}: ${adversarial[i]} vs ${expected}`);
    compared++;
  }
  ok(compared >= 6, `only ${compared} pixels had a resolvable gradient`);
  ok((await distance(adversarial)) > (await distance(images)), "the step moves the head away from t");

  const swapped = await attack({ ...batch, labels: new Uint32Array([1, 0]) }, images, cleanTargets);
  deepStrictEqual(Array.from(swapped), Array.from(adversarial), "the labels must not change δ");
});
