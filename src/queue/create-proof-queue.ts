import { Job, Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import { type Receipt, ReceiptSchema } from "../attest/receipt.js";
import { ERROR_CODES, VerinferError } from "../errors.js";
import { FIELD_PRIME } from "../field.js";
import { verifySnarkProof } from "../proof-systems/verify-snark-proof.js";
import { zkReceiptOf } from "../prove-receipt.js";
import { resolveCacheDir } from "../storage/cache-dir.js";
import { ModelPackage } from "../storage/model-package.js";
import type { Storage } from "../storage/storage.js";
import { JobAdmission } from "./job-admission.js";
import { fetchJobPackage, publishOnce } from "./job-package.js";
import { type LatencySummary, LatencyWindow } from "./latency-window.js";
import {
  DEFAULT_QUEUE_NAME,
  decodeFailure,
  jobSecrets,
  payloadKey,
  proofJobId,
  proofResult,
  QueueJobSchema,
  queueJob,
} from "./queue-job.js";
import { connectRedis, type RedisConnection, redisOptions } from "./redis-connection.js";

/** Options of {@link createProofQueue}. */
export interface ProofQueueOptions {
  /** The Redis every inference node and prover of the queue shares: a `redis://` / `rediss://` URL or ioredis options. */
  connection: RedisConnection;
  /** BullMQ queue name. Default `"verinfer-proofs"`. */
  name?: string;
  /**
   * Jobs that may wait for a prover (waiting, delayed for a retry), counted in Redis across every producer; past
   * it `submit` refuses at once with `OVERLOADED`. Admission is atomic in Redis (a reservation taken by a Lua
   * script), so concurrent producers never pass it together. Default 1,000.
   */
  maxDepth?: number;
  /**
   * Where model packages are published for the provers (`putModelPackage`, once per package and storage); jobs then name the manifest's
   * CID. Without it, jobs name only the model id and provers must already have the model in their cache.
   */
  storage?: Storage;
  /**
   * 32 bytes (or 64 hex digits) shared by the queue's producers and provers: seals each job's input, salts and
   * receipt, and each result, with AES-256-GCM, so Redis holds ciphertext. Without it they are stored in clear.
   */
  payloadKey?: Uint8Array | string;
  /** Proving attempts per job (BullMQ `attempts`), the first included. Default 3. */
  attempts?: number;
  /** Wait before the first retry, doubled for each further one (BullMQ exponential backoff), ms. Default 2,000. */
  backoffMs?: number;
  /** How long finished jobs stay in Redis, so their receipts can be collected by job id (s). Default 86,400. */
  keepSeconds?: number;
  /** At most this many finished jobs of each kind (completed, failed) stay in Redis. Default 10,000. */
  keepCount?: number;
  /** Verify every returned proof against the package's verification key before resolving. Default true. */
  verifyProofs?: boolean;
  /** Also poll Redis for the state of awaited jobs this often (ms), besides BullMQ's events. Default 5,000. */
  pollMs?: number;
  /** Cache where a package fetched by `get` (after a restart) is kept. Default as `resolveCacheDir`. */
  cacheDir?: string;
}

/** Parameters of {@link ProofQueue.submit}. */
export interface SubmitProofParams {
  pkg: ModelPackage;
  /** Quantized input, as `quantizeInput` returns it. */
  input: readonly bigint[];
  salts: { input: bigint | string; output: bigint | string };
  /** The receipt (any mode) of this input and these salts; the zk receipt keeps its commitments and outputs. */
  receipt: Receipt;
}

/** A submitted proof job. */
export interface ProofHandle {
  /** BullMQ job id, derived from the statement: collect the receipt later with `queue.get(jobId)`. */
  jobId: string;
  /**
   * Resolves to the zk receipt; rejects with the job's failure (`ARTIFACT_CORRUPT`, `PROVE_FAILED`, …) once
   * its attempts are spent, or with `OVERLOADED` (`meta.reason: "closed"`) when the queue is closed first.
   */
  receipt: Promise<Receipt>;
}

/** A snapshot of a proof queue. Redis counts are the whole queue's; the rest are this producer's. */
export interface ProofQueueStats {
  name: string;
  maxDepth: number;
  /** Jobs waiting for a prover (waiting, prioritized, delayed for a retry), in Redis. */
  depth: number;
  /** Jobs a prover holds now. */
  active: number;
  /** Finished jobs kept in Redis (see `keepSeconds`, `keepCount`). */
  completed: number;
  failed: number;
  /** Jobs BullMQ found stalled (their prover died or froze) and gave to another, since this queue started. */
  redelivered: number;
  /** Jobs this producer added, found already queued (duplicates of a statement), and refused. */
  submitted: number;
  duplicates: number;
  rejected: number;
  /** Receipts this producer resolved and jobs it saw fail. */
  proven: number;
  failures: number;
  /** The provers' witness + proving time of the receipts resolved here. */
  proveMs: LatencySummary;
  /** From submission to receipt, per receipt resolved here. */
  turnaroundMs: LatencySummary;
}

/** Proof jobs on BullMQ + Redis, for inference nodes; see {@link createProofQueue}. */
export interface ProofQueue {
  readonly name: string;
  /**
   * Adds a proof job for a receipt's statement (or joins the job already there for it).
   *
   * @throws VerinferError `OVERLOADED` at once when `maxDepth` jobs wait or the queue is closed;
   *   `INVALID_INPUT` for a malformed job.
   */
  submit(params: SubmitProofParams): Promise<ProofHandle>;
  /**
   * The handle of a job submitted earlier, by this or another producer (e.g. before a restart).
   *
   * @param options.pkg - the job's model package (else one submitted here, else fetched from `storage`), to
   *   verify the proof.
   * @throws VerinferError `NOT_FOUND` when Redis holds no such job (never submitted, or past `keepSeconds`).
   */
  get(jobId: string, options?: { pkg?: ModelPackage }): Promise<ProofHandle>;
  /** Depth, activity and latency; see {@link ProofQueueStats}. */
  stats(): Promise<ProofQueueStats>;
  readonly closed: boolean;
  /** Stops waiting (pending handles reject with `OVERLOADED`, their jobs go on in Redis) and disconnects. */
  close(): Promise<void>;
}

interface Waiter {
  resolve(receipt: Receipt): void;
  reject(error: unknown): void;
  submittedAt: number;
  pkg: ModelPackage | undefined;
}

const PERMANENT_STATES = new Set(["completed", "failed"]);

function positiveInt(value: number | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new VerinferError("INVALID_OPTIONS", `${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function salt(value: unknown, name: string): string {
  const s =
    typeof value === "bigint" ? value : typeof value === "string" && /^\d{1,78}$/.test(value) ? BigInt(value) : -1n;
  if (s < 0n || s >= FIELD_PRIME) throw new VerinferError("INVALID_INPUT", `salts.${name} must be a field element`);
  return s.toString();
}

class BullProofQueue implements ProofQueue {
  readonly name: string;
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly admission: JobAdmission;
  private readonly connections: Redis[];
  private readonly key: Buffer | undefined;
  private readonly maxDepth: number;
  private readonly jobOptions: {
    attempts: number;
    backoff: { type: "exponential"; delay: number };
    removeOnComplete: { age: number; count: number };
    removeOnFail: { age: number; count: number };
  };
  private readonly verifyProofs: boolean;
  private readonly storage: Storage | undefined;
  private readonly cacheDir: string | undefined;
  private readonly models = new Map<string, ModelPackage>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly checking = new Map<string, Promise<void>>();
  private readonly recheck = new Set<string>();
  private readonly adding = new Map<string, Promise<void>>();
  private readonly poll: NodeJS.Timeout;
  private readonly counts = { submitted: 0, duplicates: 0, rejected: 0, redelivered: 0, proven: 0, failures: 0 };
  private readonly proveMs = new LatencyWindow();
  private readonly turnaroundMs = new LatencyWindow();
  private closing: Promise<void> | undefined;

  constructor(options: ProofQueueOptions) {
    if (typeof options !== "object" || options === null) {
      throw new VerinferError("INVALID_OPTIONS", "createProofQueue takes { connection, … }");
    }
    const redis = redisOptions(options.connection);
    this.name = options.name ?? DEFAULT_QUEUE_NAME;
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(this.name)) {
      throw new VerinferError("INVALID_OPTIONS", "the queue name must be 1–100 letters, digits, _ . -");
    }
    this.maxDepth = positiveInt(options.maxDepth, "maxDepth", 1_000, 0);
    const keep = {
      age: positiveInt(options.keepSeconds, "keepSeconds", 86_400),
      count: positiveInt(options.keepCount, "keepCount", 10_000),
    };
    this.jobOptions = {
      attempts: positiveInt(options.attempts, "attempts", 3),
      backoff: { type: "exponential", delay: positiveInt(options.backoffMs, "backoffMs", 2_000, 0) },
      removeOnComplete: keep,
      removeOnFail: keep,
    };
    this.key = options.payloadKey === undefined ? undefined : payloadKey(options.payloadKey);
    this.verifyProofs = options.verifyProofs ?? true;
    this.storage = options.storage;
    this.cacheDir = options.cacheDir;
    const pollMs = positiveInt(options.pollMs, "pollMs", 5_000, 10);
    this.connections = [connectRedis(redis, "verinfer-queue"), connectRedis(redis, "verinfer-queue-events")];
    this.queue = new Queue(this.name, { connection: this.connections[0] as Redis });
    this.events = new QueueEvents(this.name, { connection: this.connections[1] as Redis });
    this.admission = new JobAdmission(this.queue, this.connections[0] as Redis);
    // Connection errors (Redis restarting) come as "error" events; ioredis reconnects on its own. Unheard, an
    // "error" event would throw.
    this.queue.on("error", () => undefined);
    this.events.on("error", () => undefined);
    this.events.on("completed", ({ jobId }) => this.check(jobId));
    this.events.on("failed", ({ jobId }) => this.check(jobId));
    this.events.on("stalled", () => {
      this.counts.redelivered++;
    });
    this.poll = setInterval(() => {
      for (const jobId of this.waiters.keys()) this.check(jobId);
    }, pollMs);
    this.poll.unref();
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  async submit(params: SubmitProofParams): Promise<ProofHandle> {
    if (this.closing) {
      this.counts.rejected++;
      throw new VerinferError("OVERLOADED", "the proof queue is closed", { meta: { reason: "closed" } });
    }
    const { pkg } = params;
    if (!(pkg instanceof ModelPackage)) throw new VerinferError("INVALID_INPUT", "pkg is not a ModelPackage");
    if (!Array.isArray(params.input) || params.input.length === 0 || params.input.some((v) => typeof v !== "bigint")) {
      throw new VerinferError("INVALID_INPUT", "input must be a non-empty array of bigints (the quantized input)");
    }
    const salts = { input: salt(params.salts?.input, "input"), output: salt(params.salts?.output, "output") };
    // What the proof is for is the receipt's statement; its guarantee (an attestation, a proof) is not kept.
    const { attestation: _a, proof: _p, ...statement } = (params.receipt ?? {}) as Receipt;
    const parsed = ReceiptSchema.safeParse({ ...statement, mode: "none" });
    if (!parsed.success) throw new VerinferError("INVALID_INPUT", "receipt is not a verinfer receipt");
    const receipt = parsed.data;
    if (receipt.model.id !== pkg.id) throw new VerinferError("INVALID_INPUT", "the receipt is of another model");
    this.models.set(pkg.id, pkg);
    const jobId = proofJobId({ modelId: pkg.id, inputCommitment: receipt.input.commitment, outputSalt: salts.output });
    const submittedAt = Date.now();

    // Concurrent submissions of one statement here wait for the first: one add, the others are duplicates.
    const earlier = this.adding.get(jobId);
    if (earlier) {
      await earlier.catch(() => undefined);
    }
    const adding = this.add(jobId, pkg, receipt, params.input, salts);
    this.adding.set(jobId, adding);
    try {
      await adding;
    } finally {
      if (this.adding.get(jobId) === adding) this.adding.delete(jobId);
    }
    return { jobId, receipt: this.wait(jobId, pkg, submittedAt) };
  }

  /** Adds the job, or joins the one there (retrying it if it failed). */
  private async add(
    jobId: string,
    pkg: ModelPackage,
    receipt: Receipt,
    input: readonly bigint[],
    salts: { input: string; output: string },
  ): Promise<void> {
    const existing = await Job.fromId(this.queue, jobId);
    if (existing) {
      this.counts.duplicates++;
      if (existing.finishedOn !== undefined && (await existing.getState()) === "failed") {
        // The statement is asked for again: give it fresh attempts.
        await existing.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true }).catch(() => undefined);
      }
      return;
    }
    // Published before a place is taken: a slow upload must not hold a place (or outlast its reservation).
    const manifest = this.storage ? await publishOnce(this.storage, pkg) : undefined;
    const data = queueJob({
      jobId,
      modelId: pkg.id,
      manifest,
      secrets: { input: input.map(String), salts, receipt },
      key: this.key,
    });
    // Counting and adding in two steps would let concurrent producers all see room: the place is reserved
    // atomically in Redis first (see job-admission.ts), and released once the job is in BullMQ's own states.
    const { reservation, depth } = await this.admission.reserve(this.maxDepth);
    if (reservation === undefined) {
      this.counts.rejected++;
      throw new VerinferError("OVERLOADED", "the proof queue is full", {
        details: `${depth} job(s) wait for a prover or are being added (maxDepth ${this.maxDepth})`,
        meta: { reason: "full", depth, maxDepth: this.maxDepth },
      });
    }
    try {
      await this.queue.add("prove", data, { ...this.jobOptions, jobId });
    } finally {
      await this.admission.release(reservation).catch(() => undefined);
    }
    this.counts.submitted++;
  }

  async get(jobId: string, options: { pkg?: ModelPackage } = {}): Promise<ProofHandle> {
    if (this.closing)
      throw new VerinferError("OVERLOADED", "the proof queue is closed", { meta: { reason: "closed" } });
    if (typeof jobId !== "string" || !/^vi1-[0-9a-f]{64}$/.test(jobId)) {
      throw new VerinferError("INVALID_INPUT", "not a proof job id (vi1- and 64 hex digits)");
    }
    if (options.pkg !== undefined && !(options.pkg instanceof ModelPackage)) {
      throw new VerinferError("INVALID_INPUT", "options.pkg is not a ModelPackage");
    }
    const job = await Job.fromId(this.queue, jobId);
    if (!job) throw new VerinferError("NOT_FOUND", `no proof job ${jobId} in the queue`, { meta: { jobId } });
    if (options.pkg) this.models.set(options.pkg.id, options.pkg);
    return { jobId, receipt: this.wait(jobId, options.pkg, Date.now()) };
  }

  async stats(): Promise<ProofQueueStats> {
    const c = await this.queue.getJobCounts("waiting", "prioritized", "delayed", "active", "completed", "failed");
    return {
      name: this.name,
      maxDepth: this.maxDepth,
      depth: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0),
      active: c.active ?? 0,
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
      ...this.counts,
      proveMs: this.proveMs.summary(),
      turnaroundMs: this.turnaroundMs.summary(),
    };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.poll);
      for (const [jobId, set] of this.waiters) {
        for (const w of set) {
          w.reject(
            new VerinferError("OVERLOADED", `the proof queue was closed before job ${jobId} finished`, {
              details: "the job goes on in Redis: collect its receipt with queue.get(jobId)",
              meta: { reason: "closed", jobId },
            }),
          );
        }
      }
      this.waiters.clear();
      await Promise.allSettled([this.events.close(), this.queue.close()]);
      await Promise.allSettled(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
    })();
    return this.closing;
  }

  private wait(jobId: string, pkg: ModelPackage | undefined, submittedAt: number): Promise<Receipt> {
    if (this.closing) {
      const closed = Promise.reject(
        new VerinferError("OVERLOADED", `the proof queue was closed before job ${jobId} finished`, {
          meta: { reason: "closed", jobId },
        }),
      );
      closed.catch(() => undefined);
      return closed;
    }
    const promise = new Promise<Receipt>((resolve, reject) => {
      let set = this.waiters.get(jobId);
      if (!set) {
        set = new Set();
        this.waiters.set(jobId, set);
      }
      set.add({ resolve, reject, submittedAt, pkg });
    });
    // Registered first, checked second: an event between the two cannot be missed.
    this.check(jobId);
    // A handle nobody awaits (its job goes on in Redis) must not take the process down when it rejects.
    promise.catch(() => undefined);
    return promise;
  }

  /** Reads a job's state from Redis and settles its waiters if it is finished. One check per job at a time. */
  private check(jobId: string): void {
    if (!this.waiters.has(jobId)) return;
    if (this.checking.has(jobId)) {
      // An event during a check may report what the check read too early: check once more after it.
      this.recheck.add(jobId);
      return;
    }
    const run = this.settle(jobId)
      .catch(() => undefined)
      .finally(() => {
        this.checking.delete(jobId);
        if (this.recheck.delete(jobId)) this.check(jobId);
      });
    this.checking.set(jobId, run);
  }

  private async settle(jobId: string): Promise<void> {
    const job = await Job.fromId(this.queue, jobId);
    if (!job) {
      this.rejectAll(jobId, new VerinferError("NOT_FOUND", `proof job ${jobId} is no longer in the queue`));
      return;
    }
    if (job.finishedOn === undefined) return;
    const state = await job.getState();
    if (!PERMANENT_STATES.has(state)) return;
    if (state === "failed") {
      this.counts.failures += this.waiters.get(jobId)?.size ?? 0;
      this.rejectAll(jobId, decodeFailure(job.failedReason, jobId, ERROR_CODES));
      return;
    }
    const set = this.waiters.get(jobId);
    if (!set) return;
    let receipt: Receipt;
    try {
      receipt = await this.receiptOf(job, [...set].find((w) => w.pkg)?.pkg);
    } catch (error) {
      this.counts.failures += set.size;
      this.rejectAll(jobId, error);
      return;
    }
    this.waiters.delete(jobId);
    for (const w of set) {
      this.counts.proven++;
      this.turnaroundMs.add(Date.now() - w.submittedAt);
      this.proveMs.add(receipt.timings.proveMs ?? Number.NaN);
      // Each waiter gets its own copy: one caller editing its receipt must not change another's.
      w.resolve(structuredClone(receipt));
    }
  }

  private rejectAll(jobId: string, error: unknown): void {
    const set = this.waiters.get(jobId);
    this.waiters.delete(jobId);
    for (const w of set ?? []) w.reject(error);
  }

  /** The zk receipt of a completed job: its stored receipt and the prover's proof, cross-checked and verified. */
  private async receiptOf(job: Job, given: ModelPackage | undefined): Promise<Receipt> {
    const jobId = job.id as string;
    const data = QueueJobSchema.safeParse(job.data);
    if (!data.success) throw new VerinferError("MALFORMED_RECEIPT", `proof job ${jobId} has malformed data`);
    const secrets = jobSecrets(data.data, this.key, jobId);
    const base = secrets.receipt;
    const expectedId = proofJobId({
      modelId: data.data.modelId,
      inputCommitment: base.input.commitment,
      outputSalt: secrets.salts.output,
    });
    if (expectedId !== jobId || base.model.id !== data.data.modelId) {
      throw new VerinferError("MALFORMED_RECEIPT", `proof job ${jobId} holds another statement than its id names`);
    }
    const result = proofResult(job.returnvalue, this.key, jobId);
    const waited = job.processedOn !== undefined ? Math.max(0, job.processedOn - job.timestamp) : 0;
    // The package says which proof system the proof must be of: a prover's proof of another system (a Groth16 and a
    // PLONK package of one model share its id and public signals) is refused here, not carried into a receipt.
    // A package held for this model id serves only with the key the job's receipt names, else the job's own
    // manifest is fetched. Without a package (verifyProofs off) the proof's `protocol` labels the receipt, and
    // verifyReceipt checks it against the key later.
    const isJobs = (p: ModelPackage) =>
      p.id === base.model.id && (base.model.vkey === undefined || base.model.vkey === p.vkeyCid);
    const known = this.models.get(base.model.id);
    const held = given ?? (known && isJobs(known) ? known : undefined);
    const pkg = this.verifyProofs ? (held ?? (await this.fetchPackage(data.data.modelId, data.data.manifest))) : held;
    if (pkg && !isJobs(pkg)) {
      throw new VerinferError("MALFORMED_RECEIPT", `proof job ${jobId} is not of model ${pkg.id}`);
    }
    const system = pkg?.manifest.proofSystem ?? result.proof.protocol;
    const receipt = zkReceiptOf(
      base,
      { ...result, system: result.proof.protocol },
      { proveMs: result.timings.proveMs, proveQueueMs: waited + result.timings.queueMs },
      { system, code: "PROVE_FAILED" },
    );
    if (this.verifyProofs && pkg) {
      const ok = await verifySnarkProof({
        system,
        vkey: pkg.vkey,
        publicSignals: result.publicSignals,
        proof: result.proof,
      }).catch(() => false);
      if (!ok) {
        throw new VerinferError("PROVE_FAILED", `prover ${result.prover} returned a proof that does not verify`, {
          meta: { jobId, prover: result.prover },
        });
      }
    }
    return receipt;
  }

  private async fetchPackage(modelId: string, manifest: string | undefined): Promise<ModelPackage> {
    if (!this.storage || !manifest) {
      throw new VerinferError("ARTIFACT_MISSING", `model ${modelId} is not known to this queue`, {
        details: "pass { pkg } to queue.get, or give the queue the storage its jobs' packages are in",
      });
    }
    const pkg = await fetchJobPackage({
      storage: this.storage,
      manifest,
      modelId,
      cacheDir: resolveCacheDir(this.cacheDir),
      proving: false,
    });
    this.models.set(pkg.id, pkg);
    return pkg;
  }
}

/**
 * Creates a proof queue on BullMQ + Redis, for inference nodes that hand their proofs to separate prover
 * processes (`startProver`, `verinfer prover`). A job's id is derived from its statement (model id, input
 * commitment, output salt), so a duplicate submission or a redelivery yields one proof and one receipt. Jobs
 * are retried with exponential backoff, a job whose prover dies is redelivered by BullMQ's stalled-job check,
 * and finished jobs stay in Redis for `keepSeconds`, so a restarted producer collects a receipt by job id.
 * Every returned proof is cross-checked against the submitted receipt and verified before its handle resolves.
 *
 * What Redis holds: per job, the model id, the manifest CID, timestamps, attempts, and — unless `payloadKey` is
 * set — the quantized input, both salts and the receipt; with `payloadKey` those and the result are
 * AES-256-GCM ciphertext. Nothing is logged.
 *
 * @example
 * ```ts
 * const queue = createProofQueue({ connection: "redis://127.0.0.1:6379", storage, maxDepth: 500 });
 * const { receipt } = await verifiableInfer(pkg, input, { queue });
 * const handle = await queue.submit({ pkg, input: xq, salts, receipt: attested });
 * const later = await (await queue.get(handle.jobId)).receipt;
 * await queue.close();
 * ```
 * @throws VerinferError `INVALID_OPTIONS` for a bad option or connection URL.
 */
export function createProofQueue(options: ProofQueueOptions): ProofQueue {
  return new BullProofQueue(options);
}
