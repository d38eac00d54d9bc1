/**
 * folderFingerprint against sha256sum-style hashing done here with WebCrypto (an independent SHA-256), and
 * its sensitivity: one byte, a renamed file, bytes moved between files, an added file all change it; a copy
 * elsewhere, written in another order, does not.
 */
import { join } from "node:path";
import { folderFingerprint } from "../lib/io/fingerprint.ts";
import { equal, notEqual } from "../lib/testing/assert.ts";

const made: string[] = [];

async function world(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "fingerprint-" });
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, name, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
  return dir;
}

Deno.test("folderFingerprint: SHA-256 of sorted (path, size, bytes); any change to a file changes it", async () => {
  const files = { "b/x.bin": "hello", "a.txt": "world", "b/y/z.txt": "" };
  const dir = await world(files);
  const fingerprint = await folderFingerprint(dir);
  // the format, hashed independently: path NUL size NUL bytes, paths sorted
  const stream = ["a.txt\u00005\u0000world", "b/x.bin\u00005\u0000hello", "b/y/z.txt\u00000\u0000"].join("");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(stream));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  equal(fingerprint, `sha256:${hex}`);

  const reversed = Object.fromEntries(Object.entries(files).reverse());
  equal(await folderFingerprint(await world(reversed)), fingerprint, "a copy written in another order");
  const variants: Record<string, string>[] = [
    { ...files, "a.txt": "worle" },
    { "b/x.bin": "hello", "a2.txt": "world", "b/y/z.txt": "" },
    { "b/x.bin": "hellow", "a.txt": "orld", "b/y/z.txt": "" },
    { ...files, "c.txt": "" },
  ];
  for (const variant of variants) notEqual(await folderFingerprint(await world(variant)), fingerprint);
  for (const dir of made) await Deno.remove(dir, { recursive: true });
});
