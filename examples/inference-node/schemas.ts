import { z } from "zod";
import { RECEIPT_MODES, VerinferError } from "../../src/index.js";

/**
 * Body of `POST /infer`. The input's shape, finiteness and range are checked by the library against the model
 * (`INVALID_INPUT` naming the index); here only the envelope.
 */
export const InferRequestSchema = z.strictObject({
  /** The model id: its commitment as 0x-prefixed 32-byte hex (`GET /health` lists them). */
  modelId: z.string().regex(/^0x[0-9a-f]{64}$/, "must be a model id (0x + 64 lower-case hex digits)"),
  /** One input, flat or nested to the model's input shape. */
  input: z.array(z.unknown()),
  /** Receipt mode; default "zk". */
  mode: z.enum(RECEIPT_MODES).default("zk"),
});

/** A parsed `POST /infer` body. */
export type InferRequest = z.infer<typeof InferRequestSchema>;

/** Response of `POST /infer` (200): the receipt, the CID it is stored under (`GET /receipts/:cid`), its job. */
export interface InferResponse {
  jobId: string;
  cid: string;
  receipt: unknown;
}

/** Response of `POST /infer` (202): the proof goes on; `GET statusUrl` collects it. */
export interface PendingResponse {
  jobId: string;
  status: "pending";
  /** `/jobs/<jobId>`, also in the `Location` header. */
  statusUrl: string;
}

/** Response of `GET /jobs/:id`. */
export interface JobResponse {
  jobId: string;
  status: "pending" | "done" | "failed";
  /** The receipt's CID and the receipt (done). */
  cid?: string;
  receipt?: unknown;
  /** Why it failed (failed): the error code, its message, and a reason word where there is one. */
  error?: { code: string; message: string; reason?: string };
}

/**
 * Parses a `POST /infer` body.
 *
 * @throws VerinferError `UNSUPPORTED_MODE` for an unknown mode, `INVALID_INPUT` for anything else amiss.
 */
export function parseInferRequest(body: unknown): InferRequest {
  const parsed = InferRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const details = issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
  if (issues.every((i) => i.path[0] === "mode")) {
    throw new VerinferError("UNSUPPORTED_MODE", `mode must be one of ${RECEIPT_MODES.join(", ")}`, { details });
  }
  throw new VerinferError("INVALID_INPUT", "the body must be { modelId, input, mode? }", { details });
}
