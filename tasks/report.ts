/**
 * `deno task report DIR`: aggregates a sweep's results folder into report.md, CSV tables and figures.
 * @module
 */
import { parseFlags } from "../lib/cli/args.ts";
import { UsageError, UserError } from "../lib/errors.ts";
import { runMain } from "../lib/cli/main.ts";
import { checkOutputPath } from "../lib/io/output_path.ts";
import { writeReport } from "../lib/report/write.ts";

const HELP = `deno task report DIR [--quiet]

Aggregates a results folder of deno task sweep (or any folder with its layout) into DIR/report.md,
DIR/tables/*.csv and DIR/figures/*.{svg,png}:
  - a header with every setting of the sweep that differs from the paper's (plan.json), and a loud warning
    when the gate in front of the predictor-guided models failed (gate_failed.json) or did not run;
  - per configuration (seeds pooled, from the attacks' per-point outcomes): clean and robust accuracy
    (mean over ε), robust/clean, normalize_acc, the gain at matched clean accuracy over the None checkpoint
    ladder with a 95% bootstrap CI, and the hierarchy's Spearman ρ with permutation p and bootstrap CI;
  - per model: clean accuracy, the neural head's r to its predictor, the predictor's r (models/*/summary.json,
    predictors/<ROI>/summary.json);
  - per attack: robust accuracy per model × ε (attacks/<model>/<attack>.json), a robust-accuracy-vs-ε figure
    in ROI-hierarchy order (None, random, V1_shuffle, TO_shuffle, V1, V2, V4, VO, PHC, LO, TO, WD_…), the
    max gain over None across ε and its trend along V1 → TO (Spearman ρ);
  - analyses when present (deno task analyze / attack --transfer outputs, as deno task sweep lays them out):
    analyses/smoothness/<model>.json (smoothness vs ε), analyses/landscape/<model>.json (loss-landscape
    summary and slice), analyses/transfer/<model>.json (source × target robust-accuracy heatmap),
    analyses/rsa.json (matrix, MDS), analyses/cka.json (linear-CKA matrix), analyses/shape_bias/<model>.json
    (bars), analyses/manifold.json (radius and capacity vs each model's max gain over None).
Missing parts are reported as "not available", not errors. Every file is written atomically.

  --quiet      print only the final line
  -h, --help   this text

Exit codes: 0 ok, 1 error (one line), 2 usage error.`;

async function main(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, {
    quiet: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  }, true);
  if (values.help) return console.log(HELP);
  if (positionals.length !== 1) throw new UsageError("expected one results folder: deno task report DIR");
  const dir = positionals[0];
  if (!(await Deno.stat(dir).then((s) => s.isDirectory, () => false))) {
    throw new UserError(`${dir}: no such folder (pass the --out folder of deno task sweep)`);
  }
  await checkOutputPath(`${dir}/report.md`, "report", "file");
  const started = performance.now();
  const { files, results } = await writeReport(
    dir,
    values.quiet ? undefined : (file) => console.error(`report: wrote ${file}`),
  );
  console.log(
    `report: ${results.models.length} models, ${files.length} files in ${
      ((performance.now() - started) / 1000).toFixed(1)
    }s → ${dir}/report.md`,
  );
}

if (import.meta.main) await runMain("report", () => main(Deno.args));
