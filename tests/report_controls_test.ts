/**
 * The report's reading of the pre-registered controls on hand-made statistics rows: which configuration plays
 * which role, each pass/fail rule at its boundary (a CI touching 0), the masking probes, a model outside the
 * ladder, the gate, grids without controls, the amendments' later designs superseding the earlier ones (shown,
 * not counted) only in grids that have them, and amendment 5's head − sham pairs.
 */
import { controlsVerdict } from "../lib/report/controls.ts";
import { type ConfigStats, headShamPairs, type ShamContrast } from "../lib/report/matched.ts";
import { PRESETS } from "../lib/sweep/presets.ts";
import type { ModelSpec } from "../lib/sweep/grid.ts";
import type { GateVerdict } from "../lib/sweep/gate.ts";
import { deepStrictEqual, equal, ok } from "../lib/testing/assert.ts";

function row(
  config: string,
  lo: number | null,
  hi = 0.05,
  failedChecks: string[] | null = null,
): ConfigStats {
  return {
    config,
    seeds: 3,
    images: 500,
    clean: 0.2,
    robust: 0.15,
    robustOverClean: 0.75,
    normalizeAcc: 0.75,
    baseline: lo === null ? null : 0.15,
    gain: lo === null ? null : (lo + hi) / 2,
    ci: lo === null ? null : { lo, hi, reps: 2000, dropped: 0 },
    failedChecks,
  };
}

const spec = (name: string, roi: string, extra: Partial<ModelSpec> = {}): ModelSpec => ({
  name,
  roi,
  shuffle: false,
  ...extra,
});

/** The controls preset's grid for seeds 0 and 1 (seed 1 named `_s1`), predictor-guided V1 and TO included. */
const SPECS: ModelSpec[] = ["", "_s1"].flatMap((s) => [
  spec(`None${s}`, "none", { ladder: true }),
  spec(`None_fgsm-rs${s}`, "none", { augment: { kind: "fgsm-rs", eps: 0.0043 }, checks: true }),
  spec(`TO_oracle${s}`, "TO", { teacher: { kind: "oracle" } }),
  spec(`TO_oracle-perturbed${s}`, "TO", { teacher: { kind: "oracle-perturbed", eps: 8 / 255 } }),
  spec(`V1_oracle-perturbed${s}`, "V1", { teacher: { kind: "oracle-perturbed", eps: 8 / 255 } }),
  spec(`TO_oracle-shuffled${s}`, "TO", { teacher: { kind: "oracle-shuffled" } }),
  spec(`V1${s}`, "V1", { alpha: 0.5 }),
  spec(`TO${s}`, "TO", { alpha: 0.5 }),
]);

const GATE_PASSED = { pass: true } as GateVerdict;
const GATE_FAILED = { pass: false } as GateVerdict;

/** Rows where every control comes out as pre-registered. */
function holding(): ConfigStats[] {
  return [
    row("None", -0.02, 0.02),
    row("None_fgsm-rs", 0.003, 0.058, []),
    row("TO_oracle", -0.03, 0.01),
    row("TO_oracle-perturbed", 0.01, 0.04),
    row("V1_oracle-perturbed", -0.02, 0.03),
    row("TO_oracle-shuffled", -0.02, 0.03),
    row("V1", -0.02, 0.03),
    row("TO", -0.03, 0.01),
  ];
}

Deno.test("controls: roles from the grid; all holding plus a passed gate make the result readable", () => {
  const verdict = controlsVerdict(holding(), SPECS, GATE_PASSED)!;
  deepStrictEqual(verdict.checks.map((c) => [c.role, c.config, c.outcome]), [
    ["positive control", "None_fgsm-rs", "holds"],
    ["guaranteed positive", "TO_oracle-perturbed", "holds"],
    ["negative", "V1_oracle-perturbed", "holds"],
    ["negative", "TO_oracle-shuffled", "holds"],
  ]);
  equal(verdict.readable, true);
  deepStrictEqual(verdict.missing, []);
  equal(controlsVerdict(holding(), SPECS, GATE_FAILED)!.readable, false, "a failed gate blocks the reading");
  equal(controlsVerdict(holding(), SPECS, null)!.readable, false, "so does a gate that never ran");
});

Deno.test("controls: each rule at its boundary, with the reason a control fails", () => {
  const failing = (config: string, replacement: ConfigStats) => {
    const rows = holding().map((r) => r.config === config ? replacement : r);
    const verdict = controlsVerdict(rows, SPECS, GATE_PASSED)!;
    equal(verdict.readable, false);
    return verdict.checks.filter((c) => c.outcome !== "holds").map((c) =>
      `${c.config} ${c.outcome}: ${c.why}`
    );
  };
  // a CI that reaches 0 does not lie above it (the guaranteed positive of the 2026-12-03 run)
  deepStrictEqual(failing("TO_oracle-perturbed", row("TO_oracle-perturbed", -0.020, 0.019)), [
    "TO_oracle-perturbed fails: CI [-0.020, 0.019] does not lie above 0",
  ]);
  deepStrictEqual(failing("TO_oracle-perturbed", row("TO_oracle-perturbed", 0, 0.019)), [
    "TO_oracle-perturbed fails: CI [0.000, 0.019] does not lie above 0",
  ]);
  deepStrictEqual(failing("V1_oracle-perturbed", row("V1_oracle-perturbed", 0.001, 0.03)), [
    "V1_oracle-perturbed fails: CI [0.001, 0.030] excludes 0",
  ]);
  deepStrictEqual(failing("TO_oracle-shuffled", row("TO_oracle-shuffled", -0.04, -0.001)), [
    "TO_oracle-shuffled fails: CI [-0.040, -0.001] excludes 0",
  ]);
  deepStrictEqual(failing("None_fgsm-rs", row("None_fgsm-rs", 0.003, 0.058, null)), [
    "None_fgsm-rs fails: the masking probes did not run",
  ]);
  deepStrictEqual(failing("None_fgsm-rs", row("None_fgsm-rs", 0.003, 0.058, ["step-size", "transfer"])), [
    "None_fgsm-rs fails: masking probes failed: step-size, transfer",
  ]);
  // outside the ladder: the 2026-12-03 run's V1_oracle-perturbed (clean 0.244, the ladder's top 0.234)
  deepStrictEqual(failing("V1_oracle-perturbed", row("V1_oracle-perturbed", null)), [
    "V1_oracle-perturbed untestable: no matched gain: its clean accuracy 0.200 lies outside the None ladder",
  ]);
  // a negative's CI may touch 0
  const touching = holding().map((r) => r.config === "TO_oracle-shuffled" ? row(r.config, 0, 0.03) : r);
  equal(controlsVerdict(touching, SPECS, GATE_PASSED)!.readable, true);
});

Deno.test("controls: a grid without predictor-guided models needs no gate; missing roles are named", () => {
  const specs = SPECS.filter((m) => !["V1", "TO", "V1_s1", "TO_s1"].includes(m.name));
  const rows = holding().filter((r) => !["V1", "TO"].includes(r.config));
  equal(controlsVerdict(rows, specs, null)!.readable, true);

  // the paper-gpu grid: augmentation controls only (noise augmentation is reported, not pre-registered)
  const paper = [
    spec("None", "none"),
    spec("None_noise", "none", { augment: { kind: "noise", eps: 8 / 255 } }),
    spec("None_fgsm-rs", "none", { augment: { kind: "fgsm-rs", eps: 0.0043 }, checks: true }),
    spec("V4_oracle-perturbed", "V4", { teacher: { kind: "oracle-perturbed" } }),
  ];
  const verdict = controlsVerdict(
    [
      row("None", -0.01),
      row("None_noise", 0.01),
      row("None_fgsm-rs", 0.01, 0.05, []),
      row("V4_oracle-perturbed", 0.01),
    ],
    paper,
    null,
  )!;
  deepStrictEqual(verdict.checks.map((c) => c.config), ["None_fgsm-rs"], "V4 is neither TO nor V1");
  deepStrictEqual(verdict.missing, ["guaranteed positive", "negative"]);
  equal(
    controlsVerdict([row("None", -0.01), row("V1", 0.01)], [spec("None", "none"), spec("V1", "V1")], null),
    null,
  );
});

/** The amended grid: oracle-adversarial on TO and V1 next to oracle-perturbed (the first design). */
const AMENDED: ModelSpec[] = [
  ...SPECS,
  ...["", "_s1"].flatMap((s) => [
    spec(`TO_oracle-adversarial${s}`, "TO", { teacher: { kind: "oracle-adversarial", eps: 8 / 255 } }),
    spec(`V1_oracle-adversarial${s}`, "V1", { teacher: { kind: "oracle-adversarial", eps: 8 / 255 } }),
  ]),
];

Deno.test("controls: oracle-adversarial takes oracle-perturbed's roles, which is not counted", () => {
  // the first design fails both its checks (as in the 2026-12-03 run), the amended controls hold
  const rows = [
    ...holding().map((r) =>
      r.config === "TO_oracle-perturbed"
        ? row(r.config, -0.02, 0.019)
        : r.config === "V1_oracle-perturbed"
        ? row(r.config, null)
        : r
    ),
    row("TO_oracle-adversarial", 0.01, 0.04),
    row("V1_oracle-adversarial", -0.02, 0.03),
  ];
  const verdict = controlsVerdict(rows, AMENDED, GATE_PASSED)!;
  deepStrictEqual(verdict.checks.map((c) => [c.role, c.config, c.counted, c.outcome]), [
    ["positive control", "None_fgsm-rs", true, "holds"],
    ["guaranteed positive", "TO_oracle-adversarial", true, "holds"],
    ["negative", "TO_oracle-shuffled", true, "holds"],
    ["negative", "V1_oracle-adversarial", true, "holds"],
    ["guaranteed positive", "TO_oracle-perturbed", false, "fails"],
    ["negative", "V1_oracle-perturbed", false, "untestable"],
  ]);
  equal(verdict.readable, true, "superseded checks do not count");
  deepStrictEqual(verdict.missing, []);
  const perturbed = verdict.checks.find((c) => c.config === "TO_oracle-perturbed")!;
  equal(perturbed.expected, "CI above 0 (earlier design, superseded by an amendment: not counted)");
  equal(perturbed.why, "CI [-0.020, 0.019] does not lie above 0");

  // the adversarial controls decide: a failing guaranteed positive or negative blocks the reading
  const failing = (config: string, replacement: ConfigStats) =>
    controlsVerdict(rows.map((r) => r.config === config ? replacement : r), AMENDED, GATE_PASSED)!;
  equal(failing("TO_oracle-adversarial", row("TO_oracle-adversarial", -0.01, 0.03)).readable, false);
  equal(failing("V1_oracle-adversarial", row("V1_oracle-adversarial", 0.001, 0.03)).readable, false);
  // not attacked yet: the guaranteed positive is missing, however the superseded one came out
  const unattacked = controlsVerdict(
    rows.filter((r) => r.config !== "TO_oracle-adversarial"),
    AMENDED,
    GATE_PASSED,
  )!;
  deepStrictEqual(unattacked.missing, ["guaranteed positive"]);
});

/** Amendment 3's grid: the head-only δ (oracle-adversarial-head) next to both earlier designs. */
const AMENDED_3: ModelSpec[] = [
  ...AMENDED,
  ...["", "_s1"].flatMap((s) => [
    spec(`TO_oracle-adversarial-head${s}`, "TO", {
      teacher: { kind: "oracle-adversarial-head", eps: 8 / 255 },
    }),
    spec(`V1_oracle-adversarial-head${s}`, "V1", {
      teacher: { kind: "oracle-adversarial-head", eps: 8 / 255 },
    }),
  ]),
];

Deno.test("controls: oracle-adversarial-head takes the roles; both earlier designs are not counted", () => {
  // amendment 2's pair as it came out on 2026-12-06 (both fail), the head-only pair holding
  const rows = [
    ...holding().filter((r) => !r.config.includes("perturbed")),
    row("TO_oracle-adversarial", -0.002, 0.048),
    row("V1_oracle-adversarial", 0.010, 0.044),
    row("TO_oracle-adversarial-head", 0.01, 0.04),
    row("V1_oracle-adversarial-head", -0.02, 0.03),
  ];
  const verdict = controlsVerdict(rows, AMENDED_3, GATE_PASSED)!;
  deepStrictEqual(verdict.checks.map((c) => [c.role, c.config, c.counted, c.outcome]), [
    ["positive control", "None_fgsm-rs", true, "holds"],
    ["guaranteed positive", "TO_oracle-adversarial-head", true, "holds"],
    ["negative", "TO_oracle-shuffled", true, "holds"],
    ["negative", "V1_oracle-adversarial-head", true, "holds"],
    ["guaranteed positive", "TO_oracle-adversarial", false, "fails"],
    ["negative", "V1_oracle-adversarial", false, "fails"],
  ]);
  equal(verdict.readable, true);
  const failing = rows.map((r) => r.config === "V1_oracle-adversarial-head" ? row(r.config, 0.001, 0.03) : r);
  equal(controlsVerdict(failing, AMENDED_3, GATE_PASSED)!.readable, false, "the head-only negative counts");
});

/** Amendment 4's grid: the head-only pair and its shams (amendment 5 judges the pair by its contrast). */
const AMENDED_4: ModelSpec[] = [
  ...AMENDED_3,
  ...["", "_s1"].flatMap((s) =>
    ["TO", "V1"].map((roi) =>
      spec(`${roi}_oracle-adversarial-sham${s}`, roi, {
        teacher: { kind: "oracle-adversarial-sham", eps: 8 / 255 },
      })
    )
  ),
];

const TO_PAIR = "TO_oracle-adversarial-head − TO_oracle-adversarial-sham";
const V1_PAIR = "V1_oracle-adversarial-head − V1_oracle-adversarial-sham";

/** A head − sham contrast as `matchedResults` gives it. */
function contrast(roi: string, lo: number, hi: number): ShamContrast {
  return {
    roi,
    from: `${roi}_oracle-adversarial-sham`,
    to: `${roi}_oracle-adversarial-head`,
    difference: (lo + hi) / 2,
    ci: { lo, hi, reps: 2000, dropped: 0 },
  };
}

Deno.test("controls: with the sham in the grid, the construction counts through head − sham only", () => {
  // amendment 4's outcome on 2026-12-06: every head and sham model gains; here the pairs' contrasts hold
  const rows = [
    ...holding().filter((r) => !r.config.includes("perturbed")),
    row("TO_oracle-adversarial", -0.002, 0.048),
    row("V1_oracle-adversarial", 0.010, 0.044),
    row("TO_oracle-adversarial-head", 0.005, 0.040),
    row("V1_oracle-adversarial-head", 0.003, 0.039),
    row("TO_oracle-adversarial-sham", 0.000, 0.041),
    row("V1_oracle-adversarial-sham", 0.007, 0.041),
  ];
  const contrasts = [contrast("V1", -0.02, 0.02), contrast("TO", 0.004, 0.05)];
  const verdict = controlsVerdict(rows, AMENDED_4, GATE_PASSED, contrasts)!;
  deepStrictEqual(verdict.checks.map((c) => [c.role, c.config, c.counted, c.outcome]), [
    ["positive control", "None_fgsm-rs", true, "holds"],
    ["guaranteed positive", TO_PAIR, true, "holds"],
    ["negative", "TO_oracle-shuffled", true, "holds"],
    ["negative", V1_PAIR, true, "holds"],
    ["guaranteed positive", "TO_oracle-adversarial", false, "fails"],
    ["negative", "V1_oracle-adversarial", false, "fails"],
  ]);
  equal(verdict.readable, true, "the head and sham models' own gains do not count");
  const pair = verdict.checks.find((c) => c.config === TO_PAIR)!;
  deepStrictEqual([pair.gain, pair.ci, pair.expected], [
    contrasts[1].difference,
    contrasts[1].ci,
    "head − sham: CI above 0",
  ]);
  deepStrictEqual(pair.pair, {
    roi: "TO",
    head: "TO_oracle-adversarial-head",
    sham: "TO_oracle-adversarial-sham",
  });

  const judged = (replaced: ShamContrast[]) => {
    const v = controlsVerdict(rows, AMENDED_4, GATE_PASSED, replaced)!;
    return [v.readable, v.checks.filter((c) => c.outcome !== "holds").map((c) => `${c.config}: ${c.why}`)];
  };
  // the 3-epoch grid's contrasts: TO +0.004 [−0.023, +0.028] does not lie above 0
  deepStrictEqual(judged([contrast("V1", -0.025, 0.021), contrast("TO", -0.023, 0.028)]), [false, [
    `${TO_PAIR}: CI [-0.023, 0.028] does not lie above 0`,
    "TO_oracle-adversarial: CI [-0.002, 0.048] does not lie above 0",
    "V1_oracle-adversarial: CI [0.010, 0.044] excludes 0",
  ]]);
  equal(judged([contrast("V1", 0.001, 0.03), contrast("TO", 0.004, 0.05)])[0], false, "V1's pair counts");
  // a head or sham outside the ladder leaves its pair without a contrast: untestable, not passed
  deepStrictEqual(judged([contrast("V1", -0.02, 0.02)]), [false, [
    `${TO_PAIR}: no matched gain for the head or its sham (clean accuracy outside the None ladder)`,
    "TO_oracle-adversarial: CI [-0.002, 0.048] does not lie above 0",
    "V1_oracle-adversarial: CI [0.010, 0.044] excludes 0",
  ]]);
  // not attacked yet: no pair, so the guaranteed positive is missing
  const unattacked = controlsVerdict(
    rows.filter((r) => r.config !== "TO_oracle-adversarial-sham"),
    AMENDED_4,
    GATE_PASSED,
    contrasts,
  )!;
  deepStrictEqual(unattacked.missing, ["guaranteed positive"]);
});

Deno.test("controls: the controls-long grid, TO's pair and the shuffled oracle without FGSM-RS", () => {
  const specs = PRESETS["controls-long"].models(2);
  const rows = [
    row("None_ladder", -0.02, 0.02),
    row("TO_oracle-shuffled", -0.02, 0.03),
    row("TO_oracle-adversarial-head", 0.01, 0.05),
    row("TO_oracle-adversarial-sham", 0.01, 0.05),
    row("V1", -0.02, 0.03),
    row("TO", -0.03, 0.01),
  ];
  const verdict = controlsVerdict(rows, specs, GATE_PASSED, [contrast("TO", 0.001, 0.03)])!;
  deepStrictEqual(verdict.checks.map((c) => [c.role, c.config, c.outcome]), [
    ["guaranteed positive", TO_PAIR, "holds"],
    ["negative", "TO_oracle-shuffled", "holds"],
  ]);
  deepStrictEqual(verdict.missing, ["positive control"], "FGSM-RS is carried over, and the report says so");
  equal(verdict.readable, true);
  equal(controlsVerdict(rows, specs, GATE_FAILED, [contrast("TO", 0.001, 0.03)])!.readable, false);
});

Deno.test("controls: head/sham pairs are found by their settings, not their names", () => {
  const teacher = (kind: "oracle-adversarial-head" | "oracle-adversarial-sham", eps = 8 / 255) => ({
    teacher: { kind, eps },
  });
  const specs = [
    spec("b", "TO", teacher("oracle-adversarial-head")),
    spec("b_s1", "TO", { ...teacher("oracle-adversarial-head"), seed: 1 }),
    spec("a", "TO", teacher("oracle-adversarial-sham")),
    spec("a_s1", "TO", { ...teacher("oracle-adversarial-sham"), seed: 1 }),
    // V1 at α 0.9 has a sham only at α 0.5, and a sham at another δ: neither pairs
    spec("v_head", "V1", { ...teacher("oracle-adversarial-head"), alpha: 0.9 }),
    spec("v_sham", "V1", { ...teacher("oracle-adversarial-sham"), alpha: 0.5 }),
    spec("v_sham_eps", "V1", { ...teacher("oracle-adversarial-sham", 4 / 255), alpha: 0.9 }),
    spec("w_head", "V1", { ...teacher("oracle-adversarial-head"), alpha: 0.5 }),
  ];
  deepStrictEqual(headShamPairs(specs), [
    { roi: "V1", head: "w_head", sham: "v_sham" },
    { roi: "TO", head: "b", sham: "a" },
  ]);
});

Deno.test("controls: without oracle-adversarial in the grid, oracle-perturbed keeps its roles", () => {
  const verdict = controlsVerdict(holding(), SPECS, GATE_PASSED)!;
  ok(verdict.checks.every((c) => c.counted && !c.expected.includes("not counted")));
  const failed = controlsVerdict(
    holding().map((r) => r.config === "TO_oracle-perturbed" ? row(r.config, -0.02, 0.019) : r),
    SPECS,
    GATE_PASSED,
  )!;
  equal(failed.readable, false, "the guaranteed positive counts");
});
