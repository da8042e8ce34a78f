import { isVerinferError, VerinferError } from "../../src/index.js";

/** The JSON body of every error response: the library's error code and its one-line message. */
export interface ErrorBody {
  code: string;
  message: string;
  /** What was expected and found (client errors only: server errors keep their internals to the log). */
  details?: string;
  /** For a bad input value: its index in the flattened input (client errors only). */
  index?: number;
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
};

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
 * The status and body a thrown error maps to: a `VerinferError` keeps its code, anything else is `INTERNAL`.
 *
 * @example
 * ```ts
 * const { status, body } = errorResponse(error, { privatePaths: [cacheDir] });
 * ```
 */
export function errorResponse(error: unknown, options: ErrorResponseOptions = {}): { status: number; body: ErrorBody } {
  if (isVerinferError(error)) {
    const status = STATUS[error.code] ?? 500;
    const body: ErrorBody = { code: error.code, message: error.shortMessage };
    if (status < 500 && error.details) body.details = error.details;
    if (status < 500 && typeof error.meta?.index === "number") body.index = error.meta.index;
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
  const status = STATUS[error.code] ?? 500;
  const callers = ["INVALID_INPUT", "INVALID_OPTIONS", "UNSUPPORTED_MODE", "OVERLOADED", "TIMEOUT"];
  if (status >= 500 || callers.includes(error.code)) return error;
  return new VerinferError("INTERNAL", "the node failed to serve this request", { cause: error });
}
