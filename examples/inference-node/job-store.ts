/**
 * The inference node's durable record of the jobs it accepted, so a client always holds a handle: one file per
 * job, `<dir>/<jobId>.json` (owner-only: it holds the salts), written atomically before the job is handed to a
 * prover and again when it ends. After a restart the node reads them back: `GET /jobs/:id` answers for them,
 * an `Idempotency-Key` retry finds its job, and a job still pending is taken up again (re-submitted under the
 * same id to the queue, or proven again). Bounded: at most `maxJobs` records; the oldest finished ones older than
 * `retainMs` make room, and a node with none refuses new jobs (`OVERLOADED`, 429).
 *
 * Idempotency keys are kept as their SHA-256 (a key may be a client's secret), each with the hash of the request
 * it came with: the same key with another request is refused.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { canonicalJson, ReceiptSchema, VerinferError } from "../../src/index.js";
import { atomicWrite } from "../../src/storage/atomic-write.js";
import { readUntrustedFile } from "../../src/storage/read-untrusted-file.js";
import { parseStrictJson } from "../../src/util/parse-strict-json.js";

/** Format tag of a node job record. */
export const NODE_JOB_FORMAT = "verinfer/node-job@1";

const decimal = z.string().regex(/^\d{1,78}$/);

/** zod schema of a node job record (`<dir>/<jobId>.json`). */
export const NodeJobSchema = z.strictObject({
  format: z.literal(NODE_JOB_FORMAT),
  /** The proof job id, derived from the statement (`proofJobId`): the queue's job id too. */
  id: z.string().regex(/^vi1-[0-9a-f]{64}$/),
  /** SHA-256 of the client's Idempotency-Key, if it sent one. */
  key: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** SHA-256 of the request (model id, input, mode) in canonical JSON. */
  request: z.string().regex(/^[0-9a-f]{64}$/),
  modelId: z.string().regex(/^0x[0-9a-f]{64}$/),
  /** The key the job is proven under (the receipt names it): a restarted node proves under no other. */
  vkey: z.string(),
  mode: z.enum(["zk", "attest", "none"]),
  /** Quantized input and salts (zk jobs, while pending: what re-submitting the job needs). */
  input: z
    .array(decimal)
    .max(1 << 20)
    .optional(),
  salts: z.object({ input: decimal, output: decimal }).optional(),
  /** The statement the proof is for (a receipt of mode "none"; zk jobs, while pending). */
  statement: ReceiptSchema.optional(),
  state: z.enum(["pending", "done", "failed"]),
  createdAt: z.string(),
  finishedAt: z.string().optional(),
  /** The receipt's CID in the node's storage (done). */
  cid: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string(), reason: z.string().optional() }).optional(),
});

/** A node job record. */
export type NodeJob = z.infer<typeof NodeJobSchema>;

/** Idempotency-Key: 1–128 visible ASCII characters (what RFC 9110 allows in a token or quoted string, bounded). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

/**
 * The SHA-256 of a client's Idempotency-Key header, or `undefined` without one.
 *
 * @throws VerinferError `INVALID_INPUT` for a key that is not 1–128 visible ASCII characters (or sent twice).
 */
export function idempotencyKeyHash(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== "string" || !IDEMPOTENCY_KEY.test(header)) {
    throw new VerinferError("INVALID_INPUT", "Idempotency-Key must be 1–128 visible ASCII characters, sent once");
  }
  return sha256(header);
}

/** SHA-256, hex. */
export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The hash a request is recognized by (model id, input, mode), for Idempotency-Key reuse. */
export function requestHash(request: { modelId: string; input: unknown; mode: string }): string {
  return sha256(canonicalJson({ modelId: request.modelId, input: request.input, mode: request.mode }));
}

/** Options of {@link openJobStore}. */
export interface JobStoreOptions {
  /** Directory of the records; without one they are kept in memory only (a restart forgets them). */
  dir?: string;
  /** Most records kept. Default 10,000. */
  maxJobs?: number;
  /**
   * How long a finished record is kept at least (ms) — a client's handle: only older ones make room for new
   * records; with none old enough, a new record is refused (`OVERLOADED`, "jobs-full"). Default a day (the
   * proof queue's `keepSeconds`).
   */
  retainMs?: number;
}

/** The node's job records; see the module's comment. */
export interface JobStore {
  get(id: string): NodeJob | undefined;
  byKey(keyHash: string): NodeJob | undefined;
  /** Every record, oldest first. */
  all(): NodeJob[];
  /**
   * Writes a record (a new one, or the next state of one). A new record past `maxJobs` first removes the oldest
   * finished ones.
   *
   * @throws VerinferError `OVERLOADED` (reason "jobs-full") when every record is unfinished; a storage error
   *   (`STORAGE_FULL`, …) when the disk refuses the write.
   */
  put(job: NodeJob): Promise<void>;
  /** Forgets a record (a job that was refused before it was accepted). */
  remove(id: string): Promise<void>;
}

/**
 * Opens (creating) the node's job records in `dir`, reading back those a previous run left; an unreadable file
 * is left aside (not loaded, not deleted).
 *
 * @example
 * ```ts
 * const jobs = await openJobStore({ dir: path.join(cacheDir, "node-jobs") });
 * ```
 */
export async function openJobStore(options: JobStoreOptions): Promise<JobStore> {
  const { dir } = options;
  const maxJobs = options.maxJobs ?? 10_000;
  const retainMs = options.retainMs ?? 86_400_000;
  if (dir) await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!Number.isInteger(maxJobs) || maxJobs < 1) throw new VerinferError("INVALID_OPTIONS", "maxJobs must be ≥ 1");
  if (!Number.isSafeInteger(retainMs) || retainMs < 0) {
    throw new VerinferError("INVALID_OPTIONS", "retainMs must be a whole number of ms ≥ 0");
  }
  const jobs = new Map<string, NodeJob>();
  const keys = new Map<string, string>();
  const names = dir ? await readdir(dir).catch(() => [] as string[]) : [];
  for (const name of names) {
    if (!dir || !/^vi1-[0-9a-f]{64}\.json$/.test(name)) continue;
    try {
      // Only a regular file, not through a link, bounded: a FIFO or device under a record's name must not hang
      // or exhaust the node's start.
      const bytes = await readUntrustedFile(path.join(dir, name), "job record", { maxBytes: 64 << 20, root: dir });
      const text = bytes.toString("utf8");
      const job = NodeJobSchema.parse(parseStrictJson(text));
      if (`${job.id}.json` !== name) continue;
      jobs.set(job.id, job);
    } catch {
      // Unreadable: left where it is for the operator, not served.
    }
  }
  const ordered = () => [...jobs.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  for (const job of ordered()) if (job.key) keys.set(job.key, job.id);
  const file = (id: string) => (dir ? path.join(dir, `${id}.json`) : undefined);
  const forget = async (id: string) => {
    const job = jobs.get(id);
    const at = file(id);
    if (at) await rm(at, { force: true });
    jobs.delete(id);
    if (job?.key && keys.get(job.key) === id) keys.delete(job.key);
  };
  return {
    get: (id) => jobs.get(id),
    byKey: (keyHash) => {
      const id = keys.get(keyHash);
      return id === undefined ? undefined : jobs.get(id);
    },
    all: ordered,
    async put(job) {
      if (!jobs.has(job.id) && jobs.size >= maxJobs) {
        // Only finished records past their retention make room: a young one is a client's handle.
        const now = Date.now();
        const finished = ordered().filter(
          (j) => j.state !== "pending" && now - Date.parse(j.finishedAt ?? j.createdAt) >= retainMs,
        );
        const excess = jobs.size - maxJobs + 1;
        if (finished.length < excess) {
          throw new VerinferError("OVERLOADED", "the inference node holds as many job records as it keeps", {
            meta: { reason: "jobs-full", maxJobs },
          });
        }
        for (const old of finished.slice(0, excess)) await forget(old.id);
      }
      const parsed = NodeJobSchema.parse(job);
      const at = file(job.id);
      if (at) await atomicWrite(at, JSON.stringify(parsed), 0o600);
      jobs.set(job.id, job);
      if (job.key) keys.set(job.key, job.id);
    },
    remove: forget,
  };
}
