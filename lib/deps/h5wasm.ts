/** HDF5 reading and writing (h5wasm, node build: real file paths) (see README.md: full specifier so URL imports of mod.ts resolve). @module */
export { default } from "npm:h5wasm@0.10.3/node";
