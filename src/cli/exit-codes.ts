import { type ErrorCode, isVerinferError } from "../errors.js";

/**
 * Exit codes of the `verinfer` CLI. `unaudited`: `verify` found the proof valid against a package whose circuit
 * nobody audited on this machine (an export from elsewhere), so the verdict rests on an unchecked circuit.
 */
export const EXIT = { ok: 0, invalid: 1, usage: 2, unaudited: 3 } as const;

const USAGE_CODES: readonly ErrorCode[] = [
  "INVALID_INPUT",
  "INVALID_OPTIONS",
  "INVALID_MODEL",
  "UNSUPPORTED_LAYER",
  "UNSUPPORTED_MODE",
  "MALFORMED_RECEIPT",
  "ARTIFACT_MISSING",
  "ARTIFACT_CORRUPT",
];

/** Usage and malformed-input errors exit 2; anything else that stops a command exits 1. */
export function exitCodeFor(error: unknown): number {
  return isVerinferError(error) && USAGE_CODES.includes(error.code) ? EXIT.usage : EXIT.invalid;
}
