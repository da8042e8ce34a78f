import os from "node:os";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { isRetryable, isVerinferError, VerinferError } from "../errors.js";
import { loadModelPackage, type ModelPackage } from "../package/model-package.js";
import { createProverPool, type ProverPool, type ProverPoolStats } from "../receipts/prover-pool.js";
import { resolveCacheDir } from "../storage/cache-dir.js";
import { defaultStorage } from "../storage/fs-storage.js";
import type { Storage } from "../storage/storage.js";
import { assertRedisUsable, checkRedis, type RedisHealth, type RedisWarning } from "./check-redis.js";
import { fetchJobPackage } from "./job-package.js";
import {
  DEFAULT_QUEUE_NAME,
  encodeFailure,
  jobSecrets,
  payloadKey,
  type QueueJob,
  QueueJobSchema,
  type QueueResult,
  queueResult,
} from "./queue-job.js";
import { connectRedis, type RedisConnection, redisOptions } from "./redis-connection.js";

/** Options of {@link startProver}. */
export interface StartProverOptions {
  /** The queue's Redis: a `redis://` / `rediss://` URL or ioredis options. */
  connection: RedisConnection;
  /** Where model packages are fetched from by manifest CID. Default: `FsStorage` under `<cacheDir>/objects`. */
  storage?: Storage;
  /** This prover's own cache: fetched packages land in its artifact store. Default as `resolveCacheDir`. */
  cacheDir?: string;
  /** Prover worker threads, and so jobs taken at once (BullMQ concurrency). Default `os.availableParallelism()`. */
  workers?: number;
  /** BullMQ queue name. Default `"verinfer-proofs"`. */
  queueName?: string;
  /** The queue's payload key, when its producers seal jobs (see `createProofQueue`). */
  payloadKey?: Uint8Array | string;
  /** Name recorded on each job this prover takes (BullMQ `processedBy`). Default `<host>:<pid>`. */
  name?: string;
  /**
   * How long a job's lock lasts without renewal (ms); the prover renews it every half of this while it proves.
   * A prover that dies stops renewing, and the job is redelivered once the lock has expired. Default 30,000.
   */
  lockDurationMs?: number;
  /** How often this prover looks for stalled jobs (of any prover) to redeliver (ms). Default 30,000. */
  stalledIntervalMs?: number;
  /** Redeliveries of one job before it fails (BullMQ `maxStalledCount`). Default 2. */
  maxStalledCount?: number;
  /** A proof past this long fails with `TIMEOUT` (and is retried). Default 300,000. */
  jobTimeoutMs?: number;
  /**
   * Run on a Redis whose `maxmemory-policy` may evict keys. Default false: `startProver` refuses such a Redis
   * with `REDIS_UNSAFE` (an evicted job or lock is lost work). A Redis without the append-only file is a
   * `warning` event, not a refusal.
   */
  allowEvictingRedis?: boolean;
  /** How long the start-up check waits for Redis before `UNAVAILABLE`, ms. Default 10,000. */
  redisTimeoutMs?: number;
  /**
   * Told of every job this prover starts and ends, and of connection errors — ids, model ids, codes and times,
   * never inputs or salts.
   */
  onEvent?: (event: ProverEvent) => void;
}

/** What a prover reports to `onEvent`. */
export type ProverEvent =
  | { type: "active"; jobId: string; modelId: string; attempt: number }
  | { type: "completed"; jobId: string; modelId: string; proveMs: number; loadMs: number }
  | { type: "failed"; jobId: string; modelId: string; code: string; message: string; final: boolean }
  | { type: "error"; message: string }
  | { type: "warning"; code: RedisWarning["code"]; message: string };

/** A running prover; see {@link startProver}. */
export interface Prover {
  readonly name: string;
  readonly workers: number;
  /** The prover pool's counts, and the jobs this prover completed and failed. */
  readonly stats: ProverPoolStats & { jobsCompleted: number; jobsFailed: number };
  /** What the start-up check read of Redis (`maxmemory-policy`, `appendonly`, warnings). */
  readonly redis: RedisHealth;
  /** Takes no new job, lets the ones it holds finish, then stops the pool and disconnects. Idempotent. */
  close(): Promise<void>;
}

function positiveInt(value: number | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new VerinferError("INVALID_OPTIONS", `${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/**
 * Starts a prover: a prover pool sized to this machine's cores and a BullMQ worker that takes jobs from the
 * queue while the pool has a free worker. A model it has not seen is fetched from `storage` by the job's
 * manifest CID, every artifact hash-checked, and its identity recomputed; a damaged or missing artifact fails
 * the job with `ARTIFACT_CORRUPT` / `ARTIFACT_MISSING` (retried per the job's attempts, perhaps by another
 * prover) and the next job runs. BullMQ's lock and stalled-job check redeliver the jobs of a prover that dies.
 * Inputs and salts are held only while a job runs, and never logged.
 *
 * @example
 * ```ts
 * const prover = await startProver({ connection: "redis://10.0.0.5:6379", storage, workers: 8 });
 * process.on("SIGTERM", () => prover.close());
 * ```
 * Before it takes a job it reads Redis's `maxmemory-policy` and `appendonly` (CONFIG GET, else INFO): an evicting
 * Redis is refused unless `allowEvictingRedis`; one without the append-only file is a `warning` event.
 *
 * @throws VerinferError `INVALID_OPTIONS` for a bad option or connection URL; `REDIS_UNSAFE` for an evicting
 *   Redis; `UNAVAILABLE` when Redis does not answer within `redisTimeoutMs`.
 */
export async function startProver(options: StartProverOptions): Promise<Prover> {
  if (typeof options !== "object" || options === null) {
    throw new VerinferError("INVALID_OPTIONS", "startProver takes { connection, … }");
  }
  const redis = redisOptions(options.connection);
  const workers = positiveInt(options.workers, "workers", os.availableParallelism());
  const lockDuration = positiveInt(options.lockDurationMs, "lockDurationMs", 30_000, 100);
  const stalledInterval = positiveInt(options.stalledIntervalMs, "stalledIntervalMs", 30_000, 100);
  const maxStalledCount = positiveInt(options.maxStalledCount, "maxStalledCount", 2, 0);
  const redisTimeoutMs = positiveInt(options.redisTimeoutMs, "redisTimeoutMs", 10_000, 10);
  const key = options.payloadKey === undefined ? undefined : payloadKey(options.payloadKey);
  const cacheDir = resolveCacheDir(options.cacheDir);
  const storage = options.storage ?? defaultStorage(cacheDir);
  const name = options.name ?? `${os.hostname()}:${process.pid}`;
  const emit = (event: ProverEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // a listener's failure is not the job's
    }
  };
  // Checked before any thread starts or any job is taken: an evicting Redis loses jobs silently.
  const probe = connectRedis(redis, `verinfer-prover-check-${name}`);
  let health: RedisHealth;
  try {
    health = await checkRedis({ client: probe, timeoutMs: redisTimeoutMs });
    assertRedisUsable(health, options.allowEvictingRedis === true);
  } finally {
    probe.disconnect();
  }
  for (const warning of health.warnings) emit({ type: "warning", code: warning.code, message: warning.message });
  const pool: ProverPool = createProverPool({
    workers,
    maxQueue: workers,
    ...(options.jobTimeoutMs === undefined ? {} : { jobTimeoutMs: options.jobTimeoutMs }),
  });
  const packages = new Map<string, Promise<ModelPackage>>();
  const counts = { jobsCompleted: 0, jobsFailed: 0 };

  const packageOf = (data: QueueJob): Promise<ModelPackage> => {
    const cacheKey = data.manifest ?? data.modelId;
    let pkg = packages.get(cacheKey);
    if (!pkg) {
      pkg = data.manifest
        ? fetchJobPackage({ storage, manifest: data.manifest, modelId: data.modelId, cacheDir })
        : loadModelPackage(data.modelId, { cacheDir });
      packages.set(cacheKey, pkg);
      pkg.catch(() => packages.delete(cacheKey));
    }
    return pkg;
  };

  const prove = async (job: Job): Promise<QueueResult> => {
    const jobId = job.id as string;
    const parsed = QueueJobSchema.safeParse(job.data);
    if (!parsed.success) throw new VerinferError("INVALID_INPUT", `proof job ${jobId} is not a verinfer job`);
    const data = parsed.data;
    emit({ type: "active", jobId, modelId: data.modelId, attempt: job.attemptsStarted });
    const secrets = jobSecrets(data, key, jobId);
    const pkg = await packageOf(data);
    const net = pkg.network;
    if (secrets.receipt.model.id !== pkg.id) {
      throw new VerinferError("INVALID_INPUT", `proof job ${jobId} states a receipt of another model`);
    }
    // One model can have several packages (a Groth16 and a PLONK setup, or phase-2 contributions): without a
    // manifest CID the cache's package of this model id may hold another key than the one the receipt names. Its
    // proof would not be the job's; another prover may hold the right package, so the job is retried, not failed.
    const wanted = secrets.receipt.model.vkey;
    if (wanted !== undefined && wanted !== pkg.vkeyCid) {
      packages.delete(data.manifest ?? data.modelId);
      throw new VerinferError(
        "ARTIFACT_MISSING",
        `proof job ${jobId} is for verification key ${wanted}; this prover's package of model ${pkg.id} has ${pkg.vkeyCid}`,
        { details: "give the queue a storage (jobs then name their manifest's CID), or load that package here" },
      );
    }
    const input = secrets.input.map(BigInt);
    if (input.length !== net.inputSize) {
      throw new VerinferError(
        "INVALID_INPUT",
        `proof job ${jobId} has ${input.length} input values, not ${net.inputSize}`,
      );
    }
    const bad = input.findIndex((x) => x < net.input.lo || x > net.input.hi);
    if (bad >= 0) throw new VerinferError("INVALID_INPUT", `proof job ${jobId}: input value ${bad} is out of range`);
    let proof: Awaited<ReturnType<ProverPool["prove"]>>;
    try {
      proof = await pool.prove({
        pkg,
        input,
        salts: { input: BigInt(secrets.salts.input), output: BigInt(secrets.salts.output) },
      });
    } catch (error) {
      // A local copy damaged since it was loaded: the next attempt checks (and repairs) the package again.
      if (isVerinferError(error, "ARTIFACT_CORRUPT") || isVerinferError(error, "ARTIFACT_MISSING")) {
        packages.delete(data.manifest ?? data.modelId);
      }
      throw error;
    }
    emit({
      type: "completed",
      jobId,
      modelId: data.modelId,
      proveMs: proof.timings.proveMs,
      loadMs: proof.timings.loadMs,
    });
    return queueResult(
      { proof: proof.proof as never, publicSignals: proof.publicSignals, timings: proof.timings, prover: name },
      key,
      jobId,
    );
  };

  const connections: Redis[] = [connectRedis(redis, `verinfer-prover-${name}`)];
  const worker = new Worker(
    options.queueName ?? DEFAULT_QUEUE_NAME,
    async (job: Job) => {
      try {
        const result = await prove(job);
        counts.jobsCompleted++;
        return result;
      } catch (error) {
        counts.jobsFailed++;
        const failure = isVerinferError(error)
          ? error
          : new VerinferError("PROVE_FAILED", "the prover failed", {
              details: error instanceof Error ? error.message : String(error),
            });
        const attempts = job.opts.attempts ?? 1;
        // Codes no retry can cure (the job itself is wrong) end the job now: errors.ts's one list says which.
        const final = !isRetryable(failure) || job.attemptsMade + 1 >= attempts;
        emit({
          type: "failed",
          jobId: job.id as string,
          modelId: (job.data as { modelId?: string })?.modelId ?? "",
          code: failure.code,
          message: failure.shortMessage,
          final,
        });
        // BullMQ stores the message as the job's failedReason; the producer turns it back into this error.
        const message = encodeFailure(failure);
        throw isRetryable(failure) ? new Error(message) : new UnrecoverableError(message);
      }
    },
    {
      connection: connections[0] as Redis,
      concurrency: workers,
      lockDuration,
      stalledInterval,
      maxStalledCount,
      name,
      autorun: true,
    },
  );
  worker.on("error", (error) => emit({ type: "error", message: error.message }));
  try {
    await worker.waitUntilReady();
  } catch (error) {
    await worker.close(true).catch(() => undefined);
    await pool.close();
    connections[0]?.disconnect();
    throw new VerinferError("INTERNAL", "the prover cannot reach its Redis", { cause: error });
  }

  let closing: Promise<void> | undefined;
  return {
    name,
    workers,
    redis: health,
    get stats() {
      return { ...pool.stats, ...counts };
    },
    close() {
      closing ??= (async () => {
        await worker.close();
        await pool.close();
        await Promise.allSettled(connections.map((c) => c.quit().catch(() => c.disconnect())));
      })();
      return closing;
    },
  };
}
