import path from "node:path";
import { Job, Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import { type Receipt, ReceiptSchema } from "../attest/receipt.js";
import { ERROR_CODES, isVerinferError, VerinferError } from "../errors.js";
import { loadModelPackage, ModelPackage } from "../package/model-package.js";
import { verifySnarkProof } from "../proof-systems/verify-snark-proof.js";
import { zkReceiptOf } from "../receipts/prove-receipt.js";
import { resolveCacheDir } from "../storage/cache-dir.js";
import type { Storage } from "../storage/storage.js";
import { FIELD_PRIME, isDecimalString } from "../util/field.js";
import { assertRedisUsable, checkRedis, type RedisHealth, type RedisWarning } from "./check-redis.js";
import { JobAdmission } from "./job-admission.js";
import { fetchJobPackage, publishOnce } from "./job-package.js";
import { type JobRecord, JobRecords, QUEUE_RECORD_FORMAT } from "./job-record.js";
import { type LatencySummary, LatencyWindow } from "./latency-window.js";
import {
  DEFAULT_QUEUE_NAME,
  decodeFailure,
  jobSecrets,
  PROOF_JOB_ID,
  payloadKey,
  proofJobId,
  proofResult,
  QueueJobSchema,
  queueJob,
} from "./queue-job.js";
import { connectRedis, type RedisConnection, redisOptions } from "./redis-connection.js";
import { withRedisDeadline } from "./redis-deadline.js";

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
  /**
   * Where this producer keeps its durable record of every job it accepted, until the job's outcome is collected:
   * the input, salts and statement (to add the job again under the same id when Redis lost it) and the package
   * by model id and vkey CID (the one key a result may verify against). One file per job, mode 0600 (it holds
   * the salts), written atomically. One producer process per directory. The recovery scan drops, rather than
   * re-adds, the record of a job Redis lost that was submitted more than `keepSeconds` ago and never collected
   * (`get` of it still re-adds it). Default
   * `<cacheDir>/queue-records/<name>`. `false`: no records — a Redis restart without persistence then loses the
   * jobs it held, and `get` collects only with `{ pkg }` or a package submitted in this process.
   */
  recordDir?: string | false;
  /**
   * Run on a Redis whose `maxmemory-policy` may evict keys (anything but `noeviction`). Default false: the queue
   * refuses such a Redis with `REDIS_UNSAFE` (see `ready()`); the records re-add what it evicts when allowed.
   */
  allowEvictingRedis?: boolean;
  /**
   * How long `submit`, `get` and `stats` wait for an unreachable Redis before rejecting with `UNAVAILABLE`
   * (retryable; `meta.retryAfterS`), ms. Awaited receipts wait across an outage. Default 5,000.
   */
  redisTimeoutMs?: number;
  /**
   * Told what the Redis check found wrong (append-only file off, settings unknown, evicting when allowed), at
   * start and after each reconnection, and of job records it cannot read. Default: `process.emitWarning`.
   */
  onWarning?: (warning: ProofQueueWarning) => void;
}

/** What a proof queue warns of: its Redis's settings, or job records it cannot read (left in place). */
export type ProofQueueWarning = RedisWarning | { code: "RECORD_MALFORMED"; message: string };

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
  /** Jobs this producer added again from its records because Redis no longer held them. */
  readded: number;
  /** Results refused because they did not verify against the package recorded at submit (each job re-run). */
  refused: number;
  /** Jobs this producer accepted whose outcome is not collected yet (its records). */
  records: number;
  /** The latest check of Redis (at start, after a reconnection, or `redisHealth()`). */
  redis: RedisHealth | undefined;
  /** The code submissions are refused with now (`REDIS_UNSAFE`: an evicting Redis), if they are. */
  refusal?: "REDIS_UNSAFE";
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
   * The handle of a job submitted earlier, by this producer (before a restart too: its record names the package)
   * or another one (then pass `pkg`). A job Redis lost is added again from this producer's record, same id.
   *
   * @param options.pkg - the job's model package, to verify the proof: the one this producer recorded at submit
   *   (it must match the record), else a package submitted here, else loaded by the record's model id and vkey
   *   CID (from `storage` by its manifest CID, or the cache). Never the package the job in Redis names.
   * @throws VerinferError `NOT_FOUND` when neither Redis nor this producer's records hold the job;
   *   `UNAVAILABLE` when Redis does not answer within `redisTimeoutMs`; `REDIS_UNSAFE` (see `ready`).
   */
  get(jobId: string, options?: { pkg?: ModelPackage }): Promise<ProofHandle>;
  /**
   * The start-up check, run once when the queue is created: reads Redis's `maxmemory-policy` and `appendonly`,
   * refuses an evicting Redis (unless `allowEvictingRedis`), warns of one without the append-only file, then adds
   * again every recorded job Redis no longer holds. `submit` and `get` await it.
   *
   * @throws VerinferError `REDIS_UNSAFE` for an evicting Redis; `UNAVAILABLE` when Redis does not answer
   *   within `redisTimeoutMs` (the next call checks again).
   */
  ready(): Promise<RedisHealth>;
  /**
   * Checks Redis now (reachable? `maxmemory-policy`, `appendonly`), within `timeoutMs` (default 1,000): what an
   * inference node's `/health` reports. Never throws; an unreachable Redis is `{ reachable: false }`.
   */
  redisHealth(options?: { timeoutMs?: number }): Promise<RedisHealth>;
  /**
   * Adds again, under the same id, every job this producer accepted (it has a record of) that Redis no longer
   * holds. Runs at start and after each reconnection to Redis; call it to force one.
   */
  recover(): Promise<RecoveryReport>;
  /** Depth, activity and latency; see {@link ProofQueueStats}. */
  stats(): Promise<ProofQueueStats>;
  readonly closed: boolean;
  /** Stops waiting (pending handles reject with `OVERLOADED`, their jobs go on in Redis) and disconnects. */
  close(): Promise<void>;
}

/** What {@link ProofQueue.recover} did. */
export interface RecoveryReport {
  /** Records read (jobs accepted here and not collected). */
  records: number;
  /** Of those, jobs Redis no longer held, added again. */
  readded: number;
  /** Records that could not be read (left in place, named in `malformedIds`). */
  malformed: number;
  malformedIds: string[];
  /** Records of jobs Redis no longer held, submitted longer than `keepSeconds` ago: removed, not re-added. */
  expired: number;
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
  const s = typeof value === "bigint" ? value : isDecimalString(value) ? BigInt(value) : -1n;
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
  private readonly records: JobRecords | undefined;
  private readonly allowEviction: boolean;
  private readonly redisTimeoutMs: number;
  private readonly onWarning: (warning: ProofQueueWarning) => void;
  /** Packages this producer holds, by model id and vkey CID. */
  private readonly packages = new Map<string, ModelPackage>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly checking = new Map<string, Promise<void>>();
  private readonly recheck = new Set<string>();
  private readonly adding = new Map<string, Promise<void>>();
  /** Re-runs of a job whose result was refused, per job, in this process. */
  private readonly reruns = new Map<string, number>();
  private readonly pending = new Set<string>();
  private readonly poll: NodeJS.Timeout;
  private readonly counts = {
    submitted: 0,
    duplicates: 0,
    rejected: 0,
    redelivered: 0,
    proven: 0,
    failures: 0,
    readded: 0,
    refused: 0,
  };
  private readonly proveMs = new LatencyWindow();
  private readonly turnaroundMs = new LatencyWindow();
  private starting: Promise<RedisHealth> | undefined;
  private started = false;
  private lastHealth: RedisHealth | undefined;
  /** Set when a later check finds an evicting Redis the caller did not allow. */
  private refusal: VerinferError | undefined;
  private recovering: Promise<RecoveryReport> | undefined;
  private recoverAgain = false;
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
    if (options.recordDir !== undefined && options.recordDir !== false && typeof options.recordDir !== "string") {
      throw new VerinferError("INVALID_OPTIONS", "recordDir must be a directory or false");
    }
    this.records =
      options.recordDir === false
        ? undefined
        : new JobRecords(
            path.resolve(options.recordDir ?? path.join(resolveCacheDir(options.cacheDir), "queue-records", this.name)),
          );
    this.allowEviction = options.allowEvictingRedis === true;
    this.redisTimeoutMs = positiveInt(options.redisTimeoutMs, "redisTimeoutMs", 5_000, 10);
    this.onWarning =
      options.onWarning ??
      ((w) => process.emitWarning(`verinfer proof queue ${this.name}: ${w.message}`, { code: w.code }));
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
    // A Redis that comes back may have come back empty (restarted without persistence, killed): look again for
    // recorded jobs it lost, and at its settings.
    (this.connections[0] as Redis).on("ready", () => {
      if (this.closing) return;
      if (!this.started) {
        // Redis was down when the queue was created: the start-up check runs now.
        this.ready().catch(() => undefined);
        return;
      }
      void this.redisHealth({ timeoutMs: this.redisTimeoutMs })
        .then((health) => this.warnOf(health))
        .catch(() => undefined);
      this.recover().catch(() => undefined);
    });
    this.poll = setInterval(() => {
      for (const jobId of this.waiters.keys()) this.check(jobId);
    }, pollMs);
    this.poll.unref();
    // The start-up check runs now; submit and get await it (and see its refusal).
    this.ready().catch(() => undefined);
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  private get client(): Redis {
    return this.connections[0] as Redis;
  }

  ready(): Promise<RedisHealth> {
    if (this.closing) return Promise.reject(closedError());
    this.starting ??= this.start();
    const starting = this.starting;
    // An unreachable Redis is not a verdict: the next call checks again.
    starting.catch((error) => {
      if (isVerinferError(error, "UNAVAILABLE") && this.starting === starting) this.starting = undefined;
    });
    return starting;
  }

  private async start(): Promise<RedisHealth> {
    const health = await this.redisHealth({ timeoutMs: this.redisTimeoutMs });
    assertRedisUsable(health, this.allowEviction);
    this.warnOf(health);
    this.started = true;
    const report = await this.recover();
    if (report.malformed > 0) {
      this.onWarning({
        code: "RECORD_MALFORMED",
        message: `${report.malformed} job record(s) could not be read and were left in place`,
      });
    }
    return health;
  }

  private warnOf(health: RedisHealth): void {
    if (!health.reachable) return;
    for (const warning of health.warnings) {
      try {
        this.onWarning(warning);
      } catch {
        // a listener's failure is not the queue's
      }
    }
  }

  async redisHealth(options: { timeoutMs?: number } = {}): Promise<RedisHealth> {
    const health = await checkRedis({ client: this.client, timeoutMs: options.timeoutMs ?? 1_000 });
    if (health.reachable) {
      this.lastHealth = health;
      this.refusal = undefined;
      try {
        assertRedisUsable(health, this.allowEviction);
      } catch (error) {
        this.refusal = error as VerinferError;
      }
    }
    return health;
  }

  /** Awaits the start-up check; → the refusal of a Redis found unsafe since. */
  private async usable(): Promise<void> {
    await this.ready();
    if (this.refusal) throw this.refusal;
  }

  recover(): Promise<RecoveryReport> {
    if (this.recovering) {
      this.recoverAgain = true;
      return this.recovering;
    }
    const run = this.scan().finally(() => {
      this.recovering = undefined;
      if (this.recoverAgain && !this.closing) {
        this.recoverAgain = false;
        this.recover().catch(() => undefined);
      }
    });
    this.recovering = run;
    return run;
  }

  private async scan(): Promise<RecoveryReport> {
    const report: RecoveryReport = { records: 0, readded: 0, malformed: 0, malformedIds: [], expired: 0 };
    if (!this.records) return report;
    for (const jobId of await this.records.list()) {
      if (this.closing) break;
      report.records++;
      this.pending.add(jobId);
      // A submission in flight here writes its record before it adds its job: not a lost job.
      if (this.adding.has(jobId)) continue;
      const there = await withRedisDeadline(this.client, "a recovery scan", this.redisTimeoutMs, () =>
        Job.fromId(this.queue, jobId),
      );
      if (there) continue;
      let record: JobRecord | undefined;
      try {
        record = await this.records.read(jobId);
      } catch {
        report.malformed++;
        report.malformedIds.push(jobId);
        continue;
      }
      if (!record) continue;
      if (Date.now() - Date.parse(record.submittedAt) > this.jobOptions.removeOnComplete.age * 1_000) {
        // Nobody collected it within keepSeconds (a finished job's lifetime in Redis): not proven again forever.
        await this.forget(jobId);
        report.expired++;
        continue;
      }
      await this.readd(record);
      report.readded++;
    }
    return report;
  }

  async submit(params: SubmitProofParams): Promise<ProofHandle> {
    if (this.closing) {
      this.counts.rejected++;
      throw closedError();
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
    if (receipt.model.vkey !== undefined && receipt.model.vkey !== pkg.vkeyCid) {
      throw new VerinferError("INVALID_INPUT", "the receipt names another verification key than the package's");
    }
    await this.usable();
    this.packages.set(packageKey(pkg.id, pkg.vkeyCid), pkg);
    const jobId = proofJobId({ modelId: pkg.id, inputCommitment: receipt.input.commitment, outputSalt: salts.output });
    const submittedAt = Date.now();
    const record: JobRecord = {
      format: QUEUE_RECORD_FORMAT,
      jobId,
      queue: this.name,
      modelId: pkg.id,
      vkeyCid: pkg.vkeyCid,
      proofSystem: pkg.manifest.proofSystem,
      input: params.input.map(String),
      salts,
      receipt,
      submittedAt: new Date(submittedAt).toISOString(),
    };

    // Concurrent submissions of one statement here wait for the first: one add, the others are duplicates.
    const earlier = this.adding.get(jobId);
    if (earlier) {
      await earlier.catch(() => undefined);
    }
    const adding = this.add(record, pkg);
    this.adding.set(jobId, adding);
    try {
      await adding;
    } finally {
      if (this.adding.get(jobId) === adding) this.adding.delete(jobId);
    }
    return { jobId, receipt: this.wait(jobId, pkg, submittedAt) };
  }

  /** Adds the job (its record first), or joins the one there (retrying it if it failed). */
  private async add(record: JobRecord, pkg: ModelPackage): Promise<void> {
    const { jobId } = record;
    const existing = await withRedisDeadline(this.client, "a submission", this.redisTimeoutMs, () =>
      Job.fromId(this.queue, jobId),
    );
    const known = this.records ? await this.records.read(jobId).catch(() => undefined) : undefined;
    if (existing) {
      this.counts.duplicates++;
      // Submitted here again (or first here, by another producer before): this producer now waits for it too,
      // and keeps what it needs to add it again.
      if (!known) {
        if (this.storage) record.manifest = await publishOnce(this.storage, pkg);
        await this.keep(record);
      }
      if (existing.finishedOn !== undefined && (await existing.getState()) === "failed") {
        // The statement is asked for again: give it fresh attempts.
        await existing.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true }).catch(() => undefined);
      }
      return;
    }
    // Published before a place is taken: a slow upload must not hold a place (or outlast its reservation).
    if (this.storage) record.manifest = await publishOnce(this.storage, pkg);
    if (known) {
      // Accepted here before and lost by Redis since: it keeps its place, admission does not apply again.
      const again = known.manifest === undefined && record.manifest ? { ...known, manifest: record.manifest } : known;
      await this.keep(again);
      await withRedisDeadline(this.client, "a submission", this.redisTimeoutMs, () => this.readd(again));
      return;
    }
    // The record is on disk before the job is in Redis: nothing Redis acknowledges is unknown to this producer.
    await this.keep(record);
    try {
      await withRedisDeadline(this.client, "a submission", this.redisTimeoutMs, async () => {
        // Counting and adding in two steps would let concurrent producers all see room: the place is reserved
        // atomically in Redis first (see job-admission.ts), and released once the job is in BullMQ's own states.
        const { reservation, depth } = await this.admission.reserve(jobId, this.maxDepth);
        if (reservation === undefined) {
          this.counts.rejected++;
          throw new VerinferError("OVERLOADED", "the proof queue is full", {
            details: `${depth} job(s) wait for a prover or are being added (maxDepth ${this.maxDepth})`,
            meta: { reason: "full", depth, maxDepth: this.maxDepth },
          });
        }
        try {
          await this.queue.add("prove", this.jobData(record), { ...this.jobOptions, jobId });
        } finally {
          await this.admission.release(reservation).catch(() => undefined);
        }
      });
    } catch (error) {
      // Not accepted: the caller is told so, and this producer keeps nothing of it.
      await this.forget(jobId);
      throw error;
    }
    this.counts.submitted++;
  }

  private jobData(record: JobRecord) {
    return queueJob({
      jobId: record.jobId,
      modelId: record.modelId,
      manifest: record.manifest,
      secrets: { input: record.input, salts: record.salts, receipt: record.receipt },
      key: this.key,
    });
  }

  /** Adds a recorded job again under its id (a job still there is left as it is), outside admission. */
  private async readd(record: JobRecord): Promise<void> {
    await this.queue.add("prove", this.jobData(record), { ...this.jobOptions, jobId: record.jobId });
    this.counts.readded++;
  }

  private async keep(record: JobRecord): Promise<void> {
    if (!this.records) return;
    await this.records.write(record);
    this.pending.add(record.jobId);
  }

  /** The job's outcome is collected (or it was never accepted): its record goes. */
  private async forget(jobId: string): Promise<void> {
    this.reruns.delete(jobId);
    this.pending.delete(jobId);
    await this.records?.remove(jobId).catch(() => undefined);
  }

  private async recordOf(jobId: string): Promise<JobRecord | undefined> {
    return this.records ? await this.records.read(jobId) : undefined;
  }

  async get(jobId: string, options: { pkg?: ModelPackage } = {}): Promise<ProofHandle> {
    if (this.closing) throw closedError();
    if (typeof jobId !== "string" || !PROOF_JOB_ID.test(jobId)) {
      throw new VerinferError("INVALID_INPUT", "not a proof job id (vi1- and 64 hex digits)");
    }
    if (options.pkg !== undefined && !(options.pkg instanceof ModelPackage)) {
      throw new VerinferError("INVALID_INPUT", "options.pkg is not a ModelPackage");
    }
    await this.usable();
    const record = await this.recordOf(jobId);
    if (record && options.pkg && !isRecorded(options.pkg, record)) {
      throw new VerinferError("INVALID_INPUT", `proof job ${jobId} was submitted for another package`, {
        details: `recorded: model ${record.modelId}, vkey ${record.vkeyCid}; given: vkey ${options.pkg.vkeyCid}`,
      });
    }
    await withRedisDeadline(this.client, "a job lookup", this.redisTimeoutMs, async () => {
      const job = await Job.fromId(this.queue, jobId);
      if (job) return;
      if (!record) throw new VerinferError("NOT_FOUND", `no proof job ${jobId} in the queue`, { meta: { jobId } });
      await this.readd(record);
    });
    if (options.pkg) this.packages.set(packageKey(options.pkg.id, options.pkg.vkeyCid), options.pkg);
    return { jobId, receipt: this.wait(jobId, options.pkg, Date.now()) };
  }

  async stats(): Promise<ProofQueueStats> {
    const c = await withRedisDeadline(this.client, "a stats query", this.redisTimeoutMs, () =>
      this.queue.getJobCounts("waiting", "prioritized", "delayed", "active", "completed", "failed"),
    );
    return {
      name: this.name,
      maxDepth: this.maxDepth,
      depth: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0),
      active: c.active ?? 0,
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
      ...this.counts,
      records: this.pending.size,
      redis: this.lastHealth,
      ...(this.refusal ? { refusal: "REDIS_UNSAFE" as const } : {}),
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
      await this.recovering?.catch(() => undefined);
      // While Redis is down, BullMQ's close and ioredis's QUIT wait for a connection that may never come back:
      // each is given a short bound, then the connections are dropped.
      const bound = Math.min(this.redisTimeoutMs, 2_000);
      // A check that delivered an outcome just before may still be removing its record: let it finish (bounded),
      // so a producer started after close() does not find the record of an outcome already delivered.
      await settledWithin([...this.checking.values()], bound);
      await settledWithin([this.events.close(), this.queue.close()], bound);
      await settledWithin(
        this.connections.map((c) => (c.status === "ready" ? c.quit() : Promise.reject(new Error("not ready")))),
        bound,
      );
      for (const c of this.connections) if (c.status !== "end") c.disconnect();
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
      // Redis lost it (restarted without persistence, killed, evicted): add it again from the record.
      const record = await this.recordOf(jobId).catch(() => undefined);
      if (record) {
        await this.readd(record);
        return;
      }
      this.rejectAll(jobId, new VerinferError("NOT_FOUND", `proof job ${jobId} is no longer in the queue`));
      return;
    }
    if (job.finishedOn === undefined) return;
    const state = await job.getState();
    if (!PERMANENT_STATES.has(state)) return;
    if (state === "failed") {
      this.counts.failures += this.waiters.get(jobId)?.size ?? 0;
      // A prover's failure (its claim, unverified) keeps the record: what re-submitting the job needs stays until
      // the caller settles it (submits it again, or drops it with its own records).
      this.rejectAll(jobId, decodeFailure(job.failedReason, jobId, ERROR_CODES));
      this.reruns.delete(jobId);
      this.pending.delete(jobId);
      return;
    }
    const set = this.waiters.get(jobId);
    if (!set) return;
    let receipt: Receipt;
    const record = await this.recordOf(jobId).catch(() => undefined);
    try {
      receipt = await this.receiptOf(job, record, [...set].find((w) => w.pkg)?.pkg);
    } catch (error) {
      const runs = this.reruns.get(jobId) ?? 0;
      if (record && isVerinferError(error) && error.meta?.refused === true) {
        this.counts.refused++;
        if (runs + 1 < this.jobOptions.attempts) {
          // Not what this producer asked for: the job is proven again, from the record, under the same id.
          this.reruns.set(jobId, runs + 1);
          await this.queue.remove(jobId);
          await this.readd(record);
          return;
        }
      }
      this.reruns.delete(jobId);
      this.counts.failures += set.size;
      this.rejectAll(jobId, error);
      // Refused on every attempt: that outcome is delivered, and a restarted producer must not prove it again.
      if (isVerinferError(error) && error.meta?.refused === true) await this.forget(jobId);
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
    await this.forget(jobId);
  }

  private rejectAll(jobId: string, error: unknown): void {
    const set = this.waiters.get(jobId);
    this.waiters.delete(jobId);
    for (const w of set ?? []) w.reject(error);
  }

  /**
   * The zk receipt of a completed job: the statement and package this producer recorded at submit (or, without a
   * record, the package the caller gave and the statement in Redis, bound to the job id), and the prover's proof,
   * cross-checked and verified. Nothing the job in Redis names chooses the key.
   *
   * @throws VerinferError with `meta.refused` when the result is not a proof of what was asked for.
   */
  private async receiptOf(job: Job, record: JobRecord | undefined, given: ModelPackage | undefined): Promise<Receipt> {
    const jobId = job.id as string;
    let base: Receipt;
    let pkg: ModelPackage | undefined;
    let system: ModelPackage["manifest"]["proofSystem"];
    if (record) {
      if (
        proofJobId({
          modelId: record.modelId,
          inputCommitment: record.receipt.input.commitment,
          outputSalt: record.salts.output,
        }) !== jobId
      ) {
        throw new VerinferError("MALFORMED_RECEIPT", `the record of proof job ${jobId} holds another statement`);
      }
      base = record.receipt;
      system = record.proofSystem;
      const held =
        given && isRecorded(given, record) ? given : this.packages.get(packageKey(record.modelId, record.vkeyCid));
      pkg = this.verifyProofs ? (held ?? (await this.packageOfRecord(record))) : held;
    } else {
      if (!given) {
        throw new VerinferError("ARTIFACT_MISSING", `this producer has no record of proof job ${jobId}`, {
          details:
            "pass { pkg } (the package it was submitted for) to queue.get: a result is never checked against the " +
            "package the job in Redis names",
        });
      }
      const data = QueueJobSchema.safeParse(job.data);
      if (!data.success) throw refused(jobId, "has malformed data", undefined);
      const secrets = jobSecrets(data.data, this.key, jobId);
      base = secrets.receipt;
      const expectedId = proofJobId({
        modelId: data.data.modelId,
        inputCommitment: base.input.commitment,
        outputSalt: secrets.salts.output,
      });
      if (expectedId !== jobId || base.model.id !== given.id || data.data.modelId !== given.id) {
        throw new VerinferError("MALFORMED_RECEIPT", `proof job ${jobId} holds another statement than its id names`);
      }
      // The key is the given package's: a job whose copy of the receipt names another is not what was asked for.
      if (base.model.vkey !== undefined && base.model.vkey !== given.vkeyCid) {
        throw refused(jobId, `names verification key ${base.model.vkey}, not the given package's`, undefined);
      }
      pkg = given;
      system = given.manifest.proofSystem;
    }
    let result: ReturnType<typeof proofResult>;
    try {
      result = proofResult(job.returnvalue, this.key, jobId);
    } catch (error) {
      throw refused(jobId, "returned a malformed result", error);
    }
    const waited = job.processedOn !== undefined ? Math.max(0, job.processedOn - job.timestamp) : 0;
    // The recorded package says which proof system the proof must be of: a prover's proof of another system (a
    // Groth16 and a PLONK package of one model share its id and public signals) is refused here, not carried into
    // a receipt, even with verifyProofs off.
    let receipt: Receipt;
    try {
      receipt = zkReceiptOf(
        base,
        { ...result, system: result.proof.protocol },
        { proveMs: result.timings.proveMs, proveQueueMs: waited + result.timings.queueMs },
        { system, code: "PROVE_FAILED" },
      );
    } catch (error) {
      throw refused(jobId, `from prover ${result.prover}: ${(error as Error).message}`, error, result.prover);
    }
    if (this.verifyProofs && pkg) {
      const ok = await verifySnarkProof({
        system,
        vkey: pkg.vkey,
        publicSignals: result.publicSignals,
        proof: result.proof,
      }).catch(() => false);
      if (!ok) {
        throw refused(
          jobId,
          `from prover ${result.prover}: a proof that does not verify against the package it was submitted for`,
          undefined,
          result.prover,
        );
      }
    }
    return receipt;
  }

  /** The package a record names (model id and vkey CID): held, from storage by its manifest, or the cache. */
  private async packageOfRecord(record: JobRecord): Promise<ModelPackage> {
    const key = packageKey(record.modelId, record.vkeyCid);
    const held = this.packages.get(key);
    if (held) return held;
    let pkg: ModelPackage | undefined;
    if (this.storage && record.manifest) {
      pkg = await fetchJobPackage({
        storage: this.storage,
        manifest: record.manifest,
        modelId: record.modelId,
        cacheDir: resolveCacheDir(this.cacheDir),
        proving: false,
      });
    } else {
      pkg = await loadModelPackage(record.modelId, { cacheDir: resolveCacheDir(this.cacheDir) }).catch(() => undefined);
    }
    if (!pkg || !isRecorded(pkg, record)) {
      throw new VerinferError(
        "ARTIFACT_MISSING",
        `the package proof job ${record.jobId} was submitted for is not here`,
        {
          details: `model ${record.modelId}, vkey ${record.vkeyCid}: pass { pkg } to queue.get, or give the queue the storage it published to`,
        },
      );
    }
    this.packages.set(key, pkg);
    return pkg;
  }
}

/** Waits for the calls to settle, at most `ms` (they go on, their late failures ignored). */
async function settledWithin(calls: Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(calls),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

function packageKey(modelId: string, vkey: string): string {
  return `${modelId}\n${vkey}`;
}

function isRecorded(pkg: ModelPackage, record: JobRecord): boolean {
  return pkg.id === record.modelId && pkg.vkeyCid === record.vkeyCid;
}

function closedError(): VerinferError {
  return new VerinferError("OVERLOADED", "the proof queue is closed", { meta: { reason: "closed" } });
}

/** A result that is not a proof of what the producer asked for: refused, and the job re-run. */
function refused(jobId: string, what: string, cause: unknown, prover?: string): VerinferError {
  return new VerinferError("PROVE_FAILED", `proof job ${jobId} ${what}`, {
    ...(cause === undefined ? {} : { cause }),
    meta: { jobId, refused: true, ...(prover ? { prover } : {}) },
  });
}

/**
 * Creates a proof queue on BullMQ + Redis, for inference nodes that hand their proofs to separate prover
 * processes (`startProver`, `verinfer prover`). A job's id is derived from its statement (model id, input
 * commitment, output salt), so a duplicate submission or a redelivery yields one proof and one receipt. Jobs
 * are retried with exponential backoff, a job whose prover dies is redelivered by BullMQ's stalled-job check,
 * and finished jobs stay in Redis for `keepSeconds`, so a restarted producer collects a receipt by job id.
 * Every returned proof is cross-checked against the submitted statement and verified against the package recorded
 * at submit (model id and vkey CID) before its handle resolves; anything else is refused and the job re-run.
 *
 * Durability: the producer keeps a record of each accepted job on its own disk (`recordDir`) until the job's
 * outcome is collected, and adds a job Redis lost again under the same id (at start, after a reconnection, and
 * when a handle or `get` finds it gone). At start it checks Redis (`ready()`): an evicting `maxmemory-policy` is
 * refused with `REDIS_UNSAFE` unless `allowEvictingRedis`, AOF off is a warning. Redis unreachable past
 * `redisTimeoutMs` is `UNAVAILABLE` (`meta.reason: "redis-unreachable"`, retryable); Redis out of memory is
 * `OVERLOADED` (`meta.reason: "redis-oom"`).
 *
 * What Redis holds: per job, the model id, the manifest CID, timestamps, attempts, and — unless `payloadKey` is
 * set — the quantized input, both salts and the receipt; with `payloadKey` those and the result are
 * AES-256-GCM ciphertext. The producer's records (input, salts, statement) stay on its own disk, mode 0600, never
 * in Redis. Nothing is logged.
 *
 * @example
 * ```ts
 * const queue = createProofQueue({ connection: "redis://127.0.0.1:6379", storage, maxDepth: 500 });
 * const redis = await queue.ready(); // REDIS_UNSAFE for an evicting Redis; redis.warnings for AOF off
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
