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

/** What an error code means to whoever handles it (see {@link ERROR_CODE_MEANINGS}). */
export interface ErrorCodeMeaning {
  /**
   * Whether trying the same work again may succeed: the cause lies outside the work (a missing or damaged artifact
   * another copy may replace, a crashed or overloaded prover, a chain, a timeout). `false`: the work itself is wrong
   * (its input, options, model or receipt) and every retry fails the same way.
   */
  retryable: boolean;
  /** Whether the caller's own input or files are at fault (the CLI exits 2 for these, 1 for the rest). */
  usage: boolean;
}

/**
 * The one list of what each error code means: queue provers and deferred proofs stop retrying on codes that are
 * not `retryable`, the CLI chooses its exit code by `usage`. A `Record` over {@link ERROR_CODES}: a new code must
 * say what it means.
 */
export const ERROR_CODE_MEANINGS: Readonly<Record<ErrorCode, ErrorCodeMeaning>> = Object.freeze({
  INVALID_INPUT: { retryable: false, usage: true },
  INVALID_OPTIONS: { retryable: false, usage: true },
  INVALID_MODEL: { retryable: false, usage: true },
  UNSUPPORTED_LAYER: { retryable: false, usage: true },
  UNSUPPORTED_MODE: { retryable: false, usage: true },
  QUANTIZATION_OVERFLOW: { retryable: false, usage: false },
  ARTIFACT_MISSING: { retryable: true, usage: true },
  ARTIFACT_CORRUPT: { retryable: true, usage: true },
  // A malformed receipt (or job record) stays malformed: retrying re-reads the same bytes.
  MALFORMED_RECEIPT: { retryable: false, usage: true },
  SETUP_REQUIRED: { retryable: true, usage: false },
  COMPILE_FAILED: { retryable: true, usage: false },
  PROVE_FAILED: { retryable: true, usage: false },
  BACKEND_UNAVAILABLE: { retryable: true, usage: false },
  CHAIN_ERROR: { retryable: true, usage: false },
  OVERLOADED: { retryable: true, usage: false },
  TIMEOUT: { retryable: true, usage: false },
  NOT_FOUND: { retryable: true, usage: false },
  // Redis unreachable, or refused as unsafe (an evicting policy) until its operator fixes it: the work is sound.
  UNAVAILABLE: { retryable: true, usage: false },
  REDIS_UNSAFE: { retryable: true, usage: false },
  // Disk faults lie in the machine, not the work: another try (after space is freed, a remount) may succeed.
  STORAGE_FULL: { retryable: true, usage: false },
  STORAGE_READONLY: { retryable: true, usage: false },
  STORAGE_DENIED: { retryable: true, usage: false },
  STORAGE_IO: { retryable: true, usage: false },
  INTERNAL: { retryable: true, usage: false },
});

/**
 * Whether retrying the work that threw `error` may succeed ({@link ERROR_CODE_MEANINGS}); an error that is not a
 * {@link VerinferError} (a crash, an I/O error) may.
 *
 * @example
 * ```ts
 * if (!isRetryable(error) || attempt >= maxAttempts) await recordFailure(job, error);
 * ```
 */
export function isRetryable(error: unknown): boolean {
  if (!isVerinferError(error)) return true;
  return ERROR_CODE_MEANINGS[error.code]?.retryable ?? true;
}
