/**
 * lib/plot: Observable Plot → standalone SVG (well-formed, xmlns, white background, marks present, quantize
 * legends kept, HTML legends refused) → PNG (signature, IHDR dimensions, text actually drawn with the font).
 */
import { decode } from "fast-png";
import { Plot, PlotRenderError, renderSvg, svgToPng } from "../lib/plot/mod.ts";
import { equal, ok, throws } from "../lib/testing/assert.ts";
import { checkWellFormed } from "./fixtures/xml.ts";

const series = [
  { x: 0, y: 0.9, s: "None" },
  { x: 1, y: 0.5, s: "None" },
  { x: 0, y: 0.9, s: "TO & co" },
  { x: 1, y: 0.7, s: "TO & co" },
];

const lineChart = () =>
  renderSvg({
    title: "robust <accuracy>",
    width: 400,
    height: 240,
    marks: [
      Plot.line(series, { x: "x", y: "y", stroke: "s" }),
      Plot.text(series, Plot.selectLast({ x: "x", y: "y", z: "s", text: "s" })),
    ],
  });

Deno.test("renderSvg: a standalone, well-formed SVG with xmlns, white background, marks and title", () => {
  const svg = lineChart();
  equal(checkWellFormed(svg), "svg");
  ok(svg.includes('<svg xmlns="http://www.w3.org/2000/svg"'), "root xmlns");
  ok(/<rect width="100%" height="100%" fill="white"\/>/.test(svg), "white background rect");
  ok(svg.includes('aria-label="line"') && svg.includes('aria-label="text"'), "line and text marks");
  equal((svg.match(/<path /g) ?? []).length >= 2, true, "one path per series");
  ok(svg.includes("robust &#60;accuracy&#62;"), "title escaped into SVG text");
  ok(svg.includes("TO &amp; co") || svg.includes("TO &#38; co"), "labels escaped");
  ok(/width="400" height="\d+"/.test(svg), "Plot's width kept");
});

Deno.test("renderSvg: a quantize colour legend is stacked into the same SVG; HTML swatch legends are refused", () => {
  const cells = [{ a: "x", b: "y", v: 0.1 }, { a: "y", b: "x", v: 0.9 }];
  const svg = renderSvg({
    color: { type: "quantize", n: 5, scheme: "viridis", legend: true },
    marks: [Plot.cell(cells, { x: "a", y: "b", fill: "v" })],
  });
  checkWellFormed(svg);
  equal((svg.match(/<svg[ >]/g) ?? []).length, 3, "root + legend + chart");
  ok(svg.includes('aria-label="cell"'), "cells drawn");
  throws(
    () => renderSvg({ color: { legend: true }, marks: [Plot.dot(series, { x: "x", y: "y", fill: "s" })] }),
    PlotRenderError,
  );
});

Deno.test("svgToPng: PNG signature, requested width, proportional height, text drawn", async () => {
  const svg = lineChart();
  const [, w, h] = svg.match(/<svg xmlns="[^"]+" width="(\d+)" height="(\d+)"/)!.map(Number);
  const png = await svgToPng(svg, 800);
  equal([...png.subarray(0, 8)].join(","), "137,80,78,71,13,10,26,10");
  const view = new DataView(png.buffer, png.byteOffset);
  equal(view.getUint32(16), 800, "IHDR width");
  equal(view.getUint32(20), Math.round((800 * h) / w), "IHDR height");

  // only a title: dark pixels exist iff the font was loaded (resvg-wasm silently drops text without one)
  const text = await svgToPng(renderSvg({ title: "HHHH", width: 200, height: 60, marks: [] }));
  const image = decode(text);
  let dark = 0;
  for (let i = 0; i < image.data.length; i += image.channels) if (image.data[i] < 128) dark++;
  ok(dark > 20, `title glyphs rendered (${dark} dark pixels)`);
  equal(image.data[0], 255, "white background");
});
