/**
 * An inference node over HTTP (fastify): it serves compiled models, proves on a prover pool, stores every receipt
 * content-addressed, and hands out its CID.
 *
 * - `POST /infer { modelId, input, mode? }` → `200 { cid, receipt }`; `400 { code, message }` for a bad body
 *   (the library's error code: `INVALID_INPUT` names the offending index), `404` for a model it does not
 *   serve, `413` for a body over the limit, `429` + `Retry-After` when full — decided when the request
 *   arrives, before its body is read or parsed.
 * - `GET /receipts/:cid` → the stored receipt, byte for byte (so `cidOf(body)` is the CID); 400 for a malformed
 *   CID, 404 for an unknown one.
 * - `GET /health` → `{ ok, models, inFlight, pool?, queue? }`.
 * - `GET /metrics` → Prometheus metrics (prom-client): requests by route and status, proving time, and the
 *   prover pool's or the proof queue's depth, activity, completions, failures and redeliveries.
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
 * the pool's queue to match); `VERINFER_LOG=off` silences the request log; `VERINFER_CLIENT_QUOTA` is the write
 * quota per client address, `<requests>/<seconds>` (default 120/60) or `off`.
 * In an application, import from "verinfer" instead of "../../src/index.js".
 */
import { readFileSync } from "node:fs";
import { lstat } from "node:fs/promises";
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
  FsStorage,
  loadModelPackage,
  type ModelPackage,
  type ProofQueue,
  type ProverPool,
  type Storage,
  storeReceipt,
  VerinferError,
  verifiableInfer,
} from "../../src/index.js";
import type { ModelInput } from "../../src/models/quantize-input.js";
import { packageRoot } from "../../src/package-root.js";
import { parseStrictJson } from "../../src/parse-strict-json.js";
import { createProofQueue } from "../../src/queue/create-proof-queue.js";
import { atomicWrite } from "../../src/storage/atomic-write.js";
import { resolveCacheDir } from "../../src/storage/cache-dir.js";
import { normalizeCid } from "../../src/storage/cid.js";
import { asNodeFault, errorResponse, redactPaths } from "./http-errors.js";
import { createNodeMetrics } from "./metrics.js";
import { type InferResponse, parseInferRequest } from "./schemas.js";

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
  /** `Retry-After` of 429 and 503 answers, in seconds. Default 1. */
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
  pool?: ProverPool["stats"];
  queue?: Awaited<ReturnType<ProofQueue["stats"]>>;
}

/**
 * Builds the inference node's fastify instance; listening is the caller's (`app.listen({ host, port })`), and
 * so is closing the pool.
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
  const queueDepth = queue ? (await queue.stats()).maxDepth : undefined;
  const maxInFlight = options.maxInFlight ?? (pool ? pool.stats.workers + pool.stats.maxQueue : (queueDepth ?? 16));
  const saltsDir = options.saltsDir === false ? undefined : (options.saltsDir ?? path.join(cacheDir, "salts"));
  const retryAfter = String(options.retryAfterSeconds ?? 1);
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
    storage instanceof FsStorage ? storage.dir : undefined,
    packageRoot(),
    os.homedir(),
    os.tmpdir(),
  ]
    .filter((p): p is string => typeof p === "string" && p.length > 1)
    .map((p) => path.resolve(p))
    .sort((a, b) => b.length - a.length);
  let inFlight = 0;
  const metrics = createNodeMetrics({
    ...(pool ? { pool } : {}),
    ...(queue ? { queue } : {}),
    inFlight: () => inFlight,
  });

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
    if (status >= 500) request.log.error({ err: error }, "request failed");
    if (status === 429 || status === 503) reply.header("retry-after", retryAfter);
    return reply.status(status).send(body);
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ code: "NOT_FOUND", message: `no route ${request.method} ${request.url}` }),
  );

  app.get("/health", async (): Promise<HealthResponse> => {
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
    };
    if (pool) health.pool = pool.stats;
    if (queue) health.queue = await queue.stats();
    return health;
  });

  app.get("/metrics", async (_request, reply) =>
    reply.header("content-type", metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  /** The slot each admitted request holds, and the work it started (the slot is freed when both are over). */
  const slots = new WeakMap<FastifyRequest, { work?: Promise<unknown> }>();

  // Admission comes first: a full node refuses a request from its headers alone, before reading (let alone
  // parsing or validating) its body, so a flood of large or malformed bodies costs it nothing.
  const admit = async (request: FastifyRequest, reply: FastifyReply) => {
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
    if (inFlight >= maxInFlight) {
      throw new VerinferError("OVERLOADED", "the inference node is at capacity", {
        meta: { inFlight, maxInFlight },
      });
    }
    inFlight++;
    const slot: { work?: Promise<unknown> } = {};
    slots.set(request, slot);
    let freed = false;
    const free = () => {
      if (freed) return;
      freed = true;
      inFlight--;
    };
    // "close" comes once the answer is sent or the client is gone, whichever happens; a proof started for a
    // client that left still holds its slot until it ends.
    reply.raw.once("close", () => {
      if (slot.work) slot.work.then(free, free);
      else free();
    });
  };

  const infer = async (body: unknown): Promise<InferResponse> => {
    const { modelId, input, mode } = parseInferRequest(body);
    const pkg = models.get(modelId);
    if (!pkg) throw new VerinferError("ARTIFACT_MISSING", `model ${modelId} is not served by this node`);
    if (mode === "attest" && !signer) {
      throw new VerinferError("UNSUPPORTED_MODE", 'this node has no signing key: mode "attest" is off');
    }
    try {
      // verifiableInfer validates the input before any work (INVALID_INPUT naming the index); the body's
      // input is whatever the client sent, hence the cast.
      const { receipt, salts } = await verifiableInfer(pkg, input as ModelInput, {
        mode,
        ...(mode === "attest" && signer ? { signer } : {}),
        ...(mode === "zk" && pool ? { pool } : {}),
        ...(mode === "zk" && queue ? { queue } : {}),
      });
      if (receipt.mode === "zk" && typeof receipt.timings.proveMs === "number") metrics.proved(receipt.timings.proveMs);
      const cid = await storeReceipt(storage, receipt);
      if (saltsDir) await atomicWrite(path.join(saltsDir, `${cid}.json`), JSON.stringify(salts), 0o600);
      return { cid, receipt };
    } catch (error) {
      throw asNodeFault(error);
    }
  };

  app.post("/infer", { onRequest: admit }, (request): Promise<InferResponse> => {
    const work = infer(request.body);
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

  return app;
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
