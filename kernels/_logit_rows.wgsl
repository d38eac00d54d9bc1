// Row helpers included by the attack loss kernels and deepfool/cw. Expects a
// module-scope `logits` ([rows, classes] f32). Ties go to the lower class index everywhere, like an argmax
// that returns the first maximum.

// Index of the largest logit of the row starting at `base`.
fn row_argmax(base: u32, classes: u32) -> u32 {
  var arg = 0u;
  for (var k = 1u; k < classes; k++) {
    if (logits[base + k] > logits[base + arg]) { arg = k; }
  }
  return arg;
}

// Index of the largest logit other than `label`.
fn row_argmax_other(base: u32, classes: u32, label: u32) -> u32 {
  var arg = select(0u, 1u, label == 0u);
  for (var k = arg + 1u; k < classes; k++) {
    if (k != label && logits[base + k] > logits[base + arg]) { arg = k; }
  }
  return arg;
}

// Indices of the four largest logits in descending order (π1..π4); entries past `classes` repeat the last.
fn row_top4(base: u32, classes: u32) -> vec4<u32> {
  var top = vec4<u32>(0u);
  for (var r = 0u; r < min(4u, classes); r++) {
    var arg = 0xffffffffu;
    for (var k = 0u; k < classes; k++) {
      var taken = false;
      for (var q = 0u; q < r; q++) { taken = taken || top[q] == k; }
      if (!taken && (arg == 0xffffffffu || logits[base + k] > logits[base + arg])) { arg = k; }
    }
    top[r] = arg;
  }
  for (var r = classes; r < 4u; r++) { top[r] = top[classes - 1u]; }
  return top;
}
