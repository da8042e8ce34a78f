import { ERROR_CODE_MEANINGS, isVerinferError } from "../errors.js";

/** Exit codes of the `verinfer` CLI. */
export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

/** Usage and malformed-input errors (`usage` in `ERROR_CODE_MEANINGS`) exit 2; anything else exits 1. */
export function exitCodeFor(error: unknown): number {
  return isVerinferError(error) && ERROR_CODE_MEANINGS[error.code]?.usage ? EXIT.usage : EXIT.invalid;
}
