/** NIfTI-1 header and image reading (see README.md: full specifier so URL imports of mod.ts resolve). @module */
export * from "npm:nifti-reader-js@0.8.0";
