// The inference node's job handles (issue 18): 202 + GET /jobs/:id past the wait budget, Idempotency-Key
// retries, backpressure from measured proving time, and its disk checked before a proof is spent.
import { readdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer, type InferenceNodeOptions } from "../../examples/inference-node/server.js";
import { FsStorage, MemoryStorage, type ModelPackage, VerinferError, verifyReceipt } from "../../src/index.js";
import { demoPackage, demoSamples, ROOT, TEST_CACHE, tempDirs } from "../fixtures.js";

const tempDir = tempDirs("verinfer-service-jobs-");
const apps: FastifyInstance[] = [];
let pkg: ModelPackage;

beforeAll(async () => {
  pkg = await demoPackage();
});
afterAll(async () => {
  for (const app of apps) await app.close();
});

async function node(options: Partial<InferenceNodeOptions> = {}): Promise<string> {
  const app = await buildServer({ models: [pkg], storage: new MemoryStorage(), saltsDir: false, ...options });
  apps.push(app);
  await app.listen({ host: "127.0.0.1", port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: bodies are checked field by field.
  body: any;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  for (const dir of [TEST_CACHE, ROOT, os.tmpdir()]) expect(text).not.toContain(dir);
  return { status: response.status, headers: response.headers, text, body };
}

const input = (i: number) => demoSamples.inputs[i % demoSamples.inputs.length] as number[];

function infer(base: string, i: number, headers: Record<string, string> = {}, mode = "zk"): Promise<Answer> {
  return call(`${base}/infer`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ modelId: pkg.id, input: input(i), mode }),
  });
}

async function collect(base: string, statusUrl: string): Promise<Answer> {
  for (let i = 0; i < 600; i++) {
    const answer = await call(`${base}${statusUrl}`);
    if (answer.body?.status !== "pending") return answer;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${statusUrl} stayed pending`);
}

describe("inference node job handles", () => {
  it("answers 202 with the job's handle past the wait budget, and GET /jobs/:id collects the receipt", async () => {
    const base = await node({ jobsDir: await tempDir(), waitMs: 0 });
    const accepted = await infer(base, 0);
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ status: "pending", jobId: expect.stringMatching(/^vi1-[0-9a-f]{64}$/) });
    expect(accepted.headers.get("location")).toBe(accepted.body.statusUrl);
    expect(Number(accepted.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const done = await collect(base, accepted.body.statusUrl);
    expect(done.body).toMatchObject({ jobId: accepted.body.jobId, status: "done" });
    expect(await verifyReceipt(done.body.receipt, { modelPackage: pkg, requireMode: "zk" })).toMatchObject({
      valid: true,
    });
    expect((await call(`${base}/receipts/${done.body.cid}`)).body).toEqual(done.body.receipt);
    expect((await call(`${base}/jobs/vi1-${"0".repeat(64)}`)).status).toBe(404);
    expect((await call(`${base}/jobs/not-a-job`)).status).toBe(400);
  });

  it("gives a retry with the same Idempotency-Key the same job and receipt, and refuses the key with another request", async () => {
    const jobsDir = await tempDir();
    const storage = new FsStorage(await tempDir());
    const base = await node({ jobsDir, storage });
    const [a, b] = await Promise.all([
      infer(base, 1, { "idempotency-key": "order-42" }),
      infer(base, 1, { "idempotency-key": "order-42" }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.body.jobId).toBe(a.body.jobId);
    expect(b.body.cid).toBe(a.body.cid);
    const again = await infer(base, 1, { "idempotency-key": "order-42" });
    expect(again.body).toEqual(a.body);
    // Attested and plain receipts too: the second call gets the first one's receipt, not a new one.
    const none = await infer(base, 2, { "idempotency-key": "plain-1" }, "none");
    expect((await infer(base, 2, { "idempotency-key": "plain-1" }, "none")).body.cid).toBe(none.body.cid);

    const other = await infer(base, 3, { "idempotency-key": "order-42" });
    expect(other.status).toBe(400);
    expect(other.body.code).toBe("INVALID_INPUT");
    for (const bad of ["", "x".repeat(129), "two words"]) {
      const answer = await call(`${base}/infer`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": bad },
        body: JSON.stringify({ modelId: pkg.id, input: input(0) }),
      });
      expect(answer.status, JSON.stringify(bad)).toBe(400);
    }
    // A node started on the same records answers the key with the same receipt, without proving again.
    const restarted = await node({ jobsDir, storage });
    const later = await infer(restarted, 1, { "idempotency-key": "order-42" });
    expect(later.status).toBe(200);
    expect(later.body).toEqual(a.body);
  });

  it("refuses a zk request with 429 + Retry-After while a new proof would take longer than its budget", async () => {
    const base = await node({ jobsDir: false, admitWaitMs: 1 });
    // An idle node admits (before any measurement, and with a free prover however slow its last proofs were).
    const first = await infer(base, 4, { "idempotency-key": "first" });
    expect(first.status).toBe(200);
    // A proof running now (answered 202 at once): a new one would wait for it, past the 1 ms budget.
    expect((await infer(base, 5, { prefer: "respond-async" })).status).toBe(202);
    const refused = await infer(base, 6);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: "OVERLOADED", reason: "slow" });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // The estimate is of proofs: a request that needs none is let in, and so is a retry of a job it holds.
    expect((await infer(base, 7, {}, "none")).status).toBe(200);
    expect((await infer(base, 4, { "idempotency-key": "first" })).body.cid).toBe(first.body.cid);
  });

  it("answers 507 STORAGE_FULL before spending a proof when its disk lacks room, and 507 when a write fails full", async () => {
    const jobsDir = await tempDir();
    const full = await node({ jobsDir, storage: undefined, cacheDir: await tempDir(), minFreeBytes: 2 ** 60 });
    const answer = await infer(full, 5);
    expect(answer.status).toBe(507);
    expect(answer.body).toMatchObject({ code: "STORAGE_FULL", reason: "disk-full" });
    expect((await call(`${full}/health`)).body).toMatchObject({ ok: false, disk: "STORAGE_FULL" });

    const storage = new MemoryStorage();
    storage.put = async () => {
      throw new VerinferError("STORAGE_FULL", "the storage is full: cannot write a file (ENOSPC)");
    };
    const failing = await node({ jobsDir: false, storage });
    const refused = await infer(failing, 6, {}, "none");
    expect(refused.status).toBe(507);
    expect(refused.body).toMatchObject({ code: "STORAGE_FULL" });
  });

  it("runs the same job again when a keyed retry follows a failure that has passed (the disk filled up, then not)", async () => {
    const jobsDir = await tempDir();
    const storage = new MemoryStorage();
    const put = storage.put.bind(storage);
    let full = true;
    storage.put = async (bytes) => {
      if (full) throw new VerinferError("STORAGE_FULL", "the storage is full: cannot write a file (ENOSPC)");
      return put(bytes);
    };
    const base = await node({ jobsDir, storage });
    const first = await infer(base, 7, { "idempotency-key": "disk-was-full" });
    expect(first.status).toBe(507);
    full = false;
    const again = await infer(base, 7, { "idempotency-key": "disk-was-full" });
    expect(again.status).toBe(200);
    expect(await verifyReceipt(again.body.receipt, { modelPackage: pkg, requireMode: "zk" })).toMatchObject({
      valid: true,
    });
    // One job, not a second one under new salts: the job id handed out for the key stays the key's.
    expect((await readdir(jobsDir)).filter((f) => f.endsWith(".json"))).toEqual([`${again.body.jobId}.json`]);
  });
});
