/**
 * HDF5 prints a multi-line "HDF5-DIAG" error stack to stderr for every failed call (a truncated file gives
 * about 60 lines). h5wasm's node build writes it in pieces with `fs.writeSync(2, …)`, within the one
 * synchronous call that failed, so this module wraps that function: from a write starting "HDF5-DIAG" to the
 * end of the current synchronous run, stderr writes are collected instead (the callers turn the failure into
 * one line; {@link takeHdf5Diagnostics} returns them). With NEUROGUIDE_DEBUG set they print. Every other
 * write passes through unchanged.
 * @module
 */
import fs from "node:fs";

/** NEUROGUIDE_DEBUG set to anything but "" or "0" (as the command line reads it). */
const debug = () => !["", "0", undefined].includes(Deno.env.get("NEUROGUIDE_DEBUG"));
let collected: string[] = [];
let inDiagnostic = false;
const decoder = new TextDecoder();
const writeSync = fs.writeSync as (...args: unknown[]) => number;

function filteredWriteSync(fd: number, data: unknown, ...rest: unknown[]): number {
  if (fd !== 2 || debug()) return writeSync(fd, data, ...rest);
  const view = data as ArrayBufferView;
  const [offset = 0, length] = rest as [number?, number?];
  const size = length ?? (typeof data === "string" ? 0 : view.byteLength - offset);
  const text = typeof data === "string"
    ? data
    : decoder.decode(new Uint8Array(view.buffer, view.byteOffset + offset, size));
  if (!inDiagnostic && text.startsWith("HDF5-DIAG")) {
    inDiagnostic = true;
    queueMicrotask(() => inDiagnostic = false);
  }
  if (!inDiagnostic) return writeSync(fd, data, ...rest);
  collected.push(text);
  if (collected.length > 2000) collected = collected.slice(-1000);
  return typeof data === "string" ? new TextEncoder().encode(data).length : size;
}

fs.writeSync = filteredWriteSync as typeof fs.writeSync;

/** The HDF5 diagnostic lines collected since the last call, cleared. */
export function takeHdf5Diagnostics(): string[] {
  const lines = collected.join("").split("\n").filter((line) => line.trim() !== "");
  collected = [];
  return lines;
}
