import { Redis } from "ioredis";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isVerinferError } from "../../src/errors.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import type { ModelPackage } from "../../src/package/model-package.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { createProofQueue, type ProofQueue } from "../../src/queue/create-proof-queue.js";
import { redisOptionsFromUrl } from "../../src/queue/redis-connection.js";
import { type Prover, type ProverEvent, startProver } from "../../src/queue/start-prover.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { FsStorage } from "../../src/storage/fs-storage.js";
import { demoPackage, demoSamples, errorOf, runCli, tempDirs } from "../fixtures.js";
import { type RedisServer, startRedisServer } from "../redis-server.js";

describe("Redis URLs", () => {
  it("reads host, port, user, password (percent-decoded) and database from a redis:// URL", () => {
    expect(redisOptionsFromUrl("redis://queue:p%40ss%2Fw0rd@10.0.0.5:6380/3")).toEqual({
      host: "10.0.0.5",
      port: 6380,
      username: "queue",
      password: "p@ss/w0rd",
      db: 3,
    });
    expect(redisOptionsFromUrl("redis://127.0.0.1")).toEqual({ host: "127.0.0.1", port: 6379 });
    expect(redisOptionsFromUrl("redis://:secret@[::1]:7000")).toEqual({ host: "::1", port: 7000, password: "secret" });
  });

  it("turns TLS on for rediss://, checking the server's certificate under the URL's host name", () => {
    expect(redisOptionsFromUrl("rediss://:secret@redis.internal:6380")).toEqual({
      host: "redis.internal",
      port: 6380,
      password: "secret",
      tls: { servername: "redis.internal" },
    });
  });

  it("refuses other schemes, query strings, bad ports and databases, without repeating the password", () => {
    for (const url of [
      "http://:hunter2@localhost:6379",
      "redis://:hunter2@localhost:6379?tls=false",
      "redis://:hunter2@localhost:99999",
      "redis://:hunter2@localhost/db1",
      "redis://:hunter2@:6379",
      "not a url hunter2",
    ]) {
      let error: unknown;
      try {
        redisOptionsFromUrl(url);
      } catch (e) {
        error = e;
      }
      expect(isVerinferError(error, "INVALID_OPTIONS"), url).toBe(true);
      expect((error as Error).message).not.toContain("hunter2");
    }
  });

  it("makes `verinfer prover` exit 2 without a Redis URL, or with a bad one, never printing its password", async () => {
    const none = await runCli(["prover"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("INVALID_OPTIONS");
    const bad = await runCli(["prover", "--redis", "http://:hunter2@localhost:6379"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr + bad.stdout).not.toContain("hunter2");
  });
});

const PASSWORD = "s3cret/with@odd chars";
const KEY = "11".repeat(32);
const tempDir = tempDirs("verinfer-queue-conf-");
let redis: RedisServer;
let raw: Redis;
let pkg: ModelPackage;
let storage: FsStorage;
const queues: ProofQueue[] = [];
const provers: Prover[] = [];

beforeAll(async () => {
  redis = await startRedisServer({ password: PASSWORD });
  raw = new Redis({ ...redisOptionsFromUrl(redis.url), maxRetriesPerRequest: 1 });
  storage = new FsStorage(await tempDir());
  pkg = await demoPackage();
});

afterAll(async () => {
  await Promise.allSettled(provers.map((p) => p.close()));
  await Promise.allSettled(queues.map((q) => q.close()));
  raw?.disconnect();
  await redis?.destroy();
  await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
});

async function statement(i: number) {
  const x = demoSamples.inputs[i] as number[];
  const { receipt, salts } = await verifiableInfer(pkg, x, { mode: "none" });
  return { pkg, input: quantizeInput(pkg.network, x), salts, receipt };
}

describe("what Redis sees", () => {
  it("holds the input and salts in clear without a payload key (documented), over a password-protected Redis", async () => {
    expect(redis.url).toContain(encodeURIComponent(PASSWORD));
    const q = createProofQueue({ connection: redis.url, name: "clear", recordDir: await tempDir(), storage });
    queues.push(q);
    const s = await statement(0);
    const { jobId } = await q.submit(s);
    const data = (await raw.hget(`bull:clear:${jobId}`, "data")) as string;
    expect(data).toContain(s.salts.output);
    expect(data).toContain(s.salts.input);
  });

  it("with a payload key holds only ciphertext of the input, salts, receipt and result; provers with the key prove", async () => {
    const events: ProverEvent[] = [];
    const q = createProofQueue({
      connection: redis.url,
      name: "sealed",
      storage,
      payloadKey: KEY,
      pollMs: 250,
      recordDir: await tempDir(),
    });
    queues.push(q);
    const s = await statement(1);
    const handle = await q.submit(s);
    const data = (await raw.hget(`bull:sealed:${handle.jobId}`, "data")) as string;
    for (const secret of [s.salts.input, s.salts.output, s.receipt.input.commitment, s.input.join(",")]) {
      expect(data).not.toContain(secret);
    }
    expect(JSON.parse(data)).toMatchObject({ modelId: pkg.id, sealed: { iv: expect.any(String) } });
    provers.push(
      await startProver({
        connection: redis.url,
        storage,
        cacheDir: await tempDir(),
        queueName: "sealed",
        workers: 1,
        payloadKey: KEY,
        onEvent: (e) => events.push(e),
      }),
    );
    const receipt = await handle.receipt;
    expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
    const result = (await raw.hget(`bull:sealed:${handle.jobId}`, "returnvalue")) as string;
    expect(result).not.toContain(receipt.output.commitment);
    expect(JSON.parse(result)).toMatchObject({ sealed: { tag: expect.any(String) } });
    // What the prover reports (and `verinfer prover` logs) names jobs and models, never inputs or salts.
    // This Redis has no append-only file: the prover says so at start, before its first job.
    expect(events.map((e) => e.type)).toEqual(["warning", "active", "completed"]);
    expect(events[0]).toMatchObject({ code: "REDIS_NOT_PERSISTENT" });
    const told = JSON.stringify(events);
    for (const secret of [s.salts.input, s.salts.output, s.input.join(",")]) expect(told).not.toContain(secret);
  });

  it("fails a sealed job on a prover without the key, and a producer without the key cannot read it", async () => {
    const q = createProofQueue({
      connection: redis.url,
      name: "nokey",
      recordDir: await tempDir(),
      storage,
      payloadKey: KEY,
      attempts: 1,
    });
    queues.push(q);
    provers.push(
      await startProver({ connection: redis.url, storage, cacheDir: await tempDir(), queueName: "nokey", workers: 1 }),
    );
    const handle = await q.submit(await statement(2));
    // A prover's failure is its (unverified) claim: PROVE_FAILED, the code it claims in meta.
    const failure = await errorOf(handle.receipt);
    expect(isVerinferError(failure, "PROVE_FAILED") && failure.meta?.claimed).toBe("INVALID_OPTIONS");

    const other = createProofQueue({
      connection: redis.url,
      name: "sealed",
      storage,
      payloadKey: "22".repeat(32),
      recordDir: await tempDir(),
    });
    queues.push(other);
    const done = (await raw.keys("bull:sealed:vi1-*"))
      .filter((k) => k.split(":").length === 3)
      .map((k) => k.split(":")[2] as string);
    const error = await errorOf((await other.get(done[0] as string, { pkg })).receipt);
    expect(isVerinferError(error, "MALFORMED_RECEIPT")).toBe(true);
  });
});
