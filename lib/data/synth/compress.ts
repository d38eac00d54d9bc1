/**
 * Byte-stream compression through the web-standard `CompressionStream`, so no npm dependency is needed for
 * the gzip of `.nii.gz` files or the zlib streams inside MAT-v5 `miCOMPRESSED` elements.
 * @module
 */

/**
 * Compresses `bytes` as a gzip member (`"gzip"`, RFC 1952) or a zlib stream (`"deflate"`, RFC 1950). Output is
 * deterministic: Deno writes a zero modification time in the gzip header.
 *
 * @example
 * ```ts
 * const gz = await compress(new TextEncoder().encode("hello"), "gzip");
 * ```
 */
export async function compress(bytes: Uint8Array, format: "gzip" | "deflate"): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream(format),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
