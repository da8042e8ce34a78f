import { isVerinferError, VerinferError } from "../../src/index.js";

/** The JSON body of every error response: the library's error code and its one-line message. */
export interface ErrorBody {
  code: string;
  message: string;
  /** What was expected and found (client errors only: server errors keep their internals to the log). */
  details?: string;
  /** For a bad input value: its index in the flattened input (client errors only). */
  index?: number;
  /** Why the node refused (429, 503, 507): "full", "redis-unreachable", "redis-oom", "redis-unsafe", "slow" (backpressure), … */
  reason?: string;
}

/** HTTP status of each error code the service answers with; anything not listed is a 500. */
const STATUS: Record<string, number> = {
  INVALID_INPUT: 400,
  INVALID_OPTIONS: 400,
  UNSUPPORTED_MODE: 400,
  MALFORMED_RECEIPT: 400,
  ARTIFACT_MISSING: 404,
  NOT_FOUND: 404,
  OVERLOADED: 429,
  TIMEOUT: 503,
  UNAVAILABLE: 503,
  // The queue's Redis may evict jobs: the queue refuses it until its operator fixes it (the node's outage).
  REDIS_UNSAFE: 503,
  // The node's disk: full is 507 Insufficient Storage; read-only, refused or failing is the node's outage (503).
  STORAGE_FULL: 507,
  STORAGE_READONLY: 503,
  STORAGE_DENIED: 503,
  STORAGE_IO: 503,
};

/** `OVERLOADED` reasons that are the whole queue's outage rather than this node's load: 503, not 429. */
const OUTAGE_REASONS = new Set(["redis-oom", "redis-unreachable"]);

/** The HTTP status of an error code (and, for `OVERLOADED`, its reason); anything not listed is a 500. */
export function statusOf(error: unknown): number {
  if (!isVerinferError(error)) return 500;
  if (error.code === "OVERLOADED" && OUTAGE_REASONS.has(String(error.meta?.reason))) return 503;
  return STATUS[error.code] ?? 500;
}

/** Options of {@link errorResponse}. */
export interface ErrorResponseOptions {
  /** Directories of the node that no client may learn: replaced by `<path>` wherever a message names them. */
  privatePaths?: readonly string[];
}

/**
 * Replaces every occurrence of the given directories in an error body's texts by `<path>`.
 *
 * @example
 * ```ts
 * redactPaths({ code: "INTERNAL", message: "cannot read /srv/cache/x" }, ["/srv/cache"]); // "cannot read <path>/x"
 * ```
 */
export function redactPaths(body: ErrorBody, privatePaths: readonly string[] = []): ErrorBody {
  const scrub = (text: string) => privatePaths.reduce((t, p) => t.split(p).join("<path>"), text);
  const out: ErrorBody = { ...body, message: scrub(body.message) };
  if (body.details !== undefined) out.details = scrub(body.details);
  return out;
}

/**
 * The status and body a thrown error maps to: a `VerinferError` keeps its code (and `meta.reason`, a word such as
 * "redis-oom"), anything else is `INTERNAL`. Storage faults are 507 (full) or 503 (read-only, denied, I/O),
 * with their message (the operation, never a path) as the reason.
 *
 * @example
 * ```ts
 * const { status, body } = errorResponse(error, { privatePaths: [cacheDir] });
 * ```
 */
export function errorResponse(error: unknown, options: ErrorResponseOptions = {}): { status: number; body: ErrorBody } {
  if (isVerinferError(error)) {
    const status = statusOf(error);
    const body: ErrorBody = { code: error.code, message: error.shortMessage };
    if (status < 500 && error.details) body.details = error.details;
    if (status < 500 && typeof error.meta?.index === "number") body.index = error.meta.index;
    const reason = error.meta?.reason;
    if (typeof reason === "string" && /^[a-z][a-z0-9-]{0,39}$/.test(reason)) body.reason = reason;
    return { status, body: redactPaths(body, options.privatePaths) };
  }
  return { status: 500, body: { code: "INTERNAL", message: "internal error" } };
}

/**
 * An error met while serving a request already found valid is the node's fault, whatever its code: a missing
 * zkey is not the client's 404, nor a receipt the node built its 400. The caller's own errors (its input, its
 * options) and the node's load (`OVERLOADED`, `TIMEOUT`) keep their codes; the rest become `INTERNAL` (500).
 *
 * @example
 * ```ts
 * try { await verifiableInfer(pkg, input); } catch (error) { throw asNodeFault(error); }
 * ```
 */
export function asNodeFault(error: unknown): unknown {
  if (!isVerinferError(error)) return error;
  const status = statusOf(error);
  const callers = ["INVALID_INPUT", "INVALID_OPTIONS", "UNSUPPORTED_MODE", "OVERLOADED", "TIMEOUT", "UNAVAILABLE"];
  if (status >= 500 || callers.includes(error.code)) return error;
  return new VerinferError("INTERNAL", "the node failed to serve this request", { cause: error });
}
