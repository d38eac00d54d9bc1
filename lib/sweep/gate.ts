/**
 * The gate in front of the paper's pipeline (predictor → guidance): guided models are worth training, and
 * their ROI hierarchy worth reading, only when every ROI predictor (1) predicts its ROI — mean per-image r at
 * least a stated fraction of the noise-ceiling r, √(NC / 100) with NC the prepared ROI's mean per-voxel noise
 * ceiling in % — and (2) is as sensitive to small perturbations as its ROI is, relative to the other ROIs: the
 * predictors' sensitivities must be ordered like the simulated ROIs' (the world's metadata `sensitivity`).
 *
 * Sensitivity is measured as the world measures its ROIs: the RMS change of the responses under random ±ε
 * signs per pixel (clamped to [0, 1]), each output in units of its across-image SD, over the evaluation
 * images. Only the random-sign figure is compared (the world also records a searched worst case).
 * @module
 */
import { join } from "node:path";
import type { Gpu } from "../gpu/device.ts";
import { readSafetensors } from "../io/safetensors.ts";
import { loadCheckpoint } from "../nn/checkpoint.ts";
import { Plan } from "../nn/plan.ts";
import { Random } from "../random.ts";
import { MANIFEST_NAME } from "../data/synth/world.ts";
import { readPreparedTargets } from "../data/nsd/prepared.ts";
import { subjectFolder } from "../data/nsd/paths.ts";

/** Default: predictor r must reach half the noise-ceiling r. */
export const GATE_FRACTION = 0.5;
/** The perturbation radius compared (pixel units, images in [0, 1]). */
export const GATE_EPS = 2 / 255;

/** What the gate knows about one ROI. */
export interface GateInput {
  roi: string;
  /** Predictor's mean per-image r on the validation images. */
  predictorR: number | null;
  /** √(NC/100) of the prepared ROI (null: no noise ceiling recorded). */
  ceilingR: number | null;
  /** Predictor's sensitivity at {@link GATE_EPS}, in across-image SDs. */
  predictorSensitivity: number | null;
  /** The simulated ROI's, from the world's metadata (null: not recorded). */
  brainSensitivity: number | null;
}

/** The gate's decision, as written to `OUT/gate.json`. */
export interface GateVerdict {
  pass: boolean;
  fraction: number;
  eps: number;
  rois: GateInput[];
  /** One line per failed or skipped check. */
  reasons: string[];
  /** Whether the ordering check ran (false: the world records no sensitivity). */
  orderingChecked: boolean;
}

/**
 * Decides the gate: every ROI's predictor r ≥ fraction × ceiling r, and for every pair of ROIs whose
 * simulated sensitivities differ, the predictors' sensitivities differ the same way. The ordering check is
 * skipped, with a reason, when the world records no sensitivity.
 */
export function gateVerdict(rois: GateInput[], fraction = GATE_FRACTION, eps = GATE_EPS): GateVerdict {
  const reasons: string[] = [];
  let pass = true;
  for (const r of rois) {
    if (r.predictorR === null || r.ceilingR === null) {
      pass = false;
      reasons.push(`${r.roi}: ${r.predictorR === null ? "no predictor r" : "no noise ceiling"} to compare`);
    } else if (r.predictorR < fraction * r.ceilingR) {
      pass = false;
      reasons.push(
        `${r.roi}: predictor r ${r.predictorR.toFixed(3)} < ${fraction} × noise-ceiling r ${
          r.ceilingR.toFixed(3)
        } = ${(fraction * r.ceilingR).toFixed(3)}`,
      );
    }
  }
  const orderingChecked = rois.length >= 2 && rois.every((r) => r.brainSensitivity !== null);
  if (rois.length >= 2 && !orderingChecked) {
    reasons.push("sensitivity ordering not checked: the world's metadata records no ROI sensitivity");
  }
  if (orderingChecked) {
    for (let a = 0; a < rois.length; a++) {
      for (let b = a + 1; b < rois.length; b++) {
        const x = rois[a], y = rois[b];
        const brain = Math.sign(x.brainSensitivity! - y.brainSensitivity!);
        if (brain === 0) continue;
        if (x.predictorSensitivity === null || y.predictorSensitivity === null) {
          pass = false;
          reasons.push(`${x.roi} vs ${y.roi}: predictor sensitivity not measured`);
        } else if (Math.sign(x.predictorSensitivity - y.predictorSensitivity) !== brain) {
          pass = false;
          const s = (v: number) => v.toFixed(3);
          reasons.push(
            `${x.roi} vs ${y.roi}: predictor sensitivities ${s(x.predictorSensitivity)} vs ${
              s(y.predictorSensitivity)
            } are not ordered like the ROIs' ${s(x.brainSensitivity!)} vs ${s(y.brainSensitivity!)}`,
          );
        }
      }
    }
  }
  return { pass, fraction, eps, rois, reasons, orderingChecked };
}

/**
 * Subject `subject`'s simulated ROI sensitivity to random ±`eps` signs, from the world's metadata
 * (`subjects[i].sensitivity[roi]`, a list of `{eps, random, worst}`: the entry nearest `eps`); null when
 * the world records none.
 */
export function brainSensitivity(
  manifest: unknown,
  roi: string,
  subject: number,
  eps = GATE_EPS,
): number | null {
  const subjects = (manifest as { subjects?: { subject?: string; sensitivity?: Record<string, unknown> }[] })
    ?.subjects;
  const entry = subjects?.find((s) => s.subject === subjectFolder(subject))?.sensitivity?.[roi];
  if (!Array.isArray(entry)) return null;
  const rows = entry.filter((e): e is { eps: number; random: number } =>
    typeof e?.eps === "number" && typeof e?.random === "number" && Number.isFinite(e.random)
  );
  if (rows.length === 0) return null;
  return rows.reduce((best, e) => Math.abs(e.eps - eps) < Math.abs(best.eps - eps) ? e : best).random;
}

/**
 * RMS change of a predictor's outputs under random ±`eps` signs (clamped to [0, 1]), each output divided by
 * its across-image SD, over the first `limit` images of `images` (N×C×H×W in [0, 1]).
 */
export async function predictorSensitivity(
  gpu: Gpu,
  checkpoint: string,
  images: Float32Array,
  count: number,
  { eps = GATE_EPS, batch = 32, seed = 0 } = {},
): Promise<number> {
  const { config, weights } = await loadCheckpoint(checkpoint);
  const dim = images.length / count;
  const size = Math.round(Math.sqrt(dim / 3));
  const plan = await Plan.create(gpu, { ...config, imageSize: size, neuralDim: 0 }, batch, {
    paramGrads: false,
  });
  plan.loadStateDict(new Map([...weights].filter(([name]) => !name.startsWith("neural_head."))), checkpoint);
  const k = plan.model.logits.shape[1];
  const random = new Random(`gate-sensitivity:${seed}`);
  const perturbed = Float32Array.from(
    images,
    (v) => Math.min(1, Math.max(0, v + (random.chance(0.5) ? eps : -eps))),
  );
  const outputs = async (x: Float32Array) => {
    const out = new Float32Array(count * k);
    for (let start = 0; start < count; start += batch) {
      const rows = Math.min(batch, count - start);
      const chunk = new Float32Array(batch * dim);
      chunk.set(x.subarray(start * dim, (start + rows) * dim));
      plan.setInput(chunk);
      gpu.submit(plan.forward("eval"));
      out.set((await plan.read(plan.model.logits)).subarray(0, rows * k), start * k);
    }
    return out;
  };
  const clean = await outputs(images), moved = await outputs(perturbed);
  let total = 0, used = 0;
  for (let j = 0; j < k; j++) {
    let mean = 0;
    for (let i = 0; i < count; i++) mean += clean[i * k + j] / count;
    let variance = 0, change = 0;
    for (let i = 0; i < count; i++) {
      variance += (clean[i * k + j] - mean) ** 2 / count;
      change += (moved[i * k + j] - clean[i * k + j]) ** 2 / count;
    }
    if (variance > 0) {
      total += change / variance;
      used++;
    }
  }
  return used ? Math.sqrt(total / used) : NaN;
}

/** Where a sweep's gate reads its inputs. */
export interface GateSources {
  /** ROI → predictor run folder (holding summary.json and predictor.safetensors). */
  predictors: Record<string, string>;
  /** ROI → prepared ROI file (nsd-prep output). */
  prepared: Record<string, string>;
  /** The simulated world (for its metadata). */
  sim: string;
  /** The evaluation images (`images` tensor). */
  evalData: string;
  /** Images used for the sensitivity (default 256). */
  images?: number;
}

/** Measures every ROI and decides the gate. */
export async function runGate(gpu: Gpu, s: GateSources, fraction = GATE_FRACTION): Promise<GateVerdict> {
  const manifest = JSON.parse(await Deno.readTextFile(join(s.sim, MANIFEST_NAME)).catch(() => "null"));
  const file = await readSafetensors(s.evalData);
  const tensor = file.tensors.get("images");
  if (!tensor || !(tensor.data instanceof Float32Array)) throw new Error(`${s.evalData}: no float 'images'`);
  const count = Math.min(tensor.shape[0], s.images ?? 256);
  const images = tensor.data.subarray(0, count * (tensor.data.length / tensor.shape[0]));
  const rois: GateInput[] = [];
  for (const [roi, run] of Object.entries(s.predictors)) {
    const summary = JSON.parse(await Deno.readTextFile(join(run, "summary.json")));
    const r = summary?.final?.val_r_mean;
    const { noiseCeilingMean: nc, subject } = await readPreparedTargets(s.prepared[roi]);
    rois.push({
      roi,
      predictorR: typeof r === "number" && Number.isFinite(r) ? r : null,
      ceilingR: nc !== null && nc > 0 ? Math.sqrt(nc / 100) : null,
      predictorSensitivity: await predictorSensitivity(
        gpu,
        join(run, "predictor.safetensors"),
        images,
        count,
      ),
      brainSensitivity: brainSensitivity(manifest, roi, subject),
    });
  }
  return gateVerdict(rois, fraction);
}
