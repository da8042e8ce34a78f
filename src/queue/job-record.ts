/**
 * The producer's own durable record of each job it accepted: what it needs to re-submit the job (input, salts,
 * the receipt's statement) and what it asked for (the package by model id *and* verification-key CID), kept on
 * its local disk until the job's outcome is collected. Redis may lose a job (restarted without persistence,
 * killed, evicting); the record lets the producer add it again under the same id. And a result is checked
 * against the record, never against what the job in Redis says now: anyone who can write to Redis can rewrite a
 * job, nobody but the producer can rewrite its record. Internal to src/queue.
 *
 * One file per job, `<dir>/<jobId>.json`, written atomically (temporary file, fsync, rename), mode 0600 in a
 * 0700 directory: it holds the salts, which open the commitments. One producer process per directory.
 *
 * @module
 */
import { chmod, mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { ReceiptSchema } from "../attest/receipt.js";
import { VerinferError } from "../errors.js";
import { atomicWrite } from "../storage/atomic-write.js";
import { readUntrustedFile } from "../storage/read-untrusted-file.js";
import { DECIMAL_STRING } from "../util/field.js";
import { parseStrictJson } from "../util/parse-strict-json.js";
import { PROOF_JOB_ID, signedDecimal } from "./queue-job.js";

/** Format tag of a producer's job record. */
export const QUEUE_RECORD_FORMAT = "verinfer/queue-record@1";

const decimal = z.string().regex(DECIMAL_STRING);

/** A record is a few KB (the input dominates); anything far larger is not one. */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** zod schema of a producer's job record (see the module comment). */
export const JobRecordSchema = z
  .object({
    format: z.literal(QUEUE_RECORD_FORMAT),
    jobId: z.string().regex(PROOF_JOB_ID),
    queue: z.string(),
    modelId: z.string().regex(/^0x[0-9a-f]{64}$/),
    /** CID of the package's verification key: the one key a result may verify against. */
    vkeyCid: z.string().regex(/^b[a-z2-7]{20,120}$/),
    proofSystem: z.enum(["groth16", "plonk", "fflonk"]),
    /** The manifest CID the job named in the provers' storage, when the queue has one. */
    manifest: z
      .string()
      .regex(/^b[a-z2-7]{20,120}$/)
      .optional(),
    input: z.array(signedDecimal).min(1),
    salts: z.object({ input: decimal, output: decimal }).strict(),
    /** The statement submitted (mode "none"): the zk receipt is built from it, not from Redis's copy. */
    receipt: ReceiptSchema,
    submittedAt: z.string(),
  })
  .strict();

/** A producer's job record. */
export type JobRecord = z.infer<typeof JobRecordSchema>;

/** The records of one producer (one directory). */
export class JobRecords {
  private made: Promise<void> | undefined;

  constructor(readonly dir: string) {}

  private file(jobId: string): string {
    if (!PROOF_JOB_ID.test(jobId)) throw new VerinferError("INVALID_INPUT", "not a proof job id");
    return path.join(this.dir, `${jobId}.json`);
  }

  private ensureDir(): Promise<void> {
    this.made ??= (async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await chmod(this.dir, 0o700);
    })();
    this.made.catch(() => {
      this.made = undefined;
    });
    return this.made;
  }

  /** Writes (or replaces) a job's record, durably, before the job is added to Redis. */
  async write(record: JobRecord): Promise<void> {
    await this.ensureDir();
    await atomicWrite(this.file(record.jobId), JSON.stringify(record), 0o600);
  }

  /** Removes a job's record once its outcome is collected (or it was never accepted). */
  async remove(jobId: string): Promise<void> {
    await rm(this.file(jobId), { force: true });
  }

  /**
   * A job's record, or `undefined` when there is none.
   *
   * @throws VerinferError `MALFORMED_RECEIPT` when the file is not a record of this job (never a guess).
   */
  async read(jobId: string): Promise<JobRecord | undefined> {
    const file = this.file(jobId);
    let text: string;
    try {
      // A regular file, opened without following a link and checked on its handle, at most MAX_RECORD_BYTES.
      text = (
        await readUntrustedFile(file, `the record of proof job ${jobId}`, { maxBytes: MAX_RECORD_BYTES })
      ).toString("utf8");
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new VerinferError(
        "MALFORMED_RECEIPT",
        `the record of proof job ${jobId} is not a regular file of a record`,
        {
          cause,
        },
      );
    }
    let json: unknown;
    try {
      // One spelling: a record with a key twice is not one.
      json = parseStrictJson(text);
    } catch (cause) {
      throw new VerinferError("MALFORMED_RECEIPT", `the record of proof job ${jobId} is not JSON`, { cause });
    }
    const parsed = JobRecordSchema.safeParse(json);
    if (!parsed.success || parsed.data.jobId !== jobId) {
      throw new VerinferError("MALFORMED_RECEIPT", `the record of proof job ${jobId} is malformed`, {
        details: parsed.success
          ? "it names another job"
          : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
      });
    }
    return parsed.data;
  }

  /** The job ids that have a record (temporary files of an interrupted write are not records). */
  async list(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names
      .filter((n) => n.endsWith(".json"))
      .map((n) => n.slice(0, -5))
      .filter((id) => PROOF_JOB_ID.test(id))
      .sort();
  }
}
