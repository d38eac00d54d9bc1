// Softmax cross-entropy of one row, included by softmax_ce.wgsl, guidance_loss.wgsl and manifold_loss.wgsl.
// Expects module-scope `logits` ([rows, classes] f32), `labels` (u32 per row) and, for ce_row_grad, a writable
// `dlogits`.
struct CeRow { loss: f32, lse: f32, correct: f32 }

// A NaN the compiler cannot reject as a constant: marks a row whose label is out of range, so that the
// finite check stops training instead of silently reading another row.
fn runtime_nan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

// Loss −log softmax(label), log-sum-exp, and 1 if the first maximal logit is the label.
fn ce_row(row: u32, classes: u32) -> CeRow {
  let base = row * classes;
  var best = logits[base];
  var arg = 0u;
  for (var k = 1u; k < classes; k++) {
    let v = logits[base + k];
    if (v > best) {
      best = v;
      arg = k;
    }
  }
  var sum = 0.0;
  for (var k = 0u; k < classes; k++) { sum += exp(logits[base + k] - best); }
  let lse = best + log(sum);
  let label = labels[row];
  if (label >= classes) { return CeRow(runtime_nan(), lse, 0.0); }
  return CeRow(lse - logits[base + label], lse, select(0.0, 1.0, arg == label));
}

// dlogits row = scale · (softmax − one_hot(label)).
fn ce_row_grad(row: u32, classes: u32, lse: f32, scale: f32) {
  let base = row * classes;
  let label = labels[row];
  for (var k = 0u; k < classes; k++) {
    dlogits[base + k] = scale * (exp(logits[base + k] - lse) - select(0.0, 1.0, k == label));
  }
}
