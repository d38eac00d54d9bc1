/**
 * SVG → PNG with resvg compiled to WebAssembly. resvg-wasm sees no system fonts, so the font is passed as
 * bytes: DejaVu Sans from Debian's `fonts-dejavu-core` (already on our CI image and most Debian/Ubuntu
 * machines; an npm font package would add a download to every fresh cache for the same glyphs). Without
 * a font every text element would silently vanish, so a missing font is an error naming the package.
 * @module
 */
import { initWasm, Resvg, RESVG_WASM_URL } from "../deps/resvg_wasm.ts";
import { UserError } from "../errors.ts";

/** Where Debian's `fonts-dejavu-core` installs DejaVu Sans; override with `NEUROGUIDE_FONT`. */
export const DEFAULT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

let ready: Promise<Uint8Array> | null = null;

/** Initialises the wasm module once per process and loads the font bytes. */
function setUp(): Promise<Uint8Array> {
  ready ??= (async () => {
    await initWasm(await Deno.readFile(new URL(RESVG_WASM_URL)));
    const font = Deno.env.get("NEUROGUIDE_FONT") ?? DEFAULT_FONT;
    return await Deno.readFile(font).catch(() => {
      throw new UserError(
        `${font}: font not found; install fonts-dejavu-core (apt-get) or set NEUROGUIDE_FONT to a .ttf file`,
      );
    });
  })();
  return ready;
}

/**
 * Rasterises `svg` to PNG bytes, scaled to `width` pixels (default: the SVG's own width), on white.
 *
 * @example
 * ```ts
 * import { Plot, renderSvg } from "./mod.ts";
 * // Writes a one-point chart as a 1280-px PNG (needs the DejaVu Sans font, see {@link DEFAULT_FONT}).
 * async function writeChart(path: string) {
 *   await Deno.writeFile(path, await svgToPng(renderSvg({ marks: [Plot.dot([[1, 2]])] }), 1280));
 * }
 * ```
 */
export async function svgToPng(svg: string, width?: number): Promise<Uint8Array> {
  const font = await setUp();
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: width ? { mode: "width", value: width } : { mode: "original" },
    font: { fontBuffers: [font], defaultFontFamily: "DejaVu Sans", loadSystemFonts: false },
  });
  try {
    const image = resvg.render();
    try {
      return image.asPng();
    } finally {
      image.free();
    }
  } finally {
    resvg.free();
  }
}
