import { type ErrorCode, isVerinferError } from "../errors.js";

/** Exit codes of the `verinfer` CLI. */
export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

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
