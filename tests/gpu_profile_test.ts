import { fill } from "../lib/gpu/fill.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { profileDispatches } from "../lib/gpu/profile.ts";
import { assertClose, equal, ok, rejects } from "../lib/testing/assert.ts";

Deno.test("gpu profile: times every dispatch of every submit, in order, and results are unchanged", async () => {
  const gpu = await getGpu();
  if (!gpu.device.features.has("timestamp-query")) return; // nothing to test on such an adapter
  const count = 1 << 20;
  const a = gpu.buffer(count * 4, "profile-a"), b = gpu.buffer(count * 4, "profile-b");
  const fillA = await fill(gpu, a, count, 1.5), fillB = await fill(gpu, b, count, -2);
  const timings = await profileDispatches(gpu, async () => {
    gpu.submit([fillA, fillB]);
    gpu.submit([fillB]);
    await gpu.sync("profile test");
  });
  equal(timings.map((t) => t.submit).join(), "0,0,1");
  ok(timings.every((t) => t.label === fillA.label && t.ms >= 0 && t.ms < 10_000));
  // A million-element fill takes measurable time: the timestamps are not all equal.
  ok(timings.some((t) => t.ms > 0));
  assertClose(await gpu.readF32(a, 2), [1.5, 1.5]);
  assertClose(await gpu.readF32(b, 2), [-2, -2]);
});

Deno.test("gpu profile: an error in the work propagates", async () => {
  const gpu = await getGpu();
  if (!gpu.device.features.has("timestamp-query")) return;
  await rejects(profileDispatches(gpu, () => Promise.reject(new Error("boom"))), /boom/);
});
