/**
 * What a proof job puts in Redis, and how its private part is sealed. Internal to src/queue: the formats are
 * exported (schemas and tags) so that a tool reading the queue can parse them, but producers and provers build
 * and open jobs only through `createProofQueue` and `startProver`.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { FflonkProofSchema, Groth16ProofSchema, PlonkProofSchema, ReceiptSchema } from "../attest/receipt.js";
import { VerinferError } from "../errors.js";
import { canonicalJson } from "../storage/json-objects.js";
import { DECIMAL_STRING } from "../util/field.js";
import { parseStrictJson } from "../util/parse-strict-json.js";

/** Format tag of a proof job's data in Redis. */
export const QUEUE_JOB_FORMAT = "verinfer/queue-job@1";

/** Format tag of a proof job's result in Redis. */
export const QUEUE_RESULT_FORMAT = "verinfer/queue-result@1";

/** Default BullMQ queue name. */
export const DEFAULT_QUEUE_NAME = "verinfer-proofs";

/** A quantized input value: a signed decimal integer, one spelling. */
export const signedDecimal = z.string().regex(/^(0|-?[1-9]\d{0,77})$/);
/** A salt or public signal: a field element's one spelling (see DECIMAL_STRING). */
const decimal = z.string().regex(DECIMAL_STRING);
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);

/** AES-256-GCM ciphertext: 12-byte IV, data, 16-byte tag, base64. */
const SealedSchema = z.object({ iv: base64, data: base64, tag: base64 }).strict();

/** The private part of a job: what proves the statement, and the receipt it is proven for. */
export const JobSecretsSchema = z
  .object({
    /** Quantized input, decimal. */
    input: z.array(signedDecimal).min(1),
    salts: z.object({ input: decimal, output: decimal }).strict(),
    /** The receipt (any mode) whose statement the proof is for; the zk receipt keeps its fields. */
    receipt: ReceiptSchema,
  })
  .strict();

/** A job's private part. */
export type JobSecrets = z.infer<typeof JobSecretsSchema>;

/**
 * zod schema of a job's data in Redis: the model (id, and the CID of its manifest in the provers' `Storage`)
 * in clear, the secrets in clear (`secrets`) or sealed with the queue's payload key (`sealed`).
 */
export const QueueJobSchema = z
  .object({
    format: z.literal(QUEUE_JOB_FORMAT),
    modelId: z.string().regex(/^0x[0-9a-f]{64}$/),
    /** CID of the model package's manifest in the storage the provers read; absent: provers use their cache. */
    manifest: z
      .string()
      .regex(/^b[a-z2-7]{20,120}$/)
      .optional(),
    secrets: JobSecretsSchema.optional(),
    sealed: SealedSchema.optional(),
  })
  .strict()
  .refine((job) => (job.secrets === undefined) !== (job.sealed === undefined), "exactly one of secrets, sealed");

/** A job's data in Redis. */
export type QueueJob = z.infer<typeof QueueJobSchema>;

/**
 * What a prover proved: snarkjs's proof JSON of the package's proof system (Groth16, PLONK or FFLONK: its
 * `protocol` names it) and public signals, and where the time went.
 */
export const ProofResultSchema = z
  .object({
    proof: z.discriminatedUnion("protocol", [Groth16ProofSchema, PlonkProofSchema, FflonkProofSchema]),
    publicSignals: z.array(decimal),
    timings: z.object({ queueMs: z.number(), loadMs: z.number(), proveMs: z.number() }).strict(),
    /** The prover's name (`host:pid` by default). */
    prover: z.string().max(200),
  })
  .strict();

/** A prover's result. */
export type ProofResult = z.infer<typeof ProofResultSchema>;

/** zod schema of a job's return value in Redis: the result in clear or sealed. */
export const QueueResultSchema = z
  .object({
    format: z.literal(QUEUE_RESULT_FORMAT),
    result: ProofResultSchema.optional(),
    sealed: SealedSchema.optional(),
  })
  .strict()
  .refine((r) => (r.result === undefined) !== (r.sealed === undefined), "exactly one of result, sealed");

/** A job's return value in Redis. */
export type QueueResult = z.infer<typeof QueueResultSchema>;

/** The form of a proof job id ({@link proofJobId}): `vi1-` and 64 hex digits. */
export const PROOF_JOB_ID = /^vi1-[0-9a-f]{64}$/;

/**
 * The job id of a statement: a hash of the model id, the input commitment and the output salt — what fixes
 * every public signal of the proof. Submitting the same statement twice (or a redelivery) names the same BullMQ
 * job, so it is proven once. The salt is 254 random bits, so the id reveals nothing of it.
 *
 * @example
 * ```ts
 * proofJobId({ modelId: pkg.id, inputCommitment: receipt.input.commitment, outputSalt: salts.output });
 * ```
 */
export function proofJobId(params: { modelId: string; inputCommitment: string; outputSalt: string }): string {
  const text = canonicalJson({
    format: "verinfer/proof-job-id@1",
    modelId: params.modelId,
    inputCommitment: params.inputCommitment,
    outputSalt: params.outputSalt,
  });
  return `vi1-${createHash("sha256").update(text).digest("hex")}`;
}

/**
 * A 32-byte AES-256-GCM key from bytes or text (64 hex digits, or base64 of 32 bytes).
 *
 * @throws VerinferError `INVALID_OPTIONS` for anything else.
 */
export function payloadKey(key: Uint8Array | string): Buffer {
  let bytes: Buffer | undefined;
  if (key instanceof Uint8Array) bytes = Buffer.from(key);
  else if (typeof key === "string" && /^[0-9a-fA-F]{64}$/.test(key)) bytes = Buffer.from(key, "hex");
  else if (typeof key === "string" && base64.safeParse(key).success) bytes = Buffer.from(key, "base64");
  if (bytes?.byteLength !== 32) {
    throw new VerinferError("INVALID_OPTIONS", "payloadKey must be 32 bytes (64 hex digits, or base64)");
  }
  return bytes;
}

/** Seals a JSON value for one job (the job id and purpose are authenticated, so a sealed part cannot be moved). */
export function seal(key: Buffer, value: unknown, context: string): z.infer<typeof SealedSchema> {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(context, "utf8"));
  const data = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
  return { iv: iv.toString("base64"), data: data.toString("base64"), tag: cipher.getAuthTag().toString("base64") };
}

/**
 * Opens a sealed part.
 *
 * @throws VerinferError `INVALID_OPTIONS` without a key, `MALFORMED_RECEIPT` when it does not open with this key
 *   and context (another key, another job, altered bytes).
 */
export function unseal(key: Buffer | undefined, sealed: z.infer<typeof SealedSchema>, context: string): unknown {
  if (!key) throw new VerinferError("INVALID_OPTIONS", "the job is sealed and no payloadKey is configured");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.iv, "base64"));
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(Buffer.from(sealed.tag, "base64"));
    const text = Buffer.concat([decipher.update(Buffer.from(sealed.data, "base64")), decipher.final()]);
    return parseStrictJson(text.toString("utf8"));
  } catch (cause) {
    throw new VerinferError("MALFORMED_RECEIPT", "the job's sealed part does not open with the payload key", {
      cause,
      details: "another key, another job, or altered ciphertext",
    });
  }
}

/** The secrets of a job, opened and parsed. */
export function jobSecrets(job: QueueJob, key: Buffer | undefined, jobId: string): JobSecrets {
  const raw = job.sealed ? unseal(key, job.sealed, `${jobId}\njob\n${job.modelId}`) : job.secrets;
  const parsed = JobSecretsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new VerinferError("MALFORMED_RECEIPT", `proof job ${jobId} has malformed secrets`, {
      details: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    });
  }
  return parsed.data;
}

/** A job's data, with its secrets sealed when there is a key. */
export function queueJob(params: {
  jobId: string;
  modelId: string;
  manifest: string | undefined;
  secrets: JobSecrets;
  key: Buffer | undefined;
}): QueueJob {
  const { jobId, modelId, key, secrets } = params;
  return {
    format: QUEUE_JOB_FORMAT,
    modelId,
    ...(params.manifest ? { manifest: params.manifest } : {}),
    ...(key ? { sealed: seal(key, secrets, `${jobId}\njob\n${modelId}`) } : { secrets }),
  };
}

/** A prover's return value, sealed when there is a key. */
export function queueResult(result: ProofResult, key: Buffer | undefined, jobId: string): QueueResult {
  return key
    ? { format: QUEUE_RESULT_FORMAT, sealed: seal(key, result, `${jobId}\nresult`) }
    : { format: QUEUE_RESULT_FORMAT, result };
}

/** A job's return value, opened and parsed. */
export function proofResult(value: unknown, key: Buffer | undefined, jobId: string): ProofResult {
  const outer = QueueResultSchema.safeParse(value);
  const raw = outer.success
    ? outer.data.sealed
      ? unseal(key, outer.data.sealed, `${jobId}\nresult`)
      : outer.data.result
    : undefined;
  const parsed = ProofResultSchema.safeParse(raw);
  if (!parsed.success) {
    throw new VerinferError("MALFORMED_RECEIPT", `proof job ${jobId} returned a malformed result`, {
      details: (outer.success ? parsed.error : outer.error).issues
        .map((i) => `${i.path.join(".")}: ${i.message}`)
        .join("; "),
    });
  }
  return parsed.data;
}

/** How a prover's error travels in BullMQ's failedReason: `verinfer:<json>`. */
const FAILURE_PREFIX = "verinfer:";

/** A prover's failure as BullMQ stores it (`failedReason` is the thrown Error's message). */
export function encodeFailure(error: VerinferError): string {
  return `${FAILURE_PREFIX}${JSON.stringify({
    code: error.code,
    message: error.shortMessage,
    ...(error.details ? { details: error.details } : {}),
  })}`;
}

/**
 * The failure a failedReason states, always as `PROVE_FAILED`: the producer checked the job's input itself at
 * submit, so a prover's claim (`verinfer:{code,…}`, possibly a rogue's) is reported as what it is — the prover's
 * word, in `details` and `meta.claimed` — never as the caller's fault (`INVALID_INPUT`, …). BullMQ's own reasons
 * (stalled too often, …) are reported as their text.
 */
export function decodeFailure(reason: string | undefined, jobId: string, codes: readonly string[]): VerinferError {
  if (reason?.startsWith(FAILURE_PREFIX)) {
    try {
      const parsed = z
        .object({ code: z.string(), message: z.string(), details: z.string().optional() })
        .parse(parseStrictJson(reason.slice(FAILURE_PREFIX.length)));
      const claimed = codes.includes(parsed.code) ? parsed.code : "INTERNAL";
      // The claim stays in the message (the prover's own words, e.g. which artifact did not hash right).
      return new VerinferError(
        "PROVE_FAILED",
        `proof job ${jobId} failed at its prover, which reports (unverified) ${claimed}: ${parsed.message}`.slice(
          0,
          2_000,
        ),
        {
          ...(parsed.details ? { details: parsed.details.slice(0, 2_000) } : {}),
          meta: { jobId, claimed },
        },
      );
    } catch {
      // fall through: report the text as it is
    }
  }
  return new VerinferError("PROVE_FAILED", `proof job ${jobId} failed`, {
    details: (reason ?? "no reason recorded").slice(0, 2_000),
    meta: { jobId },
  });
}
