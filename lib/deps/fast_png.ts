/** PNG encoding and decoding (see README.md: full specifier so URL imports of mod.ts resolve). @module */
export * from "npm:fast-png@8.0.0";
