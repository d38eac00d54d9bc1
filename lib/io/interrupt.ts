/**
 * Cleanup on Ctrl-C or a kill: while some output is half-written, SIGINT and SIGTERM first run a synchronous
 * cleanup (remove the half-written folder, release a lock), then end the process with the shell's codes 130
 * and 143. Library code uses it directly, so the cleanup also happens where no CLI wraps the call.
 * @module
 */

/**
 * Until the returned function is called, SIGINT and SIGTERM run `cleanup` (given the signal's name) and exit
 * 130 or 143. A cleanup that throws is ignored: the process is stopping anyway.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * const done = onInterrupt(() => Deno.removeSync(dir, { recursive: true }));
 * // … write into dir …
 * done(); // finished: a later Ctrl-C no longer removes it
 * ```
 */
export function onInterrupt(cleanup: (signal: Deno.Signal) => void): () => void {
  // Windows delivers only SIGINT to a console process
  const signals: [Deno.Signal, number][] = Deno.build.os === "windows"
    ? [["SIGINT", 130]]
    : [["SIGINT", 130], ["SIGTERM", 143]];
  const handlers = signals.map(([signal, code]) => {
    const handler = () => {
      try {
        cleanup(signal);
      } catch {
        // nothing more can be done while stopping
      }
      Deno.exit(code);
    };
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
  };
}
