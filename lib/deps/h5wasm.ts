/** HDF5 reading and writing (h5wasm, node build: real file paths) (see README.md: full specifier so URL imports of mod.ts resolve); HDF5's error stacks are collected, not printed (see ./h5wasm_diagnostics.ts). @module */
export { default } from "npm:h5wasm@0.10.3/node";
export { takeHdf5Diagnostics } from "./h5wasm_diagnostics.ts";
