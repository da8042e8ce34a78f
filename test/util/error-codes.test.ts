// One list says what each error code means (issue 20): the queue's provers, deferred proofs and the CLI read it,
// so they cannot disagree (they did on MALFORMED_RECEIPT: retried by the queue, final for deferred proofs).
import { describe, expect, it } from "vitest";
import { EXIT, exitCodeFor } from "../../src/cli/exit-codes.js";
import { ERROR_CODE_MEANINGS, ERROR_CODES, isRetryable, VerinferError } from "../../src/errors.js";

describe("error code meanings", () => {
  it("say for every code whether a retry may help and whether the caller is at fault", () => {
    expect(Object.keys(ERROR_CODE_MEANINGS).sort()).toEqual([...ERROR_CODES].sort());
  });

  it("never retry work that is itself wrong: its input, options, model or receipt", () => {
    for (const code of [
      "INVALID_INPUT",
      "INVALID_OPTIONS",
      "INVALID_MODEL",
      "UNSUPPORTED_LAYER",
      "UNSUPPORTED_MODE",
      "QUANTIZATION_OVERFLOW",
      "MALFORMED_RECEIPT",
    ] as const) {
      expect(isRetryable(new VerinferError(code, "x")), code).toBe(false);
    }
  });

  it("retry what another copy, another prover or more time may cure, and errors that are not verinfer's", () => {
    for (const code of [
      "ARTIFACT_MISSING",
      "ARTIFACT_CORRUPT",
      "PROVE_FAILED",
      "OVERLOADED",
      "TIMEOUT",
      "INTERNAL",
    ] as const) {
      expect(isRetryable(new VerinferError(code, "x")), code).toBe(true);
    }
    expect(isRetryable(new Error("ECONNRESET"))).toBe(true);
  });

  it("give the CLI's exit codes: 2 for the caller's input and files, 1 for the rest", () => {
    expect(exitCodeFor(new VerinferError("MALFORMED_RECEIPT", "x"))).toBe(EXIT.usage);
    expect(exitCodeFor(new VerinferError("ARTIFACT_MISSING", "x"))).toBe(EXIT.usage);
    expect(exitCodeFor(new VerinferError("PROVE_FAILED", "x"))).toBe(EXIT.invalid);
    expect(exitCodeFor(new Error("x"))).toBe(EXIT.invalid);
  });
});
