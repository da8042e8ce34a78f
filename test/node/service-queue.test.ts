import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../../examples/inference-node/server.js";
import { MemoryStorage, type ModelPackage, type Receipt, verifyReceipt } from "../../src/index.js";
import { createProofQueue, type ProofQueue } from "../../src/queue/create-proof-queue.js";
import { type Prover, startProver } from "../../src/queue/start-prover.js";
import { FsStorage } from "../../src/storage/fs-storage.js";
import { demoPackage, demoSamples, tempDirs } from "../fixtures.js";
import { type RedisServer, startRedisServer } from "../redis-server.js";

const tempDir = tempDirs("verinfer-service-queue-");
let redis: RedisServer;
let pkg: ModelPackage;
const apps: FastifyInstance[] = [];
const queues: ProofQueue[] = [];
let prover: Prover | undefined;

async function node(queue: ProofQueue, maxInFlight?: number): Promise<string> {
  const app = await buildServer({
    models: [pkg],
    storage: new MemoryStorage(),
    saltsDir: false,
    jobsDir: false,
    queue,
    ...(maxInFlight ? { maxInFlight } : {}),
  });
  apps.push(app);
  await app.listen({ host: "127.0.0.1", port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

function infer(base: string, input: number[]) {
  return fetch(`${base}/infer`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ modelId: pkg.id, input }),
  });
}

beforeAll(async () => {
  redis = await startRedisServer();
  pkg = await demoPackage();
});

afterAll(async () => {
  // Queues first: a request still waiting on one is answered when it closes, so the server can close.
  await Promise.allSettled(queues.map((q) => q.close()));
  for (const app of apps) await app.close();
  await prover?.close();
  await redis?.destroy();
  await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
});

describe("inference node on a proof queue", () => {
  it("answers zk receipts proven by a prover on its queue, and reports the queue on /health and /metrics", async () => {
    const storage = new FsStorage(await tempDir());
    const queue = createProofQueue({
      connection: redis.url,
      name: "node",
      storage,
      pollMs: 250,
      recordDir: await tempDir(),
    });
    queues.push(queue);
    prover = await startProver({
      connection: redis.url,
      storage,
      cacheDir: await tempDir(),
      queueName: "node",
      workers: 1,
    });
    const base = await node(queue);
    const response = await infer(base, demoSamples.inputs[0]);
    expect(response.status).toBe(200);
    const { receipt } = (await response.json()) as { receipt: Receipt };
    expect(await verifyReceipt(receipt, { modelPackage: pkg, requireMode: "zk" })).toMatchObject({ valid: true });

    const health = (await (await fetch(`${base}/health`)).json()) as { queue: unknown };
    expect(health.queue).toMatchObject({ name: "node", completed: 1, proven: 1, depth: 0 });
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    const text = await metrics.text();
    expect(text).toContain('verinfer_http_requests_total{route="/infer",status="200"} 1');
    expect(text).toMatch(/^verinfer_proof_queue_depth 0$/m);
    expect(text).toMatch(/^verinfer_proof_queue_completed 1$/m);
    expect(text).toMatch(/^verinfer_proof_queue_proven_total 1$/m);
    expect(text).toMatch(/^verinfer_proof_queue_redelivered_total 0$/m);
    expect(text).toMatch(/^verinfer_prove_duration_seconds_count 1$/m);
    // Labels and values only: no input, salt or commitment reaches the metrics.
    expect(text).not.toContain(receipt.input.commitment);
  });

  // The two jobs that fill the queue are sent at once: a submission that lands between the other's add and the
  // release of its reservation must not see that job twice (job-admission.ts), or it is refused with one job queued.
  it("answers 429 OVERLOADED with Retry-After when the queue is at its maxDepth", async () => {
    // No prover on this queue: two jobs wait, the third is refused — by the queue, as the node admits 8.
    const queue = createProofQueue({
      connection: redis.url,
      name: "node-full",
      maxDepth: 2,
      recordDir: await tempDir(),
    });
    queues.push(queue);
    // The queue's start-up check (Redis settings, recovery scan) first: on a loaded machine it can outlast the
    // node's Redis bound, and a submission would then be a 503 rather than a place in the queue.
    await queue.ready();
    const base = await node(queue, 8);
    const first = [infer(base, demoSamples.inputs[1]), infer(base, demoSamples.inputs[2])];
    // Wait until both are in Redis, then the next one is over the bound. A request answered early (an error) would
    // never be there: say so, with its answer, rather than wait.
    let early: string | undefined;
    for (const sent of first) {
      void sent.then(async (res) => {
        early ??= `${res.status} ${await res.clone().text()}`;
      });
    }
    for (let i = 0; i < 600 && (await queue.stats()).depth < 2 && early === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(early, "a request queued before the bound was answered early").toBeUndefined();
    expect((await queue.stats()).depth).toBe(2);
    const refused = await infer(base, demoSamples.inputs[3]);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.json()).toMatchObject({ code: "OVERLOADED" });
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('verinfer_http_requests_total{route="/infer",status="429"} 1');
    expect(text).toMatch(/^verinfer_proof_queue_rejected_total 1$/m);
    await queue.close();
    // The two held requests were accepted: once their queue closes under them they get their job's handle (the
    // job goes on in Redis), never a refusal that would make a client submit it again.
    for (const r of await Promise.all(first)) {
      expect(r.status).toBe(202);
      expect(await r.json()).toMatchObject({ status: "pending", jobId: expect.stringMatching(/^vi1-/) });
    }
  });
});
