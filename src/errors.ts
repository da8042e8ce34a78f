/** Every error code verinfer throws. Tests and callers branch on these, never on message text. */
export const ERROR_CODES = [
  "INVALID_INPUT",
  "INVALID_OPTIONS",
  "INVALID_MODEL",
  "UNSUPPORTED_LAYER",
  "UNSUPPORTED_MODE",
  "QUANTIZATION_OVERFLOW",
  "ARTIFACT_MISSING",
  "ARTIFACT_CORRUPT",
  "MALFORMED_RECEIPT",
  "SETUP_REQUIRED",
  "COMPILE_FAILED",
  "PROVE_FAILED",
  "BACKEND_UNAVAILABLE",
  "CHAIN_ERROR",
  "OVERLOADED",
  "TIMEOUT",
  "NOT_FOUND",
  "UNAVAILABLE",
  "REDIS_UNSAFE",
  "STORAGE_FULL",
  "STORAGE_READONLY",
  "STORAGE_DENIED",
  "STORAGE_IO",
  "INTERNAL",
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Options of {@link VerinferError}. */
export interface VerinferErrorOptions {
  /** Longer explanation: what was expected, what was found. */
  details?: string;
  /** The error this one wraps. */
  cause?: unknown;
  /** Machine-readable context (index of a bad value, layer name, …). */
  meta?: Record<string, unknown>;
}

/**
 * The one error class verinfer throws.
 *
 * @example
 * ```ts
 * try { await verifiableInfer(pkg, [Number.NaN]); }
 * catch (e) { if (isVerinferError(e, "INVALID_INPUT")) console.error(e.shortMessage); }
 * ```
 */
export class VerinferError extends Error {
  override readonly name = "VerinferError";
  /** Stable string code. */
  readonly code: ErrorCode;
  /** One-line summary, without details. */
  readonly shortMessage: string;
  /** Longer explanation, if any. */
  readonly details: string | undefined;
  /** Machine-readable context. */
  readonly meta: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, shortMessage: string, options: VerinferErrorOptions = {}) {
    super(options.details ? `${shortMessage}\n\nDetails: ${options.details}` : shortMessage, {
      cause: options.cause,
    });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = options.details;
    this.meta = options.meta;
  }
}

/**
 * Type guard for {@link VerinferError}, optionally of one code.
 *
 * @example
 * ```ts
 * if (isVerinferError(err, "ARTIFACT_CORRUPT")) await clearCache();
 * ```
 */
export function isVerinferError(error: unknown, code?: ErrorCode): error is VerinferError {
  return error instanceof VerinferError && (code === undefined || error.code === code);
}
