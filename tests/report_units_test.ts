import { epsLabel, robustChart, smoothnessChart } from "../lib/report/figures.ts";
import { equal } from "../lib/testing/assert.ts";

Deno.test("report: ε axes name their units", () => {
  equal(epsLabel("normalized"), "ε (normalized units)");
  equal(epsLabel(null), "ε");
  const robust = robustChart("pgd", new Map([["None", [{ eps: 0.001, robust: 0.5 }]]]), "pixel");
  equal((robust.x as { label: string }).label, "ε (pixel units)");
  const smooth = smoothnessChart(new Map([["None", [{ eps: 0.08, value: 1 }]]]), "normalized");
  equal((smooth.x as { label: string }).label, "ε (normalized units)");
});
