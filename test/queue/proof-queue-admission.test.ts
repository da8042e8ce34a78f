import path from "node:path";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isVerinferError } from "../../src/errors.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import type { ModelPackage } from "../../src/package/model-package.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { createProofQueue, type ProofHandle, type ProofQueue } from "../../src/queue/create-proof-queue.js";
import { JobAdmission } from "../../src/queue/job-admission.js";
import { FsStorage } from "../../src/storage/fs-storage.js";
import { demoPackage, demoSamples, tempDirs } from "../fixtures.js";
import { type RedisServer, startRedisServer } from "../redis-server.js";

// maxDepth is a promise made across producers: however many inference nodes submit at once, no more than
// maxDepth jobs are ever admitted to wait, and every admitted job is in Redis. No prover runs here, so every
// admitted job stays waiting and can be counted.
const tempDir = tempDirs("verinfer-admission-");
let redis: RedisServer;
let pkg: ModelPackage;
let storage: FsStorage;
let recordsRoot: string;
const queues: ProofQueue[] = [];

function producer(name: string, maxDepth: number): ProofQueue {
  const recordDir = path.join(recordsRoot, `${name}-${queues.length}`);
  const q = createProofQueue({ connection: redis.url, name, storage, maxDepth, pollMs: 250, recordDir });
  queues.push(q);
  return q;
}

async function statement(i: number) {
  const x = demoSamples.inputs[i % demoSamples.inputs.length] as number[];
  // Fresh salts each time: every statement is its own job.
  const { receipt, salts } = await verifiableInfer(pkg, x, { mode: "none" });
  return { pkg, input: quantizeInput(pkg.network, x), salts, receipt };
}

/** Submits every statement at once, alternating producers; → the handles admitted and the errors of the rest. */
async function storm(producers: ProofQueue[], count: number) {
  const statements = await Promise.all(Array.from({ length: count }, (_, i) => statement(i)));
  const settled = await Promise.allSettled(
    statements.map((s, i) => (producers[i % producers.length] as ProofQueue).submit(s)),
  );
  const admitted = settled
    .filter((r) => r.status === "fulfilled")
    .map((r) => (r as PromiseFulfilledResult<ProofHandle>).value);
  const refused = settled.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason);
  return { admitted, refused };
}

async function waitingIds(name: string): Promise<string[]> {
  const raw = new Queue(name, { connection: { host: "127.0.0.1", port: redis.port } });
  try {
    const jobs = await raw.getJobs(["waiting", "prioritized", "delayed"]);
    return jobs.map((j) => j.id as string).sort();
  } finally {
    await raw.close();
  }
}

beforeAll(async () => {
  redis = await startRedisServer();
  storage = new FsStorage(await tempDir());
  recordsRoot = await tempDir();
  pkg = await demoPackage();
});

afterAll(async () => {
  await Promise.allSettled(queues.map((q) => q.close()));
  await redis?.destroy();
  await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
});

describe("proof queue admission (maxDepth) under concurrent producers", () => {
  it("admits at most maxDepth of 40 simultaneous submissions from two producers, and loses none it admitted", async () => {
    const maxDepth = 5;
    const a = producer("storm", maxDepth);
    const b = producer("storm", maxDepth);
    const { admitted, refused } = await storm([a, b], 40);
    expect(admitted.length).toBeLessThanOrEqual(maxDepth);
    // The queue was empty: refusing while there is room would be a bug of its own.
    expect(admitted.length).toBe(maxDepth);
    expect(refused).toHaveLength(40 - maxDepth);
    for (const error of refused) expect(isVerinferError(error, "OVERLOADED")).toBe(true);
    expect(await waitingIds("storm")).toEqual(admitted.map((h) => h.jobId).sort());
    const [sa, sb] = await Promise.all([a.stats(), b.stats()]);
    expect(sa.depth).toBe(maxDepth);
    expect(sa.submitted + sb.submitted).toBe(maxDepth);
    expect(sa.rejected + sb.rejected).toBe(40 - maxDepth);
  });

  it("admits again as room frees up, still never past maxDepth", async () => {
    const maxDepth = 3;
    const a = producer("refill", maxDepth);
    const b = producer("refill", maxDepth);
    const first = await storm([a, b], 12);
    expect(first.admitted).toHaveLength(maxDepth);
    // A prover takes two jobs (and holds them): they leave the waiting state, two more are admitted, no more.
    // (Removing them from Redis instead would not do: their producers would add them again from their records.)
    const taker = new Worker("refill", () => new Promise(() => undefined), {
      connection: { host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: null },
      concurrency: 2,
    });
    try {
      for (let i = 0; i < 200 && (await a.stats()).active < 2; i++) await new Promise((r) => setTimeout(r, 50));
      expect((await a.stats()).active).toBe(2);
      const second = await storm([a, b], 12);
      expect(second.admitted).toHaveLength(2);
      expect((await waitingIds("refill")).length).toBe(maxDepth);
    } finally {
      await taker.close(true);
    }
  });

  it("counts a job once between its add and the release of its reservation (a second submission then is not refused early)", async () => {
    // The moment the full-suite run of the node's 429 test hit: job a is in Redis but its reservation not yet
    // dropped. Counting it twice refused b with one job waiting; counting it not at all would admit c past the bound.
    const client = new Redis(redis.port, "127.0.0.1", { maxRetriesPerRequest: null });
    const raw = new Queue("window", { connection: client });
    const admission = new JobAdmission(raw, client);
    try {
      expect((await admission.reserve("a", 2)).reservation).toBe("a");
      await raw.add("prove", {}, { jobId: "a" });
      const b = await admission.reserve("b", 2);
      expect(b).toEqual({ reservation: "b", depth: 1 });
      const c = await admission.reserve("c", 2);
      expect(c).toEqual({ reservation: undefined, depth: 2 });
      await admission.release("a");
      await admission.release("b");
      // b was never added: with its reservation gone, a alone waits and there is room again.
      expect(await admission.reserve("c", 2)).toEqual({ reservation: "c", depth: 1 });
    } finally {
      await raw.close();
      client.disconnect();
    }
  });
});
