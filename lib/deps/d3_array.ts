// @ts-types="npm:@types/d3-array@3.2.1"
export * from "npm:d3-array@3.2.5";
