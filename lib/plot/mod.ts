/**
 * Charts without a browser: Observable Plot → standalone SVG ({@link renderSvg}) → PNG ({@link svgToPng}).
 * Re-exports Plot's marks so callers need one import.
 * @module
 */
export * as Plot from "../deps/observable_plot.ts";
export { type ChartOptions, escapeXml, PlotRenderError, renderSvg } from "./render.ts";
export { DEFAULT_FONT, svgToPng } from "./png.ts";
