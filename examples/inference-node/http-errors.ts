import { isVerinferError } from "../../src/index.js";

/** The JSON body of every error response: the library's error code and its one-line message. */
export interface ErrorBody {
  code: string;
  message: string;
  /** What was expected and found (client errors only: server errors keep their internals to the log). */
  details?: string;
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

/** The status and body a thrown error maps to: a `VerinferError` keeps its code, anything else is `INTERNAL`. */
export function errorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (isVerinferError(error)) {
    const status = STATUS[error.code] ?? 500;
    const body: ErrorBody = { code: error.code, message: error.shortMessage };
    if (status < 500 && error.details) body.details = error.details;
    return { status, body };
  }
  return { status: 500, body: { code: "INTERNAL", message: "internal error" } };
}
