// The inference node under faults (issue 18), with real redis-server processes and, for the crash, the node as a
// real child process killed -9: clients always hold a handle (Idempotency-Key or job id) that a restarted node
// answers; while Redis is down the node answers fast (503, not a hang); Redis out of memory is a 503 with its
// reason, not a 500.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { build } from "rolldown";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../../examples/inference-node/server.js";
import { MemoryStorage, type ModelPackage, type Receipt, verifyReceipt } from "../../src/index.js";
import { createProofQueue, type ProofQueue } from "../../src/queue/create-proof-queue.js";
import { type Prover, startProver } from "../../src/queue/start-prover.js";
import { FsStorage } from "../../src/storage/fs-storage.js";
import { demoPackage, demoSamples, ROOT, TEST_CACHE, tempDirs } from "../fixtures.js";
import { freePort, type RedisServer, startRedisServer } from "../redis-server.js";

const tempDir = tempDirs("verinfer-service-faults-");
let pkg: ModelPackage;
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  pkg = await demoPackage();
});

afterAll(async () => {
  // Each step bounded: a queue closing while its Redis is gone would wait for it forever.
  for (const step of cleanup.reverse()) {
    await Promise.race([step().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]);
  }
  await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
});

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: bodies are checked field by field.
  body: any;
}

/** One HTTP call that gives up after 20 s: a node that hangs fails the test instead of holding it. */
async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body };
}

function infer(base: string, i: number, headers: Record<string, string> = {}): Promise<Answer> {
  return call(`${base}/infer`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ modelId: pkg.id, input: demoSamples.inputs[i % demoSamples.inputs.length] }),
  });
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never: ${what}`);
}

/** The node example bundled into one file inside the repository (so it resolves node_modules and its root). */
async function bundleNode(): Promise<string> {
  const file = path.join(ROOT, ".verinfer-cache", `inference-node-${randomBytes(6).toString("hex")}.mjs`);
  await build({
    input: path.join(ROOT, "examples", "inference-node", "server.ts"),
    platform: "node",
    external: (id) => !id.startsWith(".") && !path.isAbsolute(id),
    output: { file, format: "esm" },
    logLevel: "silent",
  });
  cleanup.push(() => rm(file, { force: true }));
  return file;
}

describe("inference node killed -9 with requests in flight", () => {
  it("gives every client its receipt after a restart, by Idempotency-Key or by job id", async () => {
    const redis = await startRedisServer({ persistent: true });
    cleanup.push(() => redis.destroy());
    const storageDir = await tempDir();
    const jobsDir = await tempDir();
    const bundle = await bundleNode();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = {
      ...process.env,
      PORT: String(port),
      VERINFER_CACHE: TEST_CACHE,
      VERINFER_REDIS_URL: redis.url,
      VERINFER_STORAGE: storageDir,
      VERINFER_QUEUE_NAME: "node-crash",
      VERINFER_JOBS: jobsDir,
      VERINFER_WAIT_MS: "60000",
      VERINFER_LOG: "off",
    };
    let child: ChildProcess | undefined;
    const startNode = async () => {
      child = spawn(process.execPath, [bundle], { cwd: ROOT, env, stdio: ["ignore", "ignore", "inherit"] });
      const running = child;
      cleanup.push(async () => running.kill("SIGKILL"));
      await until(
        () => call(`${base}/health`).catch(() => undefined),
        (a) => a?.status === 200,
        "the node listens",
      );
    };
    await startNode();

    // No prover yet: every request waits. Five clients wait for their receipt with a key; a sixth asks for a
    // handle at once and holds only its job id.
    const keys = [0, 1, 2, 3, 4].map((i) => `client-${i}-${randomBytes(4).toString("hex")}`);
    const waiting = keys.map((key, i) => infer(base, i, { "idempotency-key": key }).catch((e: unknown) => e));
    const early = await infer(base, 5, { prefer: "respond-async" });
    expect(early.status).toBe(202);
    expect(early.body).toMatchObject({ status: "pending", statusUrl: `/jobs/${early.body.jobId}` });
    expect(early.headers.get("location")).toBe(`/jobs/${early.body.jobId}`);
    await until(
      () => call(`${base}/health`),
      (a) => a.body.queue?.depth === 6,
      "six jobs wait in Redis",
    );

    child?.kill("SIGKILL");
    // The waiting clients lose their connections: none of them got a receipt or a job id.
    for (const outcome of await Promise.all(waiting)) expect(outcome).toBeInstanceOf(Error);

    const prover: Prover = await startProver({
      connection: redis.url,
      storage: new FsStorage(storageDir),
      cacheDir: await tempDir(),
      queueName: "node-crash",
      workers: 1,
    });
    cleanup.push(() => prover.close());
    await startNode();

    // Each client retries with its key and gets the job it started — no second job — and its receipt.
    const receipts: Receipt[] = [];
    for (const [i, key] of keys.entries()) {
      const again = await infer(base, i, { "idempotency-key": key });
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      receipts.push(again.body.receipt);
    }
    const collected = await until(
      () => call(`${base}${early.body.statusUrl}`),
      (a) => a.body.status !== "pending",
      "the early client's job is done",
    );
    expect(collected.body).toMatchObject({ jobId: early.body.jobId, status: "done" });
    receipts.push(collected.body.receipt);
    for (const receipt of receipts) {
      expect(await verifyReceipt(receipt, { modelPackage: pkg, requireMode: "zk" })).toMatchObject({ valid: true });
    }
    expect((await readdir(jobsDir)).filter((f) => f.endsWith(".json"))).toHaveLength(6);
    // The same key with another request is refused, not answered with the first one's receipt.
    const reused = await infer(base, 7, { "idempotency-key": keys[0] as string });
    expect(reused.status).toBe(400);
    child?.kill("SIGKILL");
  });
});

describe("inference node whose Redis restarts without persistence", () => {
  it("adds a job Redis lost again under its id, and the client collects its receipt by job id", async () => {
    const redis = await startRedisServer();
    cleanup.push(() => redis.destroy());
    const storage = new FsStorage(await tempDir());
    const queue = createProofQueue({ connection: redis.url, name: "node-lost", storage, pollMs: 250 });
    cleanup.push(() => queue.close());
    const app = await buildServer({
      models: [pkg],
      storage: new MemoryStorage(),
      saltsDir: false,
      jobsDir: await tempDir(),
      queue,
    });
    cleanup.push(() => app.close());
    await app.listen({ host: "127.0.0.1", port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const accepted = await infer(base, 2, { prefer: "respond-async" });
    expect(accepted.status).toBe(202);
    // Redis as the test harness starts it (no AOF, no snapshots): a restart loses every job.
    await redis.stop();
    const again = await startRedisServer({ dir: redis.dir, port: redis.port });
    cleanup.push(() => again.destroy());
    const prover = await startProver({
      connection: redis.url,
      storage,
      cacheDir: await tempDir(),
      queueName: "node-lost",
    });
    cleanup.push(() => prover.close());
    const done = await until(
      () => call(`${base}${accepted.body.statusUrl}`),
      (a) => a.body.status !== "pending",
      "the job is done",
    );
    expect(done.body).toMatchObject({ jobId: accepted.body.jobId, status: "done" });
    expect(await verifyReceipt(done.body.receipt, { modelPackage: pkg, requireMode: "zk" })).toMatchObject({
      valid: true,
    });
  });
});

describe("inference node while its Redis fails", () => {
  let redis: RedisServer;
  let queue: ProofQueue;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    cleanup.push(() => redis.destroy());
    queue = createProofQueue({ connection: redis.url, name: "node-faults" });
    cleanup.push(() => queue.close());
    app = await buildServer({
      models: [pkg],
      storage: new MemoryStorage(),
      saltsDir: false,
      jobsDir: false,
      queue,
      redisTimeoutMs: 1_000,
    });
    cleanup.push(() => app.close());
    await app.listen({ host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  it("answers 503 OVERLOADED with its reason when Redis is out of memory, not a 500", async () => {
    const admin = new Redis(redis.url);
    try {
      await admin.config("SET", "maxmemory", "1");
      const answer = await infer(base, 0);
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ code: "OVERLOADED", reason: "redis-oom" });
      expect(answer.headers.get("retry-after")).toBe("1");
    } finally {
      await admin.config("SET", "maxmemory", "0");
      admin.disconnect();
    }
  });

  it("answers /health, /metrics and submissions at once while Redis is down: 503 + Retry-After, no hang", async () => {
    expect((await call(`${base}/health`)).body).toMatchObject({ ok: true, redis: "ok" });
    await redis.stop();
    const health = await call(`${base}/health`);
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ ok: false, redis: "unreachable" });
    const metrics = await call(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^verinfer_redis_up 0$/m);
    const answer = await infer(base, 1);
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ code: "UNAVAILABLE", reason: "redis-unreachable" });
    expect(answer.headers.get("retry-after")).toBe("1");
    // Redis back (same port and data): the node reports it healthy again, without a restart.
    // (The cleanup registered in beforeAll destroys whichever server `redis` is by then.)
    redis = await startRedisServer({ dir: redis.dir, port: redis.port });
    await until(
      () => call(`${base}/health`),
      (a) => a.status === 200,
      "the node sees Redis again",
    );
  });
});
