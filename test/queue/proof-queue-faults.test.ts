import { readdir, stat } from "node:fs/promises";
import { type Job, Worker } from "bullmq";
import { Redis } from "ioredis";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Receipt } from "../../src/attest/receipt.js";
import { isVerinferError, type VerinferError } from "../../src/errors.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import type { ModelPackage } from "../../src/package/model-package.js";
import { putModelPackage } from "../../src/package/put-model-package.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { checkRedis } from "../../src/queue/check-redis.js";
import type { ProofQueue, ProofQueueOptions } from "../../src/queue/create-proof-queue.js";
import type { QueueJob } from "../../src/queue/queue-job.js";
import { redisOptionsFromUrl } from "../../src/queue/redis-connection.js";
import { type Prover, startProver } from "../../src/queue/start-prover.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { ensureDevPtau } from "../../src/setup/dev-ptau.js";
import { FsStorage } from "../../src/storage/fs-storage.js";
import { errorOf, runCli, TEST_CACHE, tempDirs, tinyCalibration, tinyNetwork, tinyPackage } from "../fixtures.js";
import { rogueProve, testQueue } from "../queue-fixtures.js";
import { type RedisServer, startRedisServer } from "../redis-server.js";

// Faults of the queue's Redis and of a rogue prover, each on a redis-server of its own (real processes), with the
// tiny model: a handful of jobs each. Every accepted job must end in a receipt that verifies against the package
// the producer submitted it for.
const tempDir = tempDirs("verinfer-queue-faults-");
let tiny: ModelPackage;
let storage: FsStorage;
const servers: RedisServer[] = [];
const queues: ProofQueue[] = [];
const provers: Prover[] = [];
const closers: (() => Promise<unknown>)[] = [];

const FAST = { lockDurationMs: 3_000, stalledIntervalMs: 500 };

async function redisServer(options: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServer> {
  const server = await startRedisServer(options);
  servers.push(server);
  return server;
}

async function restart(server: RedisServer, options: Parameters<typeof startRedisServer>[0] = {}) {
  const again = await startRedisServer({ ...options, dir: server.dir, port: server.port });
  servers.push(again);
  return again;
}

function queue(url: string, name: string, options: Partial<ProofQueueOptions> = {}): ProofQueue {
  const q = testQueue(url, name, { storage, ...options });
  queues.push(q);
  return q;
}

async function prover(url: string, queueName: string): Promise<Prover> {
  const p = await startProver({
    connection: url,
    storage,
    cacheDir: await tempDir(),
    queueName,
    workers: 1,
    ...FAST,
  });
  provers.push(p);
  return p;
}

async function statement(i: number, model = tiny) {
  const x = tinyCalibration[i % tinyCalibration.length] as number[];
  const { receipt, salts } = await verifiableInfer(model, x, { mode: "none" });
  return { pkg: model, input: quantizeInput(model.network, x), salts, receipt };
}

async function expectValid(receipt: Receipt, model = tiny): Promise<void> {
  expect(receipt.mode).toBe("zk");
  expect(await verifyReceipt(receipt, { modelPackage: model })).toMatchObject({ valid: true });
}

beforeAll(async () => {
  tiny = await tinyPackage();
  storage = new FsStorage(await tempDir());
});

afterAll(async () => {
  for (const close of closers) await close().catch(() => undefined);
  await Promise.allSettled(provers.map((p) => p.close()));
  await Promise.allSettled(queues.map((q) => q.close()));
  await Promise.allSettled(servers.map((s) => s.destroy()));
  await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
});

describe("a rogue prover with write access to Redis", () => {
  // Another compile of the same model: same id, its own phase-2 randomness, so another key — the rogue's own
  // package, which it publishes on the shared storage.
  let rogue: ModelPackage;
  let rogueManifest: string;

  beforeAll(async () => {
    const ptau = await ensureDevPtau({ power: tiny.manifest.setup.ptauPower, cacheDir: TEST_CACHE });
    rogue = await compileModel(tinyNetwork, {
      calibration: tinyCalibration,
      cacheDir: await tempDir(),
      ptau: ptau.file,
      quiet: true,
    });
    expect(rogue.id).toBe(tiny.id);
    expect(rogue.vkeyCid).not.toBe(tiny.vkeyCid);
    rogueManifest = (await putModelPackage(storage, rogue)).manifestCid;
  });

  /** Takes every job, rewrites it to name the rogue's package (manifest and key), and returns its own proof. */
  function rogueWorker(port: number, name: string): { worker: Worker; rewritten: string[] } {
    const rewritten: string[] = [];
    const worker = new Worker(
      name,
      async (job: Job) => {
        const result = await rogueProve(job, rogue, rogueManifest);
        rewritten.push(job.id as string);
        return result;
      },
      { connection: { host: "127.0.0.1", port, maxRetriesPerRequest: null } },
    );
    closers.push(() => worker.close());
    return { worker, rewritten };
  }

  it("refuses the rogue's proof of its own package, in the same producer and after a restart; an honest prover then proves it", async () => {
    const redis = await redisServer({ persistent: true });
    const recordDir = await tempDir();
    const q = queue(redis.url, "rogue", { recordDir, attempts: 2 });
    const { worker, rewritten } = rogueWorker(redis.port, "rogue");
    const s = await statement(2);
    const handle = await q.submit(s);

    // The rogue's proof is a valid proof — of its own key, not of the package the producer submitted for.
    const error = (await errorOf(handle.receipt)) as VerinferError;
    expect(isVerinferError(error, "PROVE_FAILED"), String(error)).toBe(true);
    expect(error.meta).toMatchObject({ refused: true, prover: "rogue" });
    expect(rewritten).toContain(handle.jobId);
    const raw = new Redis({ ...redisOptionsFromUrl(redis.url), maxRetriesPerRequest: 1 });
    closers.push(async () => raw.disconnect());
    const inRedis = JSON.parse((await raw.hget(`bull:rogue:${handle.jobId}`, "data")) as string) as QueueJob;
    expect(inRedis.manifest).toBe(rogueManifest);
    expect(inRedis.secrets?.receipt.model.vkey).toBe(rogue.vkeyCid);
    expect((await q.stats()).refused).toBe(2);
    await q.close();

    // The refusal was delivered: the record is gone, so no restarted producer proves the job again on its own.
    expect(await readdir(recordDir)).toEqual([]);
    // A restarted producer collecting by job id, with the package it was submitted for: refused again.
    const again = queue(redis.url, "rogue", { recordDir, cacheDir: await tempDir(), attempts: 2 });
    const second = (await errorOf((await again.get(handle.jobId, { pkg: tiny })).receipt)) as VerinferError;
    expect(second.meta).toMatchObject({ refused: true });
    await worker.close();
    await again.close();

    // The rogue is gone: the statement submitted again finds the stored forgery, refuses it once more, re-runs
    // the job from its new record (the true package's manifest), and an honest prover's proof is accepted.
    await prover(redis.url, "rogue");
    const last = queue(redis.url, "rogue", { recordDir, cacheDir: await tempDir(), attempts: 2 });
    const receipt = await (await last.submit(s)).receipt;
    await expectValid(receipt);
    expect(receipt.model.vkey ?? tiny.vkeyCid).toBe(tiny.vkeyCid);
    expect(await verifyReceipt(receipt, { modelPackage: rogue })).toMatchObject({ valid: false });
    // Collected: the record is gone.
    expect(await readdir(recordDir)).toEqual([]);
  });
});

describe("Redis losing what it held", () => {
  it("loses no accepted job when Redis restarts without persistence (no AOF, no snapshot)", async () => {
    let redis = await redisServer();
    const recordDir = await tempDir();
    const q = queue(redis.url, "no-aof", { recordDir });
    const handles = [];
    for (let i = 0; i < 4; i++) handles.push(await q.submit(await statement(i)));
    // The records hold the salts: only their owner may read them.
    const files = await readdir(recordDir);
    expect(files).toHaveLength(4);
    expect((await stat(recordDir)).mode & 0o777).toBe(0o700);
    expect((await stat(`${recordDir}/${files[0]}`)).mode & 0o777).toBe(0o600);
    await redis.stop();
    redis = await restart(redis);
    const raw = new Redis({ ...redisOptionsFromUrl(redis.url), maxRetriesPerRequest: 1 });
    closers.push(async () => raw.disconnect());
    await prover(redis.url, "no-aof");
    const receipts = await Promise.all(handles.map((h) => h.receipt));
    for (const receipt of receipts) await expectValid(receipt);
    const stats = await q.stats();
    expect(stats.readded).toBeGreaterThanOrEqual(4);
    expect(stats).toMatchObject({ proven: 4, records: 0 });
    expect(await readdir(recordDir)).toEqual([]);
  });

  it("loses no accepted job when Redis (stock snapshots) is killed -9 and the producer restarts too", async () => {
    let redis = await redisServer({ snapshots: true });
    const recordDir = await tempDir();
    const first = queue(redis.url, "kill9", { recordDir });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await first.submit(await statement(i + 1))).jobId);
    await first.close();
    await redis.kill9();
    redis = await restart(redis, { snapshots: true });
    // A new producer process: its start-up scan adds the recorded jobs Redis lost, and it collects them by id.
    const second = queue(redis.url, "kill9", { recordDir, cacheDir: await tempDir() });
    await second.ready();
    expect((await second.stats()).depth).toBe(3);
    await prover(redis.url, "kill9");
    for (const id of ids) await expectValid(await (await second.get(id)).receipt);
    expect(await readdir(recordDir)).toEqual([]);
  });

  it("drops, not re-adds, the record of a lost job nobody collected within keepSeconds", async () => {
    const redis = await redisServer();
    const recordDir = await tempDir();
    const first = queue(redis.url, "expired", { recordDir, keepSeconds: 1 });
    await first.submit(await statement(0));
    await first.close();
    const raw = new Redis({ ...redisOptionsFromUrl(redis.url), maxRetriesPerRequest: 1 });
    closers.push(async () => raw.disconnect());
    await raw.flushall();
    await new Promise((r) => setTimeout(r, 1_100));
    const second = queue(redis.url, "expired", { recordDir, keepSeconds: 1 });
    await second.ready();
    expect(await readdir(recordDir)).toEqual([]);
    expect((await second.stats()).depth).toBe(0);
  });
});

describe("what Redis must be", () => {
  it("refuses an evicting Redis (allkeys-lru) in the producer, the prover and `verinfer prover`, unless opted in", async () => {
    const redis = await redisServer({ maxmemoryPolicy: "allkeys-lru", maxmemory: "64mb" });
    const q = queue(redis.url, "lru", { recordDir: await tempDir() });
    const refused = await errorOf(q.ready());
    expect(isVerinferError(refused, "REDIS_UNSAFE")).toBe(true);
    expect((refused as VerinferError).meta).toMatchObject({ maxmemoryPolicy: "allkeys-lru" });
    expect(isVerinferError(await errorOf(q.submit(await statement(0))), "REDIS_UNSAFE")).toBe(true);
    const proverRefused = await errorOf(startProver({ connection: redis.url, queueName: "lru", workers: 1 }));
    expect(isVerinferError(proverRefused, "REDIS_UNSAFE")).toBe(true);
    const cli = await runCli(["prover", "--redis", redis.url, "--queue", "lru", "--workers", "1"]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain("REDIS_UNSAFE");

    // Opted in: it runs, and says what is wrong (evicting, no append-only file).
    const warnings: string[] = [];
    const allowed = queue(redis.url, "lru", {
      recordDir: await tempDir(),
      allowEvictingRedis: true,
      onWarning: (w) => warnings.push(w.code),
    });
    const health = await allowed.ready();
    expect(health).toMatchObject({
      reachable: true,
      maxmemoryPolicy: "allkeys-lru",
      evicting: true,
      appendonly: false,
    });
    expect(warnings.sort()).toEqual(["REDIS_EVICTING", "REDIS_NOT_PERSISTENT"]);
    expect((await allowed.stats()).redis).toMatchObject({ evicting: true, source: "config" });
  });

  it("reads the settings from INFO when CONFIG is renamed away, and reports unknown when neither answers", async () => {
    const redis = await redisServer({ persistent: true, args: ["--rename-command", "CONFIG", ""] });
    const q = queue(redis.url, "noconfig", { recordDir: await tempDir() });
    expect(await q.ready()).toMatchObject({
      maxmemoryPolicy: "noeviction",
      evicting: false,
      appendonly: true,
      source: "info",
      warnings: [],
    });
    const mute = {
      status: "ready" as const,
      call: async () => {
        const error = new Error("ERR unknown command");
        error.name = "ReplyError";
        throw error;
      },
    };
    const unknown = await checkRedis({ client: mute as never });
    expect(unknown).toMatchObject({ reachable: true, maxmemoryPolicy: "unknown", evicting: undefined, source: "none" });
    expect(unknown.warnings.map((w) => w.code)).toEqual(["REDIS_SETTINGS_UNKNOWN"]);
  });

  it("answers UNAVAILABLE within its bound while Redis is down, and OVERLOADED when Redis is out of memory", async () => {
    let redis = await redisServer({ persistent: true });
    const recordDir = await tempDir();
    const q = queue(redis.url, "down", { recordDir, redisTimeoutMs: 1_000 });
    await q.ready();
    const s = await statement(3);
    await redis.stop();
    let t = Date.now();
    const down = await errorOf(q.submit(s));
    expect(isVerinferError(down, "UNAVAILABLE"), String(down)).toBe(true);
    expect((down as VerinferError).meta).toMatchObject({ reason: "redis-unreachable", retryable: true });
    expect(Date.now() - t).toBeLessThan(5_000);
    t = Date.now();
    expect(await q.redisHealth({ timeoutMs: 500 })).toMatchObject({ reachable: false });
    expect(Date.now() - t).toBeLessThan(2_000);
    expect(isVerinferError(await errorOf(q.stats()), "UNAVAILABLE")).toBe(true);
    // Refused, so not accepted: no record kept.
    expect(await readdir(recordDir)).toEqual([]);

    redis = await restart(redis, { persistent: true });
    const raw = new Redis({ ...redisOptionsFromUrl(redis.url), maxRetriesPerRequest: 1 });
    closers.push(async () => raw.disconnect());
    await raw.call("CONFIG", "SET", "maxmemory", "1");
    const oom = await errorOf(q.submit(s));
    expect(isVerinferError(oom, "OVERLOADED"), String(oom)).toBe(true);
    expect((oom as VerinferError).meta).toMatchObject({ reason: "redis-oom" });
    expect(await readdir(recordDir)).toEqual([]);
    await raw.call("CONFIG", "SET", "maxmemory", "0");
    await prover(redis.url, "down");
    await expectValid(await (await q.submit(s)).receipt);
  });
});
