/**
 * Observable Plot → one standalone SVG string, without a browser: Plot renders into a linkedom document, and
 * the result is fixed up so files open in rsvg, resvg and browsers alike (docs/platform.md#plotting):
 * - the `xmlns` linkedom omits is added;
 * - a white background rectangle is drawn (CSS `background` is ignored by SVG rasterisers);
 * - SVG legends (quantize colour scales; ramps would need `<canvas>`) are stacked above the chart in the same
 *   file; HTML legends (ordinal swatches) cannot survive and are rejected — label series with text marks;
 * - a title becomes SVG text (Plot would make it an HTML `<h2>`).
 * @module
 */
import { UserError } from "../errors.ts";
import * as Plot from "../deps/observable_plot.ts";
import { parseHTML } from "../deps/linkedom.ts";

const SVG_NS = "http://www.w3.org/2000/svg";
const TITLE_HEIGHT = 24;

/** The DOM surface used here (Deno has no DOM types; linkedom's nodes provide these members). */
interface DomElement {
  readonly tagName: string;
  readonly children: ArrayLike<DomElement>;
  readonly outerHTML: string;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
}

/** Plot options plus a title rendered as SVG text. `document` and `style` are set here. */
export type ChartOptions = Omit<Plot.PlotOptions, "document" | "title" | "style"> & { title?: string };

/** Thrown when an option cannot be rendered to standalone SVG (e.g. an HTML swatch legend). */
export class PlotRenderError extends UserError {
  override name = "PlotRenderError";
}

/**
 * Renders `options` to a standalone SVG document string (white background, `width`×`height` from Plot).
 *
 * @example
 * ```ts
 * import { Plot } from "./mod.ts";
 * const svg = renderSvg({ title: "loss", marks: [Plot.lineY([3, 2, 1.5, 1.2])] });
 * svg.startsWith("<svg"); // true: a standalone SVG document, ready for Deno.writeTextFile
 * ```
 */
export function renderSvg(options: ChartOptions): string {
  const { title, ...plotOptions } = options;
  // linkedom's typings describe a browser window, which Deno's (DOM-less) lib does not declare
  const { document } = parseHTML("<!DOCTYPE html><html><body></body></html>") as unknown as {
    document: unknown;
  };
  const node = Plot.plot({
    ...plotOptions,
    // the default white-on-transparent `currentColor` renders black on transparent in rasterisers
    style: { background: "white", color: "black", fontFamily: "DejaVu Sans, sans-serif" },
    document: document as never,
  }) as unknown as DomElement;
  // without legends Plot returns the <svg> itself; with them a <figure> holding legends and the chart
  const parts = node.tagName.toLowerCase() === "svg" ? [node] : Array.from(node.children);
  const svgs = parts.filter((p) => p.tagName.toLowerCase() === "svg");
  if (parts.some((p) => p.tagName.toLowerCase() === "div")) {
    throw new PlotRenderError(
      "an HTML legend (ordinal swatches) cannot be exported to SVG; use a quantize scale or text labels",
    );
  }
  const sized = svgs.map((svg) => ({
    svg,
    width: Number(svg.getAttribute("width")),
    height: Number(svg.getAttribute("height")),
  }));
  const width = Math.max(...sized.map((s) => s.width));
  let y = title ? TITLE_HEIGHT : 0;
  const body: string[] = [];
  // legends come first in Plot's figure; keep that order, each as a nested <svg> at its offset
  for (const { svg, height } of sized) {
    svg.setAttribute("x", "0");
    svg.setAttribute("y", String(y));
    svg.removeAttribute("xmlns");
    body.push(svg.outerHTML);
    y += height;
  }
  const heading = title
    ? `<text x="${width / 2}" y="17" text-anchor="middle" font-size="14" font-weight="bold">${
      escapeXml(title)
    }</text>`
    : "";
  return `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="${SVG_NS}" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" ` +
    `font-family="DejaVu Sans, sans-serif">` +
    `<rect width="100%" height="100%" fill="white"/>${heading}${body.join("")}</svg>\n`;
}

/** Escapes text for XML character data and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
