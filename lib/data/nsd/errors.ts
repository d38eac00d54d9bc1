/**
 * The single error type of the NSD data layer. Every message is one line that names the offending file and
 * says how to fix it, so `runMain` can print it verbatim.
 * @module
 */
import { UserError } from "../../errors.ts";

/** A file of an NSD download is missing, malformed, or inconsistent with the others. */
export class NsdFormatError extends UserError {
  override name = "NsdFormatError";

  /**
   * @param file the file (or folder) at fault; it starts the message.
   * @param problem what is wrong and how to fix it; newlines are folded so the message stays one line.
   */
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`.replace(/\s*\n\s*/g, " "));
  }
}
