/**
 * An inference node over HTTP (fastify): it serves compiled models, proves on a prover pool or a proof queue,
 * stores every receipt content-addressed, and hands out its CID. A client always holds a handle on what the node
 * accepted: its job id, and its Idempotency-Key if it sent one.
 *
 * - `POST /infer { modelId, input, mode? }` → `200 { jobId, cid, receipt }` when the receipt is ready within the
 *   node's wait budget (`waitMs`), else `202 { jobId, status: "pending", statusUrl }` with `Location` and
 *   `Retry-After`: the proof goes on, `GET /jobs/:id` collects it. A client may ask for less wait with
 *   `Prefer: wait=<s>` or `Prefer: respond-async`. With an `Idempotency-Key` header (1–128 visible ASCII
 *   characters) a retry of the same request — after a timeout, a lost connection, a node restart — gets the same
 *   job and receipt; the same key with another request is a 400.
 *   Refusals: `400 { code, message }` for a bad body (`INVALID_INPUT` names the offending index), `404` for a
 *   model it does not serve, `413` for a body over the limit, `429` + `Retry-After` when full (decided from the
 *   headers, before the body is read) or when a zk request's proof is expected to take longer than the wait
 *   budget, `503` + `Retry-After` while Redis is unreachable, out of memory or evicting (after at most
 *   `redisTimeoutMs`), `507` when its
 *   disk has less than `minFreeBytes` free (checked before a proof is spent) or fills up.
 * - `GET /jobs/:id` → `{ jobId, status: "pending" | "done" | "failed", cid?, receipt?, error? }`; jobs are kept
 *   on disk (`jobsDir`), so a restarted node finds them, and takes up the unfinished ones again.
 * - `GET /receipts/:cid` → the stored receipt, byte for byte (so `cidOf(body)` is the CID); 400 for a malformed
 *   CID, 404 for an unknown one.
 * - `GET /health` → `{ ok, models, inFlight, pool?, queue?, redis?, disk }` within a second: `503` with
 *   `redis: "unreachable"` while the queue's Redis does not answer, or with the disk's fault.
 * - `GET /metrics` → Prometheus metrics (prom-client): requests by route and status, proving time, and the
 *   prover pool's or the proof queue's depth, activity, completions, failures and redeliveries, `verinfer_redis_up`.
 *
 * Error bodies never carry a file system path of the node (cache, storage, salts, home, temp directories).
 *
 * SIGTERM/SIGINT: stop accepting, finish the requests in flight, close the pool, exit.
 *
 * Run: `npm run example:service-node` (listens on 127.0.0.1:$PORT, default 8787; `VERINFER_WORKERS` provers,
 * default one per core; `VERINFER_PRIVATE_KEY` enables mode "attest"; `VERINFER_CACHE` the cache). With
 * `VERINFER_REDIS_URL` set, proofs go to a BullMQ proof queue on that Redis instead of a local pool (prover
 * processes: `verinfer prover`), packages are published to `VERINFER_STORAGE` (an FsStorage directory the
 * provers share; default `<cache>/objects`), `VERINFER_QUEUE_KEY` seals job payloads, `VERINFER_MAX_DEPTH`
 * bounds the queue, `VERINFER_QUEUE_NAME` names it. `VERINFER_MAX_IN_FLIGHT` bounds the requests held (and sizes
 * the pool's queue to match); `VERINFER_WAIT_MS` is the wait budget; `VERINFER_JOBS` the job records' directory;
 * `VERINFER_LOG=off` silences the request log; `VERINFER_CLIENT_QUOTA` is the write quota per client address,
 * `<requests>/<seconds>` (default 120/60) or `off`.
 * In an application, import from "verinfer" instead of "../../src/index.js".
 */
import { readFileSync } from "node:fs";
import { access, constants, lstat, statfs } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Signer } from "ethers";
import { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, fastify } from "fastify";
import { type Receipt, ReceiptSchema } from "../../src/attest/receipt.js";
import { loadSigner } from "../../src/cli/keys.js";
import {
  canonicalJson,
  compileModel,
  createProverPool,
  defaultStorage,
  ERROR_CODES,
  type ErrorCode,
  FsStorage,
  isVerinferError,
  loadModelPackage,
  type ModelPackage,
  type ProofQueue,
  type ProverPool,
  type Storage,
  storeReceipt,
  VerinferError,
  verifiableInfer,
} from "../../src/index.js";
import { flattenInput, quantizeInput } from "../../src/models/quantize-input.js";
import { createProofQueue } from "../../src/queue/create-proof-queue.js";
import { proofJobId } from "../../src/queue/queue-job.js";
import { proveReceipt } from "../../src/receipts/prove-receipt.js";
import { atomicWrite } from "../../src/storage/atomic-write.js";
import { resolveCacheDir } from "../../src/storage/cache-dir.js";
import { normalizeCid } from "../../src/storage/cid.js";
import { storageError } from "../../src/storage/storage-error.js";
import { packageRoot } from "../../src/util/package-root.js";
import { parseStrictJson } from "../../src/util/parse-strict-json.js";
import { asNodeFault, errorResponse, redactPaths } from "./http-errors.js";
import { idempotencyKeyHash, type JobStore, type NodeJob, openJobStore, requestHash } from "./job-store.js";
import { createNodeMetrics } from "./metrics.js";
import { queueFault, withinDeadline } from "./queue-faults.js";
import { type InferResponse, type JobResponse, type PendingResponse, parseInferRequest } from "./schemas.js";
import { type ProverLoad, WaitEstimate } from "./wait-estimate.js";

/** Options of {@link buildServer}. */
export interface InferenceNodeOptions {
  /** The models to serve: compiled packages, or model ids to load from `cacheDir`. */
  models: readonly (ModelPackage | string)[];
  /** Cache directory (model ids, default storage and salts); default as `resolveCacheDir`. */
  cacheDir?: string;
  /** Where receipts go; default `FsStorage` under `<cacheDir>/objects`. */
  storage?: Storage;
  /** Prove zk receipts on this pool's workers; without one, proofs run in the server's own thread. */
  pool?: ProverPool;
  /** Hand zk proofs to this proof queue's provers (BullMQ on Redis) instead; not with `pool`. */
  queue?: ProofQueue;
  /** Signs `attest` receipts; without one, mode "attest" is refused with `UNSUPPORTED_MODE`. */
  signer?: Signer;
  /**
   * Where each receipt's salts are kept, owner-only, as `<cid>.json` (they open its commitments for
   * re-execution); `false` discards them. Default `<cacheDir>/salts`.
   */
  saltsDir?: string | false;
  /**
   * Where the node's job records are kept (owner-only; see job-store.ts), so that a restarted node finds its
   * jobs and Idempotency-Keys again; `false` keeps them in memory only (a restart forgets them). Default
   * `<cacheDir>/node-jobs`.
   */
  jobsDir?: string | false;
  /** Most job records kept (the oldest finished ones make room). Default 10,000. */
  maxJobs?: number;
  /**
   * How long a finished job record (a client's handle) is kept at least, ms: only older ones make room for new
   * records, and with none old enough a new request is refused (429 OVERLOADED). Default a day.
   */
  jobRetainMs?: number;
  /**
   * Wait budget of `POST /infer`, ms: a receipt ready within it is answered 200, else 202 with the job's handle.
   * Default 30,000.
   */
  waitMs?: number;
  /**
   * Backpressure: a zk request is refused (429 + Retry-After) when its proof is expected to take longer than
   * this, from the proving time this node measured (never a prover's report; each sample capped at 10× this,
   * aged out after 10 minutes) and the jobs ahead; with nothing waiting and a prover free it is admitted.
   * Default `waitMs`.
   */
  admitWaitMs?: number;
  /** Longest wait for the proof queue's Redis in a request (ms); then 503 "redis unreachable". Default 5,000. */
  redisTimeoutMs?: number;
  /** Free bytes the node's disk must have before it spends a proof; else 507 `STORAGE_FULL`. Default 64 MiB. */
  minFreeBytes?: number;
  /**
   * Requests of `POST /infer` held at once, counted from their arrival (a body still uploading holds its slot)
   * to their answer; one more is answered 429 at once, before its body is read. Default: the pool's capacity
   * (workers + maxQueue), the queue's maxDepth with a queue, or 16 with neither.
   */
  maxInFlight?: number;
  /**
   * Largest `POST /infer` body, in bytes; a larger one is answered 413 `INVALID_INPUT` unread. Default: 1 MiB,
   * or 64 bytes per input value of the largest model served (+ 16 KiB) when that is more.
   */
  bodyLimit?: number;
  /** Time a client has to send a whole request (headers and body), in ms; then 408. Default 30,000. */
  requestTimeoutMs?: number;
  /** `Retry-After` of 429 and 503 answers, in seconds (at least; backpressure may say more). Default 1. */
  retryAfterSeconds?: number;
  /** fastify's logger (pino); default off. */
  logger?: boolean;
  /**
   * Largest object `GET /receipts/:cid` reads, in bytes (default 1 MiB): a larger one is not a receipt, and is
   * answered 404 without being read (with the default `FsStorage`) — never a model artifact read and hashed for
   * anyone who asks.
   */
  maxReceiptBytes?: number;
  /**
   * Who is asking, for the write quota: an API key's owner, a tenant. Throw a `VerinferError` to refuse the
   * request (its code gives the status). Default: the client's address.
   */
  identifyClient?: (request: FastifyRequest) => string | Promise<string>;
  /**
   * `POST /infer` requests one client may make per window (each writes a receipt and its salts); one more is
   * answered 429 with `Retry-After`. Default 120 per 60 s; `false` turns the quota off.
   */
  clientQuota?: { requests: number; windowMs: number } | false;
}

/** Body of `GET /health`. */
export interface HealthResponse {
  ok: boolean;
  models: { id: string; name: string; inputShape: number[]; setup: string }[];
  /** `POST /infer` requests being served now. */
  inFlight: number;
  /** Most `POST /infer` requests held at once. */
  maxInFlight: number;
  /** Jobs accepted and not finished. */
  pendingJobs: number;
  pool?: ProverPool["stats"];
  queue?: Awaited<ReturnType<ProofQueue["stats"]>>;
  /** With a queue: whether its Redis answered (within a second), and whether the queue refuses it (evicting). */
  redis?: "ok" | "unreachable" | "unsafe";
  /** "ok", or the code of the disk's fault (`STORAGE_FULL`, `STORAGE_READONLY`, …). */
  disk: string;
}

/** Codes of a failure that a retry may cure: a job that failed so is run again on an Idempotency-Key retry. */
const TRANSIENT = new Set([
  "OVERLOADED",
  "TIMEOUT",
  "UNAVAILABLE",
  "REDIS_UNSAFE",
  // A prover's failure (a queue's prover is not trusted to say why): the job keeps its input and salts.
  "PROVE_FAILED",
  "STORAGE_FULL",
  "STORAGE_READONLY",
  "STORAGE_DENIED",
  "STORAGE_IO",
]);

/** Re-submissions of one job that Redis lost, before the job fails. */
const MAX_READDS = 5;

/** Most ms a client may ask to wait with `Prefer: wait=N` (the node's budget bounds it too). */
function preferredWaitMs(header: string | string[] | undefined, budget: number): number {
  const text = Array.isArray(header) ? header.join(",") : (header ?? "");
  if (/(^|[,;\s])respond-async\b/i.test(text)) return 0;
  const wait = /(?:^|[,;\s])wait=(\d{1,6})\b/i.exec(text);
  return wait ? Math.min(budget, Number(wait[1]) * 1_000) : budget;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Builds the inference node's fastify instance; listening is the caller's (`app.listen({ host, port })`), and
 * so is closing the pool. Job records a previous run left in `jobsDir` are read back, and their unfinished zk
 * proofs taken up again (re-submitted under the same job id to the queue, or proven again).
 *
 * @throws VerinferError `ARTIFACT_MISSING` / `ARTIFACT_CORRUPT` when a model id cannot be loaded.
 * @example
 * ```ts
 * const app = await buildServer({ models: [pkg], pool: createProverPool({ workers: 2 }) });
 * await app.listen({ host: "127.0.0.1", port: 0 });
 * ```
 */
export async function buildServer(options: InferenceNodeOptions): Promise<FastifyInstance> {
  const cacheDir = resolveCacheDir(options.cacheDir);
  const storage = options.storage ?? defaultStorage(cacheDir);
  const { pool, queue, signer } = options;
  if (pool && queue) throw new VerinferError("INVALID_OPTIONS", "pass pool or queue, not both");
  const models = new Map<string, ModelPackage>();
  for (const model of options.models) {
    const pkg = typeof model === "string" ? await loadModelPackage(model, { cacheDir }) : model;
    models.set(pkg.id, pkg);
  }
  const budget = (value: number | undefined, name: string, fallback: number) => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value < 0) throw new VerinferError("INVALID_OPTIONS", `${name} must be ≥ 0`);
    return value;
  };
  const waitMs = budget(options.waitMs, "waitMs", 30_000);
  const admitWaitMs = budget(options.admitWaitMs, "admitWaitMs", waitMs);
  const redisTimeoutMs = budget(options.redisTimeoutMs, "redisTimeoutMs", 5_000);
  const probeMs = Math.min(redisTimeoutMs, 500);
  const minFreeBytes = budget(options.minFreeBytes, "minFreeBytes", 64 << 20);
  const queueDepth = queue
    ? await withinDeadline(queue.stats(), redisTimeoutMs).then(
        (s) => s.maxDepth,
        () => undefined,
      )
    : undefined;
  const maxInFlight = options.maxInFlight ?? (pool ? pool.stats.workers + pool.stats.maxQueue : (queueDepth ?? 16));
  const saltsDir = options.saltsDir === false ? undefined : (options.saltsDir ?? path.join(cacheDir, "salts"));
  const jobsDir = options.jobsDir === false ? undefined : (options.jobsDir ?? path.join(cacheDir, "node-jobs"));
  const jobs: JobStore = await openJobStore({
    ...(jobsDir ? { dir: jobsDir } : {}),
    ...(options.maxJobs ? { maxJobs: options.maxJobs } : {}),
    ...(options.jobRetainMs !== undefined ? { retainMs: options.jobRetainMs } : {}),
  });
  const retryAfterMin = options.retryAfterSeconds ?? 1;
  const retryAfter = String(retryAfterMin);
  const largestInput = Math.max(0, ...[...models.values()].map((pkg) => pkg.network.inputSize));
  const maxReceiptBytes = options.maxReceiptBytes ?? 1 << 20;
  const quota =
    options.clientQuota === false ? undefined : (options.clientQuota ?? { requests: 120, windowMs: 60_000 });
  const identify = options.identifyClient ?? ((request: FastifyRequest) => request.ip);
  /** Requests each client made in its current window (fixed windows; entries of past windows are dropped). */
  const usage = new Map<string, { since: number; count: number }>();
  const bodyLimit = options.bodyLimit ?? Math.max(1 << 20, 64 * largestInput + (16 << 10));
  // Paths of this node that an error message could name (a storage error, a file system error): no client
  // sees them. Longest first, so that a directory inside another is replaced whole.
  const privatePaths = [
    cacheDir,
    saltsDir,
    jobsDir,
    storage instanceof FsStorage ? storage.dir : undefined,
    packageRoot(),
    os.homedir(),
    os.tmpdir(),
  ]
    .filter((p): p is string => typeof p === "string" && p.length > 1)
    .map((p) => path.resolve(p))
    .sort((a, b) => b.length - a.length);
  let inFlight = 0;
  /** Requests admitted whose proof is not handed to the pool or queue yet (counted as waiting by backpressure). */
  let entering = 0;
  /** zk proofs this node runs in its own thread (no pool, no queue). */
  let provingHere = 0;
  // Fed only with what this node measures (hand-over to receipt), each sample capped: a prover's reported
  // timings (a remote prover's word, unverified) never decide admission.
  const estimate = new WaitEstimate({ capMs: 10 * admitWaitMs });
  const metrics = createNodeMetrics({
    ...(pool ? { pool } : {}),
    ...(queue ? { queue, timeoutMs: probeMs } : {}),
    inFlight: () => inFlight,
  });

  // The queue's load, read at most every 250 ms (a flood must not cost a Redis round trip per request), and
  // within the Redis bound: an unreachable Redis is a fast 503, not a hang.
  let queueLoad: { at: number; load: Promise<{ depth: number; active: number }> } | undefined;
  const readQueueLoad = () => {
    if (!queue) return Promise.resolve({ depth: 0, active: 0 });
    if (!queueLoad || Date.now() - queueLoad.at > 250) {
      const load = withinDeadline(queue.stats(), Math.min(redisTimeoutMs, 1_000));
      queueLoad = { at: Date.now(), load };
      load.catch(() => {
        queueLoad = undefined;
      });
    }
    return queueLoad.load;
  };
  const proverLoad = async (): Promise<ProverLoad> => {
    if (pool) {
      const s = pool.stats;
      return { waiting: s.queued + entering, running: s.running, slots: s.workers };
    }
    if (queue) {
      const s = await readQueueLoad();
      return { waiting: s.depth + entering, running: s.active, slots: Math.max(1, s.active) };
    }
    return { waiting: Math.max(0, provingHere - 1) + entering, running: Math.min(provingHere, 1), slots: 1 };
  };

  // Free space and writability of the directories a proof's result goes to, checked at most once a second.
  const diskDirs = [storage instanceof FsStorage ? storage.dir : undefined, saltsDir, jobsDir].filter(
    (d): d is string => d !== undefined,
  );
  let diskCheck: { at: number; result: Promise<void> } | undefined;
  const checkDisk = (): Promise<void> => {
    if (!diskCheck || Date.now() - diskCheck.at > 1_000) {
      diskCheck = { at: Date.now(), result: diskFault(diskDirs, minFreeBytes) };
      diskCheck.result.catch(() => undefined);
    }
    return diskCheck.result;
  };

  // return503OnClosing: requests that reach a closing server (on a kept-alive socket) get a 503, not a hang.
  const app = fastify({
    logger: options.logger ?? false,
    return503OnClosing: true,
    forceCloseConnections: "idle",
    bodyLimit,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
  });

  // Responses finishing after close() began also close their connection: a kept-alive socket that turns idle
  // later would hold close() open until its keep-alive timeout.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply, payload) => {
    if (closing) reply.header("connection", "close");
    return payload;
  });
  app.addHook("onResponse", async (request, reply) => {
    // The route's pattern, never the URL itself (a CID, a client's query string).
    metrics.request(request.routeOptions.url ?? "unmatched", reply.statusCode);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (!(error instanceof VerinferError) && error.statusCode !== undefined && error.statusCode < 500) {
      // fastify's own refusals: unparsable JSON, wrong content type, body too large.
      const body = redactPaths({ code: "INVALID_INPUT", message: error.message }, privatePaths);
      return reply.status(error.statusCode).send(body);
    }
    const { status, body } = errorResponse(error, { privatePaths });
    if (status >= 500 && status !== 503 && status !== 507) request.log.error({ err: error }, "request failed");
    if (status === 429 || status === 503) {
      const after = isVerinferError(error) ? error.meta?.retryAfterSeconds : undefined;
      reply.header("retry-after", typeof after === "number" ? String(after) : retryAfter);
    }
    return reply.status(status).send(body);
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ code: "NOT_FOUND", message: `no route ${request.method} ${request.url}` }),
  );

  app.get("/health", async (_request, reply): Promise<HealthResponse> => {
    const health: HealthResponse = {
      ok: true,
      models: [...models.values()].map((pkg) => ({
        id: pkg.id,
        name: pkg.manifest.name,
        inputShape: pkg.manifest.architecture.inputShape,
        setup: pkg.manifest.setup.kind,
      })),
      inFlight,
      maxInFlight,
      pendingJobs: jobs.all().filter((j) => j.state === "pending").length,
      disk: "ok",
    };
    if (pool) health.pool = pool.stats;
    const disk = checkDisk().then(
      () => "ok",
      (error: unknown) => (isVerinferError(error) ? error.code : "STORAGE_IO"),
    );
    if (queue) {
      try {
        health.queue = await withinDeadline(queue.stats(), probeMs);
        health.redis = health.queue.refusal ? "unsafe" : "ok";
        if (health.queue.refusal) health.ok = false;
      } catch {
        health.redis = "unreachable";
        health.ok = false;
      }
    }
    health.disk = await Promise.race([disk, sleep(probeMs).then(() => "STORAGE_IO")]);
    if (health.disk !== "ok") health.ok = false;
    if (!health.ok) reply.status(503);
    return health;
  });

  app.get("/metrics", async (_request, reply) =>
    reply.header("content-type", metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  /**
   * The slot each admitted request holds, the work it started (the slot is freed when both are over), and the
   * backpressure refusal that applies if it turns out to ask for a proof (`slow`).
   */
  const slots = new WeakMap<FastifyRequest, { work?: Promise<unknown>; entering: boolean; slow?: VerinferError }>();

  // Admission comes first: a full node refuses a request from its headers alone, before reading (let alone
  // parsing or validating) its body, so a flood of large or malformed bodies costs it nothing. maxInFlight holds
  // for every request; a retry of a job the node already holds (its Idempotency-Key is known) skips only the
  // quota and the "slow" estimate. The estimate applies to zk requests only (decided once the body is parsed,
  // within maxInFlight): a mode "none" or "attest" request needs no prover.
  const admit = async (request: FastifyRequest, reply: FastifyReply) => {
    const keyHash = idempotencyKeyHash(request.headers["idempotency-key"]);
    const known = keyHash !== undefined && jobs.byKey(keyHash) !== undefined;
    if (inFlight >= maxInFlight) {
      throw new VerinferError("OVERLOADED", "the inference node is at capacity", {
        meta: { reason: "full", inFlight, maxInFlight },
      });
    }
    let slow: VerinferError | undefined;
    if (!known) {
      if (quota) {
        const client = await identify(request);
        const now = Date.now();
        if (usage.size > 10_000) {
          for (const [id, u] of usage) if (now - u.since >= quota.windowMs) usage.delete(id);
        }
        let u = usage.get(client);
        if (!u || now - u.since >= quota.windowMs) {
          u = { since: now, count: 0 };
          usage.set(client, u);
        }
        if (u.count >= quota.requests) {
          throw new VerinferError("OVERLOADED", "this client has used its quota of inference requests", {
            meta: { requests: quota.requests, windowMs: quota.windowMs },
          });
        }
        u.count++;
      }
      const expected = estimate.expectedWaitMs(await proverLoad());
      if (inFlight >= maxInFlight) {
        throw new VerinferError("OVERLOADED", "the inference node is at capacity", {
          meta: { reason: "full", inFlight, maxInFlight },
        });
      }
      if (expected !== undefined && expected > admitWaitMs) {
        const service = estimate.serviceMs ?? 1_000;
        slow = new VerinferError(
          "OVERLOADED",
          "the inference node's provers are behind: a new proof would take too long",
          {
            meta: {
              reason: "slow",
              expectedWaitMs: Math.round(expected),
              retryAfterSeconds: Math.max(
                retryAfterMin,
                Math.min(300, Math.ceil((expected - admitWaitMs + service) / 1_000)),
              ),
            },
          },
        );
      }
    }
    inFlight++;
    entering++;
    const slot: { work?: Promise<unknown>; entering: boolean; slow?: VerinferError } = {
      entering: true,
      ...(slow ? { slow } : {}),
    };
    slots.set(request, slot);
    let freed = false;
    const free = () => {
      if (freed) return;
      freed = true;
      inFlight--;
      if (slot.entering) {
        slot.entering = false;
        entering--;
      }
    };
    // "close" comes once the answer is sent or the client is gone, whichever happens; a proof started for a
    // client that left still holds its slot until it ends.
    reply.raw.once("close", () => {
      if (slot.work) slot.work.then(free, free);
      else free();
    });
  };

  /** The request no longer counts as waiting for a prover (handed over, refused, or not a proof). */
  const entered = (request: FastifyRequest) => {
    const slot = slots.get(request);
    if (slot?.entering) {
      slot.entering = false;
      entering--;
    }
  };

  /** Each unfinished job's completion (record final), while this process drives it. */
  const driving = new Map<string, Promise<void>>();
  /** Hand-overs to the prover in progress. */
  const handing = new Map<string, Promise<void>>();
  /** Times each job was added to the queue again after Redis lost it. */
  const readded = new Map<string, number>();

  /** The package a job is proven under: the one served with the job's model id and key, or none. */
  const packageOf = (job: NodeJob) => {
    const pkg = models.get(job.modelId);
    return pkg && pkg.vkeyCid === job.vkey ? pkg : undefined;
  };

  /**
   * Stores a finished proof's receipt and salts, and marks its job done. `measuredMs`: the proof's time on this
   * node's clock (hand-over to receipt) — the receipt's `timings.proveMs` is, with a queue, the prover's report.
   */
  const finish = async (job: NodeJob, receipt: Receipt, measuredMs?: number, record = true): Promise<NodeJob> => {
    if (receipt.mode === "zk" && measuredMs !== undefined) {
      metrics.proved(measuredMs);
      estimate.observe(measuredMs);
    }
    const cid = await storeReceipt(storage, receipt);
    if (saltsDir && job.salts) await atomicWrite(path.join(saltsDir, `${cid}.json`), JSON.stringify(job.salts), 0o600);
    const { input: _i, salts: _s, statement: _st, ...kept } = job;
    const done: NodeJob = { ...kept, state: "done", cid, finishedAt: new Date().toISOString() };
    if (record) await jobs.put(done);
    return done;
  };

  const fail = async (job: NodeJob, error: unknown): Promise<void> => {
    const e = isVerinferError(error) ? error : new VerinferError("INTERNAL", "the node failed to prove this job");
    const { status, body } = errorResponse(asNodeFault(e), { privatePaths });
    const reason = body.reason;
    const failed: NodeJob = {
      ...job,
      state: "failed",
      finishedAt: new Date().toISOString(),
      error: { code: status === 500 ? "INTERNAL" : e.code, message: body.message, ...(reason ? { reason } : {}) },
    };
    // A transient failure keeps what re-running the job needs; a final one drops the salts and input.
    if (!TRANSIENT.has(failed.error?.code ?? "")) {
      delete failed.input;
      delete failed.salts;
      delete failed.statement;
    }
    await jobs.put(failed).catch(() => undefined);
  };

  /**
   * Hands a pending zk job to its prover (the queue: a submission that joins the job already there, or adds it
   * again under the same id if Redis lost it; else the pool or this thread) and resolves once it is handed over;
   * the job's completion goes on in the background (see `driving`).
   *
   * @throws the refusal of the hand-over (`OVERLOADED`, `UNAVAILABLE`): the job stays pending, not driven.
   */
  const drive = (job: NodeJob): Promise<void> => {
    // One hand-over per job at a time: two requests of one key, or a GET during a submission, share it.
    const already = handing.get(job.id);
    if (already) return already;
    if (driving.has(job.id)) return Promise.resolve();
    const handover = handOver(job).finally(() => handing.delete(job.id));
    handing.set(job.id, handover);
    return handover;
  };

  const handOver = async (job: NodeJob): Promise<void> => {
    const pkg = packageOf(job);
    if (!pkg || !job.input || !job.salts || !job.statement) {
      await fail(
        job,
        new VerinferError("ARTIFACT_MISSING", "the package this job was accepted for is not served any more"),
      );
      return;
    }
    const input = job.input.map(BigInt);
    const salts = { input: BigInt(job.salts.input), output: BigInt(job.salts.output) };
    let receipt: Promise<Receipt>;
    const handedAt = performance.now();
    if (queue) {
      const handle = await withinDeadline(queue.submit({ pkg, input, salts, receipt: job.statement }), redisTimeoutMs);
      receipt = handle.receipt;
    } else {
      if (!pool) provingHere++;
      const base: Receipt = { ...job.statement, mode: "zk" };
      receipt = proveReceipt({ pkg, input, salts, base, ...(pool ? { pool } : {}) });
      if (!pool) {
        receipt.then(
          () => provingHere--,
          () => provingHere--,
        );
      }
    }
    let lost = false;
    const done = receipt
      .then(
        async (r) => {
          await finish(job, r, performance.now() - handedAt);
        },
        (error: unknown) => {
          // A queue closed under the job (the node shutting down) leaves it pending: the job goes on in Redis, and
          // the next run of the node collects it.
          if (isVerinferError(error, "OVERLOADED") && error.meta?.reason === "closed") return;
          // Redis lost the job (restarted without persistence, evicted): the node holds what it needs, and adds
          // it again under the same id — a few times, then the job fails.
          const readds = readded.get(job.id) ?? 0;
          if (queue && isVerinferError(error, "NOT_FOUND") && readds < MAX_READDS) {
            readded.set(job.id, readds + 1);
            lost = true;
            return;
          }
          return fail(job, queueFault(error));
        },
      )
      .catch((error: unknown) => fail(job, error))
      .finally(() => {
        driving.delete(job.id);
        if (!lost) return;
        const again = jobs.get(job.id);
        if (again?.state === "pending") drive(again).catch(() => undefined);
      });
    driving.set(job.id, done);
  };

  /** The answer for a job: 200 with its receipt, 202 with its handle, or its failure thrown. */
  const answer = async (
    job: NodeJob,
    reply: FastifyReply,
    waitFor: number,
  ): Promise<InferResponse | PendingResponse> => {
    const running = driving.get(job.id);
    if (running && waitFor > 0) await Promise.race([running, sleep(waitFor)]);
    const now = jobs.get(job.id) ?? job;
    if (now.state === "done" && now.cid) {
      return { jobId: now.id, cid: now.cid, receipt: await readReceipt(now.cid) };
    }
    if (now.state === "failed") {
      const error = now.error ?? { code: "INTERNAL", message: "the job failed" };
      const code = (ERROR_CODES as readonly string[]).includes(error.code) ? (error.code as ErrorCode) : "INTERNAL";
      throw new VerinferError(code, error.message, {
        meta: { jobId: now.id, ...(error.reason ? { reason: error.reason } : {}) },
      });
    }
    const statusUrl = `/jobs/${now.id}`;
    reply
      .status(202)
      .header("location", statusUrl)
      .header("retry-after", String(Math.max(retryAfterMin, Math.ceil((estimate.serviceMs ?? 1_000) / 1_000))));
    return { jobId: now.id, status: "pending", statusUrl };
  };

  /** Concurrent requests of one Idempotency-Key: the first creates the job, the others wait for it. */
  const creating = new Map<string, Promise<unknown>>();

  const infer = async (request: FastifyRequest, reply: FastifyReply): Promise<InferResponse | PendingResponse> => {
    const keyHash = idempotencyKeyHash(request.headers["idempotency-key"]);
    const waitFor = preferredWaitMs(request.headers.prefer, waitMs);
    const { modelId, input, mode } = parseInferRequest(request.body);
    const pkg = models.get(modelId);
    if (!pkg) throw new VerinferError("ARTIFACT_MISSING", `model ${modelId} is not served by this node`);
    if (mode === "attest" && !signer) {
      throw new VerinferError("UNSUPPORTED_MODE", 'this node has no signing key: mode "attest" is off');
    }
    // Checked (INVALID_INPUT naming the index) and flattened before anything is hashed or stored: the body's
    // input is whatever the client sent.
    const slow = slots.get(request)?.slow;
    if (mode === "zk" && slow) throw slow;
    const flat = flattenInput(pkg.network, input);
    const hash = requestHash({ modelId, input: flat, mode });
    if (keyHash !== undefined) {
      await creating.get(keyHash)?.catch(() => undefined);
      const held = jobs.byKey(keyHash);
      if (held) {
        if (held.request !== hash) {
          throw new VerinferError("INVALID_INPUT", "this Idempotency-Key was sent with another request", {
            details: "a key names one request: send a new key for a new request",
          });
        }
        const transient = held.state === "failed" && TRANSIENT.has(held.error?.code ?? "");
        if (!transient) {
          entered(request);
          if (held.state === "pending") await drive(held);
          return answer(held, reply, waitFor);
        }
        if (held.mode === "zk" && held.input && held.salts && held.statement) {
          // Failed for a reason that may have passed (Redis was down, the disk was full): the same job again —
          // the queue still holds a proof it finished, and a job id handed out stays valid.
          const { error: _e, finishedAt: _f, ...rest } = held;
          const revived: NodeJob = { ...rest, state: "pending" };
          await checkDisk();
          await jobs.put(revived);
          try {
            await drive(revived);
          } finally {
            entered(request);
          }
          return answer(revived, reply, waitFor);
        }
        // A plain or attested request that failed so is simply run again below.
      }
    }
    const work = (async () => {
      // verifiableInfer checks the values before any work (INVALID_INPUT naming the index). A zk request gets
      // its statement here (mode "none"), and the proof is its job.
      const { receipt, salts } = await verifiableInfer(pkg, flat, {
        mode: mode === "attest" ? "attest" : "none",
        ...(mode === "attest" && signer ? { signer } : {}),
      });
      const id = proofJobId({ modelId, inputCommitment: receipt.input.commitment, outputSalt: salts.output });
      const job: NodeJob = {
        format: "verinfer/node-job@1",
        id,
        ...(keyHash ? { key: keyHash } : {}),
        request: hash,
        modelId,
        vkey: pkg.vkeyCid,
        mode,
        state: "pending",
        createdAt: new Date().toISOString(),
      };
      if (mode !== "zk") {
        entered(request);
        await checkDisk();
        // Answered at once: only a request with an Idempotency-Key (a client that may retry it) takes a record
        // — a flood of cheap keyless requests must not fill the records other clients' handles live in.
        return finish({ ...job, salts }, receipt, undefined, keyHash !== undefined);
      }
      // Before a proof is spent: the disk must take its result, the job record must be on disk.
      await checkDisk();
      const pending: NodeJob = {
        ...job,
        input: quantizeInput(pkg.network, flat).map(String),
        salts,
        statement: receipt,
      };
      await jobs.put(pending);
      try {
        await drive(pending);
      } catch (error) {
        // Not accepted (the queue refused or did not answer): no record of it stays.
        await jobs.remove(pending.id).catch(() => undefined);
        throw error;
      } finally {
        entered(request);
      }
      return pending;
    })();
    if (keyHash !== undefined) {
      creating.set(keyHash, work);
      work
        .catch(() => undefined)
        .finally(() => {
          if (creating.get(keyHash) === work) creating.delete(keyHash);
        });
    }
    try {
      return await answer(await work, reply, waitFor);
    } catch (error) {
      throw asNodeFault(error);
    }
  };

  app.post("/infer", { onRequest: admit }, (request, reply): Promise<InferResponse | PendingResponse> => {
    const work = infer(request, reply);
    const slot = slots.get(request);
    if (slot) slot.work = work;
    return work;
  });

  // Reads are admitted too (at most maxInFlight at once), and bounded: only receipts are served.
  let reading = 0;
  const admitRead = async (_request: FastifyRequest, reply: FastifyReply) => {
    if (reading >= maxInFlight) {
      throw new VerinferError("OVERLOADED", "the inference node is at capacity", { meta: { reading, maxInFlight } });
    }
    reading++;
    reply.raw.once("close", () => {
      reading--;
    });
  };
  const notReceipt = (cid: string) => new VerinferError("NOT_FOUND", `no receipt ${cid} on this node`);
  const readReceipt = async (cid: string): Promise<Receipt> => {
    if (storage instanceof FsStorage) {
      // The size first: a model artifact (a zkey of hundreds of MB) is neither read nor hashed for a client.
      const size = await lstat(storage.pathOf(cid)).then(
        (s) => (s.isFile() ? s.size : -1),
        () => -1,
      );
      if (size < 0) throw new VerinferError("ARTIFACT_MISSING", `object ${cid} is not in this storage`);
      if (size > maxReceiptBytes) throw notReceipt(cid);
    }
    const bytes = await storage.get(cid);
    if (bytes.byteLength > maxReceiptBytes) throw notReceipt(cid);
    let json: unknown;
    try {
      json = parseStrictJson(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch {
      throw notReceipt(cid);
    }
    const parsed = ReceiptSchema.safeParse(json);
    if (!parsed.success) throw notReceipt(cid);
    return parsed.data;
  };

  app.get<{ Params: { id: string } }>("/jobs/:id", { onRequest: admitRead }, async (request): Promise<JobResponse> => {
    const { id } = request.params;
    if (!/^vi1-[0-9a-f]{64}$/.test(id))
      throw new VerinferError("INVALID_INPUT", "not a job id (vi1- and 64 hex digits)");
    const job = jobs.get(id);
    if (!job) throw new VerinferError("NOT_FOUND", "this node holds no such job");
    // A pending job nobody drives (Redis was down when the node restarted): hand it over again.
    if (job.state === "pending" && !driving.has(id))
      await drive(job).catch((error: unknown) => {
        throw asNodeFault(error);
      });
    const now = jobs.get(id) ?? job;
    const body: JobResponse = { jobId: id, status: now.state };
    if (now.state === "done" && now.cid) {
      body.cid = now.cid;
      body.receipt = await readReceipt(now.cid);
    }
    if (now.state === "failed" && now.error) body.error = now.error;
    return body;
  });

  app.get<{ Params: { cid: string } }>("/receipts/:cid", { onRequest: admitRead }, async (request, reply) => {
    const cid = normalizeCid(request.params.cid);
    const receipt = await readReceipt(cid);
    // The canonical bytes are the stored bytes: a client can check that they hash to the CID it asked for.
    return reply
      .header("content-type", "application/json; charset=utf-8")
      .header("cache-control", "public, max-age=31536000, immutable")
      .header("etag", `"${cid}"`)
      .send(canonicalJson(receipt));
  });

  // Jobs a previous run accepted and did not finish: taken up again in the background (a queue that does not
  // answer now is tried again when a client asks for the job).
  for (const job of jobs.all()) {
    if (job.state === "pending") drive(job).catch(() => undefined);
  }

  return app;
}

/**
 * Why the node's disk cannot take a proof's result: a directory (or its nearest existing parent) that is not
 * writable (`STORAGE_READONLY`, `STORAGE_DENIED`) or has less than `minFreeBytes` free (`STORAGE_FULL`).
 */
async function diskFault(dirs: readonly string[], minFreeBytes: number): Promise<void> {
  for (const dir of dirs) {
    let existing = path.resolve(dir);
    for (;;) {
      try {
        await access(existing, constants.F_OK);
        break;
      } catch {
        const parent = path.dirname(existing);
        if (parent === existing) break;
        existing = parent;
      }
    }
    try {
      await access(existing, constants.W_OK);
    } catch (error) {
      throw storageError(error, { op: "write to the node's storage", path: existing });
    }
    const info = await statfs(existing);
    const free = info.bavail * info.bsize;
    if (free < minFreeBytes) {
      throw new VerinferError("STORAGE_FULL", "the node's storage is (nearly) full: no proof is started", {
        meta: { reason: "disk-full", freeBytes: free, minFreeBytes, path: existing },
      });
    }
  }
}
/** Options of {@link handleShutdownSignals}. */
export interface ShutdownOptions {
  /** Closed after the server, once its requests are done. */
  pool?: ProverPool;
  /** Closed after the server, once its requests are done (its jobs stay in Redis). */
  queue?: ProofQueue;
  /** Exit anyway after this long (ms). Default 30,000. */
  graceMs?: number;
  signals?: readonly NodeJS.Signals[];
  /** Default `process.exit`. */
  exit?: (code: number) => void;
}

/**
 * On SIGTERM (and SIGINT): stop accepting connections, let the requests in flight finish, close the pool,
 * then exit 0 — or 1 when that takes longer than `graceMs` or fails. Returns a function removing the handlers.
 *
 * @example
 * ```ts
 * handleShutdownSignals(app, { pool });
 * ```
 */
export function handleShutdownSignals(app: FastifyInstance, options: ShutdownOptions = {}): () => void {
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let started = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    app.log.info({ signal }, "shutting down: finishing requests in flight");
    const timer = setTimeout(() => {
      app.log.error("shutdown took longer than its grace period");
      exit(1);
    }, options.graceMs ?? 30_000);
    timer.unref();
    void (async () => {
      try {
        await app.close();
        await options.pool?.close();
        await options.queue?.close();
        clearTimeout(timer);
        exit(0);
      } catch (error) {
        app.log.error({ err: error }, "shutdown failed");
        clearTimeout(timer);
        exit(1);
      }
    })();
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}

/** Compiles (or fetches from the cache) the bundled demo model. */
export async function demoModel(cacheDir?: string): Promise<ModelPackage> {
  const modelDir = path.join(packageRoot(), "examples", "models", "demo-glyphs");
  const samples = JSON.parse(readFileSync(path.join(modelDir, "samples.json"), "utf8")) as { calibration: number[][] };
  return compileModel(modelDir, { calibration: samples.calibration, quiet: true, ...(cacheDir ? { cacheDir } : {}) });
}

/** Starts the node on 127.0.0.1 with the demo model; resolves once it listens. */
export async function main(): Promise<FastifyInstance> {
  const cacheDir = resolveCacheDir();
  const pkg = await demoModel(cacheDir);
  const redisUrl = process.env.VERINFER_REDIS_URL;
  const workers = Number(process.env.VERINFER_WORKERS ?? os.availableParallelism());
  const maxInFlight = process.env.VERINFER_MAX_IN_FLIGHT ? Number(process.env.VERINFER_MAX_IN_FLIGHT) : undefined;
  const pool =
    !redisUrl && workers > 0
      ? createProverPool({
          workers,
          jobTimeoutMs: 60_000,
          ...(maxInFlight ? { maxQueue: Math.max(0, maxInFlight - workers) } : {}),
        })
      : undefined;
  const waitMs = process.env.VERINFER_WAIT_MS ? Number(process.env.VERINFER_WAIT_MS) : undefined;
  const queue = redisUrl
    ? createProofQueue({
        connection: redisUrl,
        storage: process.env.VERINFER_STORAGE ? new FsStorage(process.env.VERINFER_STORAGE) : defaultStorage(cacheDir),
        ...(process.env.VERINFER_QUEUE_KEY ? { payloadKey: process.env.VERINFER_QUEUE_KEY } : {}),
        ...(process.env.VERINFER_MAX_DEPTH ? { maxDepth: Number(process.env.VERINFER_MAX_DEPTH) } : {}),
        ...(process.env.VERINFER_QUEUE_NAME ? { name: process.env.VERINFER_QUEUE_NAME } : {}),
      })
    : undefined;
  const signer = process.env.VERINFER_PRIVATE_KEY ? await loadSigner(undefined) : undefined;
  const app = await buildServer({
    cacheDir,
    models: [pkg],
    ...(pool ? { pool } : {}),
    ...(queue ? { queue } : {}),
    signer,
    logger: process.env.VERINFER_LOG !== "off",
    ...(maxInFlight ? { maxInFlight } : {}),
    ...clientQuotaFromEnv(process.env.VERINFER_CLIENT_QUOTA),
    ...(waitMs !== undefined ? { waitMs } : {}),
    ...(process.env.VERINFER_JOBS ? { jobsDir: process.env.VERINFER_JOBS } : {}),
  });
  handleShutdownSignals(app, { ...(pool ? { pool } : {}), ...(queue ? { queue } : {}) });
  await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? 8787) });
  return app;
}

/** `VERINFER_CLIENT_QUOTA`: `off`, or `<requests>/<seconds>`; unset: the default quota. */
function clientQuotaFromEnv(value: string | undefined): Pick<InferenceNodeOptions, "clientQuota"> {
  if (value === undefined || value === "") return {};
  if (value === "off") return { clientQuota: false };
  const m = /^(\d+)\/(\d+)$/.exec(value);
  if (!m) throw new VerinferError("INVALID_OPTIONS", `VERINFER_CLIENT_QUOTA must be "off" or <requests>/<seconds>`);
  return { clientQuota: { requests: Number(m[1]), windowMs: Number(m[2]) * 1000 } };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
