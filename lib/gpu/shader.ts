/**
 * Loads hand-written WGSL from `kernels/`. Resolved against this module's URL, so it works from a checkout
 * (`file:`) and when `mod.ts` is imported by URL from another project.
 * @module
 */
const cache = new Map<string, Promise<string>>();

/** The WGSL text of `kernels/<name>.wgsl`, fetched once per process. */
export function loadKernelSource(name: string): Promise<string> {
  let source = cache.get(name);
  if (!source) {
    const url = new URL(`../../kernels/${name}.wgsl`, import.meta.url);
    source = fetch(url).then(async (response) => {
      if (!response.ok) throw new Error(`kernel source ${url}: HTTP ${response.status}`);
      return await response.text();
    }, (e) => {
      throw new Error(`kernel source ${url}: ${(e as Error).message}`);
    });
    cache.set(name, source);
    source.catch(() => cache.delete(name));
  }
  return source;
}
