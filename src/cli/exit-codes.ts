import { ERROR_CODE_MEANINGS, isVerinferError } from "../errors.js";

/**
 * Exit codes of the `verinfer` CLI. `unaudited`: `verify` found the proof valid against a package whose circuit
 * nobody audited on this machine (an export from elsewhere), so the verdict rests on an unchecked circuit.
 */
export const EXIT = { ok: 0, invalid: 1, usage: 2, unaudited: 3 } as const;

/** Usage and malformed-input errors (`usage` in `ERROR_CODE_MEANINGS`) exit 2; anything else exits 1. */
export function exitCodeFor(error: unknown): number {
  return isVerinferError(error) && ERROR_CODE_MEANINGS[error.code]?.usage ? EXIT.usage : EXIT.invalid;
}
