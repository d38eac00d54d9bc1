import { readClassList } from "../lib/data/images/mod.ts";
import { deepStrictEqual, equal } from "../lib/testing/assert.ts";

Deno.test("resources/coco50.txt: 50 sorted WNIDs, sorrel … ballplayer (docs/method.md#training-data)", async () => {
  const names = await readClassList("resources/coco50.txt");
  equal(names.length, 50);
  deepStrictEqual(names, [...names].sort());
  equal(names[0], "n02389026");
  equal(names[1], "n02391049");
  equal(names[49], "n09835506");
  deepStrictEqual(names.filter((n) => !/^n\d{8}$/.test(n)), []);
});
