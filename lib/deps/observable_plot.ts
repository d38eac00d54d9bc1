// Observable Plot: declarative charts; rendered without a browser through linkedom (lib/plot/render.ts).
export * from "npm:@observablehq/plot@0.6.17";
