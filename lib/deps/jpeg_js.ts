/** Baseline JPEG decoding and encoding (see README.md: full specifier so URL imports of mod.ts resolve). @module */
export { decode, encode } from "npm:jpeg-js@0.4.4";
