// Security/operations audit of issue 18 (branches faults-queue + faults-node, merged here): attacks on the proof
// queue through what a rogue prover (anyone who can take jobs from, or write to, the queue's Redis) still controls,
// and the merged node's answers to the queue's new errors. Real redis-server processes, the tiny model.
//
// FIXED on faults-fix (these tests failed on faults-queue @ bb5bce1 merged with faults-node @ 29f5621 (and on
// fc1f202 + b5a40af)):
//   - "a prover's claimed failure does not end an accepted job as the client's fault"
//   - "a rogue prover's timings do not lock the node into 429"
//   - "the node answers an evicting Redis (REDIS_UNSAFE) with 503 and /health says so"
//   - "a job whose outcome was delivered is not proven again by a restarted producer" (records leak)
//   - "queue.close() returns while Redis is down" (the node's SIGTERM path closes the queue)
// FIXED (passes after 485ba82, failed on fc1f202 + b5a40af): "the node answers an unreachable Redis with 503 + Retry-After"
// HELD (pass): the rogue's proof is honest, only its timings lie — the receipt still verifies (shows that the
//   producer carries the prover's numbers into the receipt unchecked).
import { readdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { type Job, Queue, Worker } from "bullmq";
import type { FastifyInstance } from "fastify";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../../examples/inference-node/server.js";
import { isVerinferError, type VerinferError } from "../../src/errors.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import type { ModelPackage } from "../../src/package/model-package.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { createProofQueue, type ProofQueue, type ProofQueueOptions } from "../../src/queue/create-proof-queue.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { FsStorage } from "../../src/storage/fs-storage.js";
import { errorOf, tempDirs, tinyCalibration, tinyPackage } from "../fixtures.js";
import { clearSecrets, proveSecrets, resultOf, testQueue } from "../queue-fixtures.js";
import { freePort, type RedisServer, startRedisServer } from "../redis-server.js";

const tempDir = tempDirs("verinfer-audit-queue-");
let tiny: ModelPackage;
let storage: FsStorage;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  tiny = await tinyPackage();
  storage = new FsStorage(await tempDir());
});

/** A close that does not return (see the close-while-down finding) must not hold the file open. */
function bounded(work: Promise<unknown>, ms = 5_000): Promise<unknown> {
  return Promise.race([work.catch(() => undefined), new Promise((r) => setTimeout(() => r("timed out"), ms).unref())]);
}

afterAll(async () => {
  for (const close of closers.reverse()) await bounded(close());
  await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
});

async function redisServer(options: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServer> {
  const server = await startRedisServer(options);
  closers.push(() => server.destroy());
  return server;
}

function queue(url: string, name: string, options: Partial<ProofQueueOptions> = {}): ProofQueue {
  const q = testQueue(url, name, { storage, ...options });
  closers.push(() => q.close());
  return q;
}

function worker(port: number, name: string, run: (job: Job) => Promise<unknown>): Worker {
  const w = new Worker(name, run, { connection: { host: "127.0.0.1", port, maxRetriesPerRequest: null } });
  closers.push(() => w.close());
  return w;
}

async function node(options: Partial<Parameters<typeof buildServer>[0]>): Promise<string> {
  const app: FastifyInstance = await buildServer({
    models: [tiny],
    cacheDir: await tempDir(),
    storage: new FsStorage(await tempDir()),
    jobsDir: await tempDir(),
    saltsDir: false,
    ...options,
  });
  closers.push(() => app.close());
  await app.listen({ host: "127.0.0.1", port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

// biome-ignore lint/suspicious/noExplicitAny: bodies are checked field by field.
type Body = any;

async function post(base: string, body: unknown): Promise<{ status: number; headers: Headers; body: Body }> {
  const r = await fetch(`${base}/infer`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

const x = (i: number) => tinyCalibration[i % tinyCalibration.length] as number[];

async function statement(i: number) {
  const { receipt, salts } = await verifiableInfer(tiny, x(i), { mode: "none" });
  return { pkg: tiny, input: quantizeInput(tiny.network, x(i)), salts, receipt };
}

describe("audit: what a rogue prover still controls", () => {
  it("a prover's claimed failure does not end an accepted job as the client's fault", async () => {
    const redis = await redisServer({ persistent: true });
    const recordDir = await tempDir();
    const q = queue(redis.url, "claimed-failure", { recordDir, attempts: 2 });
    // The rogue never proves: it fails every attempt with a verinfer-coded reason of its choosing.
    worker(redis.port, "claimed-failure", async () => {
      throw new Error('verinfer:{"code":"INVALID_INPUT","message":"input value at index 0 is out of range"}');
    });
    const handle = await q.submit(await statement(1));
    const error = (await errorOf(handle.receipt)) as VerinferError;
    // The producer checked this input itself at submit; a prover's word must not turn it into the client's fault
    // (the node then answers 400 and drops the job's input and salts for good), and the producer's record — what
    // re-submitting needs — must not go with it.
    expect({ code: error.code, records: await readdir(recordDir) }).toEqual({
      code: "PROVE_FAILED",
      records: [`${handle.jobId}.json`],
    });
  });

  it("a rogue prover's timings do not lock the node into 429", async () => {
    const redis = await redisServer({ persistent: true });
    const q = queue(redis.url, "rogue-timings", { recordDir: await tempDir() });
    // An honest proof, a lying report: proveMs of 10^12 ms.
    worker(redis.port, "rogue-timings", async (job: Job) =>
      resultOf(await proveSecrets(tiny, clearSecrets(job)), job.id as string, "rogue", 1e12),
    );
    const base = await node({ queue: q, waitMs: 60_000 });
    const first = await post(base, { modelId: tiny.id, input: x(0) });
    expect(first.status).toBe(200);
    // HELD: the proof itself is sound; only the prover's numbers are carried over unchecked.
    expect(await verifyReceipt(first.body.receipt, { modelPackage: tiny })).toMatchObject({ valid: true });
    expect(first.body.receipt.timings.proveMs).toBe(1e12);
    await new Promise((r) => setTimeout(r, 500));
    // Idle queue, idle node: a request that needs no proof at all.
    const after = await post(base, { modelId: tiny.id, input: x(1), mode: "none" });
    expect({ status: after.status, reason: after.body.reason }).toEqual({ status: 200, reason: undefined });
  });
});

describe("audit: the producer's records", () => {
  it("a job whose outcome was delivered is not proven again by a restarted producer", async () => {
    const redis = await redisServer({ persistent: true });
    const recordDir = await tempDir();
    const q = queue(redis.url, "delivered", { recordDir, attempts: 1 });
    // A prover whose result is refused (malformed here; a proof of another key is refused the same way).
    const w = worker(redis.port, "delivered", async () => ({}));
    const handle = await q.submit(await statement(3));
    const error = (await errorOf(handle.receipt)) as VerinferError;
    expect(error.meta).toMatchObject({ refused: true });
    await w.close();
    await q.close();
    // keepSeconds (a day by default) or keepCount later, Redis drops the finished job.
    const raw = new Queue("delivered", {
      connection: { host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: null },
    });
    closers.push(() => raw.close());
    await raw.remove(handle.jobId);
    // The caller was told (the node marked its job failed for good and dropped its salts); a restarted producer
    // still holds the record (with the salts) and adds the job again: proven again, collected by nobody, and
    // again after every restart once Redis drops it.
    const again = queue(redis.url, "delivered", { recordDir });
    await again.ready();
    expect({ readded: (await again.stats()).readded, records: await readdir(recordDir) }).toEqual({
      readded: 0,
      records: [],
    });
  });
});

describe("audit: the merged node and the queue's new errors", () => {
  it("the node answers an evicting Redis (REDIS_UNSAFE) with 503 and /health says so", async () => {
    const redis = await redisServer({ maxmemoryPolicy: "allkeys-lru", maxmemory: "64mb" });
    const q = queue(redis.url, "evicting");
    const error = await errorOf(q.ready());
    expect(isVerinferError(error, "REDIS_UNSAFE"), String(error)).toBe(true);
    const base = await node({ queue: q });
    const health = await fetch(`${base}/health`);
    const answer = await post(base, { modelId: tiny.id, input: x(0) });
    expect({
      health: health.status,
      infer: answer.status,
      code: answer.body.code,
      reason: answer.body.reason,
      retryAfter: answer.headers.get("retry-after") !== null,
    }).toEqual({ health: 503, infer: 503, code: "REDIS_UNSAFE", reason: "redis-unsafe", retryAfter: true });
  });

  it("FIXED since (485ba82): the node answers an unreachable Redis with 503 + Retry-After", async () => {
    // Nothing listens: the queue's own bound (1 s) is the node's admission bound too.
    const port = await freePort();
    const q = queue(`redis://127.0.0.1:${port}`, "down", { redisTimeoutMs: 600 });
    const base = await node({ queue: q, redisTimeoutMs: 5_000 });
    const answer = await post(base, { modelId: tiny.id, input: x(0) });
    expect({ status: answer.status, retryAfter: answer.headers.get("retry-after") !== null }).toEqual({
      status: 503,
      retryAfter: true,
    });
  });

  it("queue.close() returns while Redis is down (the node's SIGTERM path closes the queue)", async () => {
    const port = await freePort();
    const q = createProofQueue({
      connection: `redis://127.0.0.1:${port}`,
      name: "close-down",
      redisTimeoutMs: 300,
      onWarning: () => undefined,
    });
    expect(isVerinferError(await errorOf(q.ready()), "UNAVAILABLE")).toBe(true);
    expect(
      await bounded(
        q.close().then(() => "closed"),
        10_000,
      ),
    ).toBe("closed");
  });
});
