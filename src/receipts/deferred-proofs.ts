import { randomUUID } from "node:crypto";
import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { type Receipt, ReceiptSchema, type Salts } from "../attest/receipt.js";
import { ERROR_CODES, type ErrorCode, isRetryable, isVerinferError, VerinferError } from "../errors.js";
import { findModelPackage, ModelPackage } from "../package/model-package.js";
import type { ProofQueue } from "../queue/create-proof-queue.js";
import { ArtifactStore } from "../storage/artifact-store.js";
import { atomicWrite } from "../storage/atomic-write.js";
import { resolveCacheDir } from "../storage/cache-dir.js";
import { type FileLock, isAlive, tryFileLock } from "../storage/file-lock.js";
import { canonicalJson } from "../storage/json-objects.js";
import { readUntrustedFile } from "../storage/read-untrusted-file.js";
import { parseStrictJson } from "../util/parse-strict-json.js";
import { proveReceipt } from "./prove-receipt.js";
import { receiptStatement } from "./receipt-statement.js";

/** Format tag of persisted proof jobs. */
export const PROOF_JOB_FORMAT = "verinfer/proof-job@1";

/** Format tag of the record a job leaves in `jobs/failed`. */
export const PROOF_FAILURE_FORMAT = "verinfer/proof-failure@1";

const decimal = z.string().regex(/^-?\d+$/);

/** Why an attempt, or a whole job, failed: the error's code and one-line message, and when. */
const ReasonSchema = z.object({ code: z.string(), message: z.string(), at: z.string() });

/** Why a proof job failed, as recorded in `jobs/failed/<id>.json`. */
export type ProofFailureReason = z.infer<typeof ReasonSchema>;

/**
 * zod schema of a persisted proof job. It holds the salts, so job files are written owner-only (0600) inside
 * the cache and deleted once the proof is stored. `attempts` counts the proving attempts started (so a job
 * that keeps crashing its process still runs out of attempts), `lastError` and `notBefore` the last failure
 * and when the next attempt may start.
 */
export const ProofJobSchema = z.object({
  format: z.literal(PROOF_JOB_FORMAT),
  id: z.string().uuid(),
  modelId: z.string().regex(/^0x[0-9a-f]{64}$/),
  input: z.array(decimal),
  salts: z.object({ input: decimal, output: decimal }),
  receipt: ReceiptSchema,
  createdAt: z.string(),
  attempts: z.number().int().min(0).default(0),
  lastError: ReasonSchema.optional(),
  notBefore: z.string().optional(),
  /**
   * The manifest of the package the job was deferred with, in the cache's store: the resumed proof is made
   * with this package (the key the receipt names), never with whatever package the model id indexes now.
   */
  manifest: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().positive() }).optional(),
});

/** A persisted proof job. */
export type ProofJob = z.infer<typeof ProofJobSchema>;

/**
 * zod schema of `jobs/failed/<id>.json`: the reason, whether retrying could have helped (`permanent`), the job
 * as it was (when it could be read; it holds the salts, so the file is owner-only), or its raw text.
 */
export const ProofFailureSchema = z.object({
  format: z.literal(PROOF_FAILURE_FORMAT),
  id: z.string(),
  reason: ReasonSchema,
  permanent: z.boolean(),
  attempts: z.number().int().min(0),
  job: ProofJobSchema.optional(),
  raw: z.string().optional(),
});

/** A failed proof job's record. */
export type ProofFailure = z.infer<typeof ProofFailureSchema>;

/** How a deferred proof retries a failure that may pass (a damaged or missing artifact, a busy machine). */
export interface ProofRetryPolicy {
  /** Proving attempts in all, the first included (≥ 1). Default 8. */
  maxAttempts: number;
  /** Wait after the first failure, doubled after each further one (ms). Default 5,000. */
  baseDelayMs: number;
  /** Longest wait between attempts (ms). Default 600,000. */
  maxDelayMs: number;
}

/** The default {@link ProofRetryPolicy}: 8 attempts over about 10 minutes (5 s, 10 s, … 320 s apart). */
export const DEFAULT_PROOF_RETRY: Readonly<ProofRetryPolicy> = Object.freeze({
  maxAttempts: 8,
  baseDelayMs: 5_000,
  maxDelayMs: 600_000,
});

const RetrySchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(1_000),
    baseDelayMs: z.number().min(0).max(86_400_000),
    maxDelayMs: z.number().min(0).max(86_400_000),
  })
  .partial()
  .strict();

let defaultRetry: ProofRetryPolicy = { ...DEFAULT_PROOF_RETRY };

function retryPolicy(overrides: Partial<ProofRetryPolicy> | undefined, base = defaultRetry): ProofRetryPolicy {
  const parsed = RetrySchema.safeParse(overrides ?? {});
  if (!parsed.success) {
    throw new VerinferError("INVALID_OPTIONS", "retry must be { maxAttempts ≥ 1, baseDelayMs ≥ 0, maxDelayMs ≥ 0 }", {
      details: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    });
  }
  const defined = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
  return { ...base, ...defined };
}

/**
 * Sets the retry policy of every deferred proof this process starts from now on without one of its own (those
 * of `verifiableInfer(…, { deferProof: true })` included); returns the policy it replaces.
 *
 * @throws VerinferError `INVALID_OPTIONS` for a policy out of bounds.
 * @example
 * ```ts
 * configureProofRetry({ maxAttempts: 20, baseDelayMs: 1_000 });
 * ```
 */
export function configureProofRetry(policy: Partial<ProofRetryPolicy>): ProofRetryPolicy {
  const previous = defaultRetry;
  defaultRetry = retryPolicy(policy, DEFAULT_PROOF_RETRY);
  return previous;
}

/** A proof being computed in the background. */
export interface DeferredProof {
  /**
   * Job id; the finished zk receipt is stored as `<cache>/jobs/done/<id>.json` — or, for a queued proof, the
   * BullMQ job id (`queue.get(id)`).
   */
  id: string;
  /**
   * Resolves to the zk receipt, with the same commitments as the attested one; rejects once the job has
   * failed for good (its record is then in `jobs/failed/<id>.json`).
   */
  promise: Promise<Receipt>;
}

const running = new Map<string, Promise<Receipt>>();
// One proving attempt at a time per process: deferred work must not starve the requests in front of it. A job
// waiting out its backoff does not hold the lane.
let lane: Promise<unknown> = Promise.resolve();

function inLane<T>(work: () => Promise<T>): Promise<T> {
  const next = lane.then(work);
  lane = next.catch(() => undefined);
  return next;
}

type JobState = "pending" | "done" | "failed";

function jobDir(cacheDir: string, state: JobState): string {
  return path.join(cacheDir, "jobs", state);
}

function jobFile(cacheDir: string, state: JobState, id: string): string {
  return path.join(jobDir(cacheDir, state), `${id}.json`);
}

/** The lock a process holds while it works on a job (see `tryFileLock`): two resumers never prove one job. */
function lockFile(cacheDir: string, id: string): string {
  return path.join(jobDir(cacheDir, "pending"), `${id}.lock`);
}

/** How often a process waiting on a job another holds looks for its outcome (or a stale lock), ms. */
const LOCK_POLL_MS = 250;

function sleep(ms: number): Promise<void> {
  // Not unref'd: the job's promise is unsettled while it waits, and whoever awaits it (`verinfer resume-proofs`)
  // must not see the process exit under it. The wait is bounded by the policy; a process killed during it
  // loses nothing, as the job is pending on disk with its attempts counted.
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function reasonOf(error: unknown): ProofFailureReason {
  const at = new Date().toISOString();
  if (isVerinferError(error)) return { code: error.code, message: error.shortMessage, at };
  return { code: "INTERNAL", message: error instanceof Error ? error.message : String(error), at };
}

/**
 * Errors that no retry can cure: the job itself is wrong. Everything else (a damaged or missing artifact or
 * model, a failed write, a prover error) may pass, and is retried while attempts remain.
 */
function isPermanent(error: unknown): boolean {
  return !isRetryable(error);
}

/** Checks a job against its model before spending a proof on it: an input the circuit cannot take never will. */
function checkJob(job: ProofJob, pkg: ModelPackage): bigint[] {
  const net = pkg.network;
  if (job.receipt.model.id !== pkg.id || job.modelId !== pkg.id) {
    throw new VerinferError("MALFORMED_RECEIPT", `proof job ${job.id} names model ${job.modelId}, not ${pkg.id}`);
  }
  if (job.input.length !== net.inputSize) {
    throw new VerinferError(
      "INVALID_INPUT",
      `proof job ${job.id} has ${job.input.length} input values; the model takes ${net.inputSize}`,
    );
  }
  const input = job.input.map(BigInt);
  const bad = input.findIndex((x) => x < net.input.lo || x > net.input.hi);
  if (bad >= 0) {
    throw new VerinferError("INVALID_INPUT", `proof job ${job.id}: input value at index ${bad} is out of range`, {
      meta: { index: bad },
    });
  }
  return input;
}

/**
 * The receipt to prove, rebuilt from the package, the job's quantized input and its salts — never copied from
 * the job file, whose receipt only has to agree with it. Only what no proof covers is carried over (the float
 * answer, backend, timings, creation time, the data attestation's uid).
 */
async function rebuildBase(
  job: ProofJob,
  pkg: ModelPackage,
  input: bigint[],
  salts: { input: bigint; output: bigint },
): Promise<Receipt> {
  const stated = job.receipt;
  const statement = await receiptStatement({ pkg, input, salts, float: stated.output.float });
  if (stated.model.vkey !== undefined && statement.model.vkey !== stated.model.vkey) {
    // Not permanent: the package the receipt names may be put back in the cache.
    throw new VerinferError("ARTIFACT_MISSING", `proof job ${job.id}: its receipt names another verification key`, {
      details: `the receipt names key ${stated.model.vkey}; the package found has ${statement.model.vkey}`,
    });
  }
  for (const [what, ours, theirs] of [
    ["model commitment", statement.model.commitment, stated.model.commitment],
    ["input commitment", statement.input.commitment, stated.input.commitment],
    ["output commitment", statement.output.commitment, stated.output.commitment],
  ] as const) {
    if (ours !== theirs) {
      throw new VerinferError("MALFORMED_RECEIPT", `proof job ${job.id}: its receipt states another ${what}`, {
        details: "the job's input and salts do not give the receipt it was deferred for",
      });
    }
  }
  return {
    ...statement,
    mode: stated.mode,
    input: {
      ...statement.input,
      ...(stated.input.dataAttestation ? { dataAttestation: stated.input.dataAttestation } : {}),
    },
    backend: stated.backend,
    timings: stated.timings,
    createdAt: stated.createdAt,
  };
}

/** Thrown when this process lost its job's lock before writing the outcome: the new holder records it. */
class LockLost extends Error {}

/** Throws {@link LockLost} unless the lock is still this process's. */
async function stillHeld(lock: FileLock | undefined): Promise<void> {
  if (lock && !(await lock.stillHeld())) throw new LockLost("the job's lock was taken over");
}

async function writeFailure(cacheDir: string, failure: ProofFailure, lock?: FileLock): Promise<void> {
  await stillHeld(lock);
  // The record first, then the pending file: a crash in between leaves both, and resume then drops the pending one.
  await atomicWrite(jobFile(cacheDir, "failed", failure.id), JSON.stringify(failure, null, 2), 0o600);
  await rm(jobFile(cacheDir, "pending", failure.id), { force: true });
}

function failureError(failure: ProofFailure, cause?: unknown): VerinferError {
  const { reason, attempts, permanent } = failure;
  const code = (ERROR_CODES as readonly string[]).includes(reason.code) ? (reason.code as ErrorCode) : "INTERNAL";
  const how = permanent ? "" : ` after ${attempts} attempt${attempts === 1 ? "" : "s"}`;
  return new VerinferError(code, `proof job ${failure.id} failed${how}: ${reason.message}`, {
    cause,
    meta: { jobId: failure.id, attempts, permanent },
  });
}

/**
 * The package a job is proven with: the one whose manifest the job recorded (else, for a job written before
 * jobs recorded it, the one its model id indexes), and only if its key is the one the job's receipt names.
 */
async function packageOf(job: ProofJob, cacheDir: string): Promise<ModelPackage> {
  let pkg: ModelPackage | undefined;
  if (job.manifest) {
    const store = new ArtifactStore(cacheDir);
    const bytes = await store.get(job.manifest, "manifest");
    pkg = await ModelPackage.fromManifest(JSON.parse(bytes.toString("utf8")), store);
  } else {
    pkg = await findModelPackage(cacheDir, "id", job.modelId);
  }
  if (!pkg) {
    throw new VerinferError("ARTIFACT_MISSING", `model ${job.modelId} of proof job ${job.id} is not in the cache`);
  }
  const named = job.receipt.model.vkey;
  if (named !== undefined && pkg.vkeyCid !== named) {
    throw new VerinferError(
      "ARTIFACT_MISSING",
      `the package of proof job ${job.id} (the key its receipt names) is not in the cache`,
      {
        details: `the receipt names key ${named}; model ${job.modelId} is now indexed under key ${pkg.vkeyCid}, and a proof under it would not be the one the receipt names`,
      },
    );
  }
  return pkg;
}

/** The delay the policy sets before attempt `attempts + 1`, after `attempts` failed ones. */
function backoffMs(policy: ProofRetryPolicy, attempts: number): number {
  return attempts < 1 ? 0 : Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempts - 1));
}

/** Attempts a job until it is proven, fails permanently, or runs out of attempts; every step is on disk first. */
async function attempt(
  start: ProofJob,
  cacheDir: string,
  policy: ProofRetryPolicy,
  given?: ModelPackage,
  lock?: FileLock,
) {
  let job = start;
  let pkg = given;
  let lastError: unknown;
  for (;;) {
    if (job.attempts >= policy.maxAttempts) {
      const reason = job.lastError ?? {
        code: "INTERNAL",
        message: "every attempt was interrupted",
        at: new Date().toISOString(),
      };
      const failure: ProofFailure = {
        format: PROOF_FAILURE_FORMAT,
        id: job.id,
        reason,
        permanent: false,
        attempts: job.attempts,
        job,
      };
      await writeFailure(cacheDir, failure, lock);
      throw failureError(failure, lastError);
    }
    // A notBefore further away than the policy's longest delay was not set by it (a clock set back, an edited
    // file): it waits the policy's own delay for this attempt instead, so one job's date never holds a resume.
    const wait = job.notBefore ? Date.parse(job.notBefore) - Date.now() : 0;
    if (wait > 0) await sleep(wait > policy.maxDelayMs ? backoffMs(policy, job.attempts) : wait);
    const { notBefore: _notBefore, ...rest } = job;
    job = { ...rest, attempts: job.attempts + 1 };
    const current = job;
    try {
      const receipt = await inLane(async () => {
        // Counted before it starts: an attempt that takes the process down still uses up one.
        await atomicWrite(jobFile(cacheDir, "pending", current.id), JSON.stringify(current), 0o600);
        pkg ??= await packageOf(current, cacheDir);
        const input = checkJob(current, pkg);
        const salts = { input: BigInt(current.salts.input), output: BigInt(current.salts.output) };
        return proveReceipt({ pkg, input, salts, base: await rebuildBase(current, pkg, input, salts) });
      });
      // The receipt first, then the pending file: a crash in between leaves both, and resume keeps the receipt.
      // Not if another process took the job over meanwhile (this one stalled past staleMs): its outcome stands.
      await stillHeld(lock);
      await atomicWrite(jobFile(cacheDir, "done", current.id), JSON.stringify(receipt, null, 2));
      await rm(jobFile(cacheDir, "pending", current.id), { force: true });
      return receipt;
    } catch (error) {
      if (error instanceof LockLost) throw error;
      lastError = error;
      const reason = reasonOf(error);
      const permanent = isPermanent(error);
      if (permanent || job.attempts >= policy.maxAttempts) {
        const failure: ProofFailure = {
          format: PROOF_FAILURE_FORMAT,
          id: job.id,
          reason,
          permanent,
          attempts: job.attempts,
          job,
        };
        await writeFailure(cacheDir, failure, lock);
        throw failureError(failure, error);
      }
      const delay = backoffMs(policy, job.attempts);
      job = { ...job, lastError: reason, notBefore: new Date(Date.now() + delay).toISOString() };
      // Best effort: if even this write fails, the count is still kept in memory and written by the next attempt.
      await atomicWrite(jobFile(cacheDir, "pending", job.id), JSON.stringify(job), 0o600).catch(() => undefined);
    }
  }
}

/**
 * Runs a job under its lock. While another process holds the lock, waits for the outcome it records (or for its
 * lock to turn stale, then takes the job over, continuing from the job file that process left).
 */
async function locked(job: ProofJob, cacheDir: string, policy: ProofRetryPolicy, pkg?: ModelPackage) {
  for (;;) {
    const outcome = await settled(cacheDir, job.id);
    if (outcome && "receipt" in outcome) return outcome.receipt;
    if (outcome) throw failureError(outcome.failure);
    const lock = await tryFileLock(lockFile(cacheDir, job.id));
    if (lock) {
      try {
        // Looked at again under the lock: the last holder may have finished it or counted attempts since.
        const after = await settled(cacheDir, job.id);
        if (after && "receipt" in after) return after.receipt;
        if (after) throw failureError(after.failure);
        const parsed = ProofJobSchema.safeParse(await readJson(jobFile(cacheDir, "pending", job.id)));
        const latest = parsed.success && parsed.data.id === job.id ? parsed.data : job;
        return await attempt(latest.attempts >= job.attempts ? latest : job, cacheDir, policy, pkg, lock);
      } catch (error) {
        // Taken over while proving: wait for the outcome the new holder records.
        if (!(error instanceof LockLost)) throw error;
      } finally {
        await lock.release();
      }
    }
    await sleep(LOCK_POLL_MS);
  }
}

function run(job: ProofJob, cacheDir: string, policy: ProofRetryPolicy, pkg?: ModelPackage): Promise<Receipt> {
  const existing = running.get(job.id);
  if (existing) return existing;
  const promise = locked(job, cacheDir, policy, pkg).finally(() => running.delete(job.id));
  running.set(job.id, promise);
  // The caller may never await it; its failure is recorded in jobs/failed.
  promise.catch(() => undefined);
  return promise;
}

/**
 * Persists a proof job for an already-returned (attested) receipt, then starts proving it in the background.
 * The job file is written before this resolves, so a crash or restart loses nothing:
 * {@link resumePendingProofs} picks it up. A failure that may pass (a damaged zkey later repaired, a missing
 * model later restored) is retried with exponential backoff, the attempts counted in the job file; a job that
 * can never be proven, or runs out of attempts, lands in `jobs/failed/<id>.json` with its reason.
 *
 * @throws VerinferError `INVALID_OPTIONS` for a bad `retry`.
 * @example
 * ```ts
 * const { id, promise } = await deferProof({ pkg, input: xq, salts, receipt, retry: { maxAttempts: 3 } });
 * ```
 */
export async function deferProof(params: {
  pkg: ModelPackage;
  input: readonly bigint[];
  salts: Salts;
  receipt: Receipt;
  /** Default: the process's policy ({@link configureProofRetry}, else {@link DEFAULT_PROOF_RETRY}). */
  retry?: Partial<ProofRetryPolicy>;
  /**
   * Prove on this BullMQ queue's provers (`createProofQueue`) instead of in this process: the job then lives in
   * Redis, not in the cache (`id` is its job id; a restarted process collects it with `queue.get(id)`), and
   * retries follow the queue's `attempts` and `backoffMs` (`retry` does not apply).
   */
  queue?: ProofQueue;
}): Promise<DeferredProof> {
  if (params.queue) {
    if (params.retry !== undefined) {
      throw new VerinferError("INVALID_OPTIONS", "retry does not apply to a queued proof (the queue's attempts do)");
    }
    const handle = await params.queue.submit({
      pkg: params.pkg,
      input: params.input,
      salts: params.salts,
      receipt: params.receipt,
    });
    handle.receipt.catch(() => undefined);
    return { id: handle.jobId, promise: handle.receipt };
  }
  const policy = retryPolicy(params.retry);
  const named = params.receipt?.model?.vkey;
  if (named !== undefined && named !== params.pkg.vkeyCid) {
    throw new VerinferError("INVALID_INPUT", "the receipt names another verification key than the package's");
  }
  // The package's manifest, in the cache's own store: a resume proves with this package, whatever the model id
  // indexes by then.
  const manifest = await params.pkg.store.put(canonicalJson(params.pkg.manifest));
  const job: ProofJob = {
    format: PROOF_JOB_FORMAT,
    id: randomUUID(),
    modelId: params.pkg.id,
    input: params.input.map(String),
    salts: { ...params.salts },
    // The caller keeps (and may edit) its receipt; the job proves the statement as it was made.
    receipt: structuredClone(params.receipt),
    createdAt: new Date().toISOString(),
    attempts: 0,
    manifest: { sha256: manifest.sha256, size: manifest.size },
  };
  const cacheDir = params.pkg.store.cacheDir;
  await atomicWrite(jobFile(cacheDir, "pending", job.id), JSON.stringify(job), 0o600);
  return { id: job.id, promise: run(job, cacheDir, policy, params.pkg) };
}

/** Options of {@link resumePendingProofs}. */
export interface ResumePendingProofsOptions {
  cacheDir?: string;
  /** Retry policy of the resumed jobs; default the process's ({@link configureProofRetry}). */
  retry?: Partial<ProofRetryPolicy>;
  /** Temporary files older than this (ms) are removed even if their writer may be alive. Default 15 minutes. */
  staleTempMs?: number;
}

/** Largest job, outcome or failure file read back (a job holds its input and statement): past it, unreadable. */
const MAX_JOB_FILE_BYTES = 64 << 20;

const TEMP = /\.tmp(?:-(\d+)-[0-9a-f]+)?$/;

/**
 * Removes the temporary files an interrupted write left in the job folders: those of a process that is gone
 * (`<file>.tmp-<pid>-<hex>`, as `atomicWrite` names them), and any older than `staleMs`. A write in progress
 * in a live process is left alone.
 */
async function removeTempFiles(cacheDir: string, staleMs: number): Promise<void> {
  for (const state of ["pending", "done", "failed"] as const) {
    const dir = jobDir(cacheDir, state);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const match = TEMP.exec(name);
      if (!match) continue;
      const file = path.join(dir, name);
      const pid = match[1] === undefined ? undefined : Number(match[1]);
      const writerGone = pid !== undefined && pid !== process.pid && !isAlive(pid);
      const age = await stat(file).then(
        (s) => Date.now() - s.mtimeMs,
        () => undefined,
      );
      if (age === undefined) continue;
      if (writerGone || age > staleMs) await rm(file, { force: true });
    }
  }
}

/** A JSON file's content; `undefined` when it is absent or not JSON. */
async function readJson(file: string): Promise<unknown> {
  try {
    return parseStrictJson(
      (await readUntrustedFile(file, "proof job file", { maxBytes: MAX_JOB_FILE_BYTES })).toString("utf8"),
    );
  } catch {
    return undefined;
  }
}

/** Settles a job file that a crash left pending although its outcome is recorded; `undefined` if it is not so. */
async function settled(
  cacheDir: string,
  id: string,
): Promise<{ receipt: Receipt } | { failure: ProofFailure } | undefined> {
  const done = ReceiptSchema.safeParse(await readJson(jobFile(cacheDir, "done", id)));
  if (done.success) {
    await rm(jobFile(cacheDir, "pending", id), { force: true });
    return { receipt: done.data };
  }
  const failed = ProofFailureSchema.safeParse(await readJson(jobFile(cacheDir, "failed", id)));
  if (failed.success) {
    await rm(jobFile(cacheDir, "pending", id), { force: true });
    return { failure: failed.data };
  }
  return undefined;
}

/**
 * Resumes every persisted proof job of the cache that is not already running in this process (e.g. after a
 * restart), continuing each job's attempt count and backoff. First removes the temporary files crashed writes
 * left behind. A job file that does not parse is moved to `jobs/failed` with its reason at once; a job whose
 * model is not in the cache is retried like any failure that may pass, then failed.
 *
 * @throws VerinferError `INVALID_OPTIONS` for a bad `retry`.
 * @example
 * ```ts
 * for (const job of await resumePendingProofs()) console.log(job.id, (await job.promise).mode); // "zk"
 * ```
 */
export async function resumePendingProofs(options: ResumePendingProofsOptions = {}): Promise<DeferredProof[]> {
  const policy = retryPolicy(options.retry);
  const cacheDir = resolveCacheDir(options.cacheDir);
  await removeTempFiles(cacheDir, options.staleTempMs ?? 15 * 60_000);
  const dir = jobDir(cacheDir, "pending");
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => /^[0-9a-f-]{36}\.json$/.test(f));
  const handles: DeferredProof[] = [];
  for (const f of files.sort()) {
    const id = f.slice(0, -5);
    const already = running.get(id);
    if (already) {
      handles.push({ id, promise: already });
      continue;
    }
    const outcome = await settled(cacheDir, id);
    let promise: Promise<Receipt>;
    if (outcome && "receipt" in outcome) promise = Promise.resolve(outcome.receipt);
    else if (outcome) promise = Promise.reject(failureError(outcome.failure));
    else {
      // Bounded, a regular file only: a FIFO or a huge file under a job's name must not hang or flood the resume.
      const text = await readUntrustedFile(path.join(dir, f), "proof job file", { maxBytes: MAX_JOB_FILE_BYTES }).then(
        (bytes) => bytes.toString("utf8"),
        (cause: unknown) => cause,
      );
      let job: ProofJob | undefined;
      let cause: unknown = text;
      if (typeof text === "string") {
        try {
          job = ProofJobSchema.parse(parseStrictJson(text));
          if (job.id !== id) throw new Error(`the file of job ${id} holds job ${job.id}`);
        } catch (error) {
          job = undefined;
          cause = error;
        }
      }
      if (job) promise = run(job, cacheDir, policy);
      else {
        const failure: ProofFailure = {
          format: PROOF_FAILURE_FORMAT,
          id,
          reason: { code: "ARTIFACT_CORRUPT", message: `proof job ${id} is unreadable`, at: new Date().toISOString() },
          permanent: true,
          attempts: 0,
          ...(typeof text === "string" && text.length <= 1 << 20 ? { raw: text } : {}),
        };
        promise = writeFailure(cacheDir, failure).then(() => Promise.reject(failureError(failure, cause)));
      }
    }
    promise.catch(() => undefined);
    handles.push({ id, promise });
  }
  return handles;
}
