/** Shape bias on constructed cue-conflict decisions whose counts are known by construction. */
import { categoryDecisions, parseCueConflict, shapeBias } from "../lib/analysis/mod.ts";
import { deepStrictEqual, equal, throws } from "../lib/testing/assert.ts";

const FILES = ["cat1-elephant2.png", "dog10-bird2.png", "0001_cc_dnn_knife3-oven1.png", "bear2-bear5.png"];

Deno.test("shape bias: file names follow model-vs-human's parsing", () => {
  deepStrictEqual(parseCueConflict("stimuli/cat/cat1-elephant2.png"), { shape: "cat", texture: "elephant" });
  deepStrictEqual(parseCueConflict(FILES[2]), { shape: "knife", texture: "oven" });
  throws(() => parseCueConflict("cat1.png"), /not a cue-conflict name/);
});

Deno.test("shape bias: all-shape → 1, all-texture → 0, none → undefined", () => {
  const run = (pick: "shape" | "texture" | "other") =>
    shapeBias(FILES.map((file) => {
      const { shape, texture } = parseCueConflict(file);
      return { file, decision: pick === "shape" ? shape : pick === "texture" ? texture : "truck" };
    }));
  const shape = run("shape"), texture = run("texture"), other = run("other");
  equal(shape.shapeBias, 1);
  equal(texture.shapeBias, 0);
  equal(other.shapeBias, null);
  // bear2-bear5 has no cue conflict: excluded whatever the decision.
  equal(shape.excluded, 1);
  equal(shape.shape, 3);
  equal(other.neither, 3);
});

Deno.test("shape bias: mixed decisions, per class, with a class-index mapping", () => {
  const classes = ["bird", "cat", "dog", "elephant", "knife", "oven", "truck"];
  const result = shapeBias([
    { file: "cat1-elephant2.png", decision: 1 }, // shape
    { file: "cat2-dog1.png", decision: 2 }, // texture
    { file: "dog10-bird2.png", decision: 0 }, // texture
    { file: "knife3-oven1.png", decision: 6 }, // neither
    { file: "dog4-dog9.png", decision: 2 }, // excluded
  ], classes);
  equal(result.shape, 1);
  equal(result.texture, 2);
  equal(result.neither, 1);
  equal(result.excluded, 1);
  equal(result.shapeBias, 1 / 3);
  deepStrictEqual(Object.keys(result.perClass), ["cat", "dog", "knife"]);
  equal(result.perClass.cat.shapeBias, 0.5);
  equal(result.perClass.dog.shapeBias, 0);
  equal(result.perClass.dog.excluded, 1);
  equal(result.perClass.knife.shapeBias, null);
  throws(() => shapeBias([{ file: "cat1-elefant2.png", decision: 1 }], classes), /texture 'elefant'/);
});

Deno.test("shape bias: category decision averages softmax probabilities over each category's indices", () => {
  // Logits ln(p): probabilities 0.4 | 0.3, 0.3 → category means 0.4 vs 0.3: the single-index one wins even
  // though its summed probability (0.4) is below the other's (0.6).
  const logits = [0.4, 0.3, 0.3].map(Math.log);
  const categories = [{ name: "a", indices: [0] }, { name: "b", indices: [1, 2] }];
  deepStrictEqual([...categoryDecisions(logits, 1, categories)], [0]);
  deepStrictEqual([...categoryDecisions([0, 5, 5], 1, categories)], [1]);
  throws(() => categoryDecisions(logits, 1, [{ name: "x", indices: [3] }]), /outside 0..2/);
});
