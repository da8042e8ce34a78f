import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Queue, Worker } from "bullmq";
import { Wallet } from "ethers";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Receipt } from "../../src/attest/receipt.js";
import { isVerinferError } from "../../src/errors.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import type { ModelPackage } from "../../src/package/model-package.js";
import { putModelPackage } from "../../src/package/put-model-package.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { createProofQueue, type ProofQueue, type ProofQueueOptions } from "../../src/queue/create-proof-queue.js";
import { proofJobId, queueJob } from "../../src/queue/queue-job.js";
import { type Prover, type StartProverOptions, startProver } from "../../src/queue/start-prover.js";
import { proveReceipt } from "../../src/receipts/prove-receipt.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { FsStorage } from "../../src/storage/fs-storage.js";
import {
  demoPackage,
  demoSamples,
  errorOf,
  ROOT,
  tempDirs,
  tinyCalibration,
  tinyNetwork,
  tinyPackage,
} from "../fixtures.js";
import { type ProverProcess, spawnProver } from "../prover-process.js";
import { resultOf } from "../queue-fixtures.js";
import { type RedisServer, startRedisServer } from "../redis-server.js";

// Each test has its own queue (name), its own provers and, where it matters, its own storage; they share one
// redis-server, started here with the append-only file on, on a free loopback port.
const tempDir = tempDirs("verinfer-queue-");
let redis: RedisServer;
let pkg: ModelPackage;
let storageDir: string;
let storage: FsStorage;
let recordsRoot: string;
const queues: ProofQueue[] = [];
const provers: Prover[] = [];
const processes: ProverProcess[] = [];

/** Test timing: locks and stalled checks of a second or two, so a dead prover's job comes back fast. */
const FAST = { lockDurationMs: 3_000, stalledIntervalMs: 500 };

/** Each producer keeps its job records in a directory of its own, unless a test shares one (a restart). */
function recordDir(name: string): string {
  return path.join(recordsRoot, `${name}-${queues.length}`);
}

function queue(name: string, options: Partial<ProofQueueOptions> = {}): ProofQueue {
  const q = createProofQueue({
    connection: redis.url,
    name,
    storage,
    pollMs: 250,
    backoffMs: 100,
    recordDir: recordDir(name),
    ...options,
  });
  queues.push(q);
  return q;
}

async function prover(queueName: string, options: Partial<StartProverOptions> = {}): Promise<Prover> {
  const p = await startProver({
    connection: redis.url,
    storage,
    cacheDir: await tempDir(),
    queueName,
    workers: 1,
    ...FAST,
    ...options,
  });
  provers.push(p);
  return p;
}

async function proverProcess(queueName: string, name: string): Promise<ProverProcess> {
  const p = await spawnProver({
    redisUrl: redis.url,
    storageDir,
    cacheDir: await tempDir(),
    queue: queueName,
    name,
    lockDurationMs: FAST.lockDurationMs,
    stalledIntervalMs: FAST.stalledIntervalMs,
  });
  processes.push(p);
  return p;
}

/** A receipt of mode "none" (commitments only) for a demo input, with the salts and quantized input to prove it. */
async function statement(i: number, model = pkg) {
  const x = model === pkg ? demoSamples.inputs[i % demoSamples.inputs.length] : tinyCalibration[i % 4];
  const { receipt, salts } = await verifiableInfer(model, x as number[], { mode: "none" });
  return { pkg: model, input: quantizeInput(model.network, x), salts, receipt };
}

/** PLONK packages live in a cache of their own: the tiny model's id is its Groth16 package's (see proof-systems). */
const SYSTEMS_CACHE = path.join(ROOT, ".verinfer-cache", "test-systems");

/** The tiny model under PLONK (a 2^13 dev ptau; cached after the first compile). */
function tinyPlonkPackage(): Promise<ModelPackage> {
  return compileModel(tinyNetwork, {
    calibration: tinyCalibration,
    cacheDir: SYSTEMS_CACHE,
    quiet: true,
    proofSystem: "plonk",
  });
}

async function expectValid(receipt: Receipt, model = pkg): Promise<void> {
  expect(receipt.mode).toBe("zk");
  expect(await verifyReceipt(receipt, { modelPackage: model })).toMatchObject({ valid: true });
}

beforeAll(async () => {
  redis = await startRedisServer({ persistent: true });
  storageDir = await tempDir();
  storage = new FsStorage(storageDir);
  recordsRoot = await tempDir();
  pkg = await demoPackage();
});

afterAll(async () => {
  await Promise.allSettled(processes.map((p) => p.kill9()));
  await Promise.allSettled(provers.map((p) => p.close()));
  await Promise.allSettled(queues.map((q) => q.close()));
  await redis?.destroy();
  await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
});

describe("proof queue on BullMQ and a real redis-server", () => {
  it("proves a statement submitted twice once, and gives both submitters the same receipt", async () => {
    const q = queue("dup");
    const p = await prover("dup");
    const s = await statement(0);
    const [a, b] = await Promise.all([q.submit(s), q.submit(s)]);
    expect(a.jobId).toBe(b.jobId);
    const [ra, rb] = await Promise.all([a.receipt, b.receipt]);
    // Submitted again after it finished: the finished job answers, no new proof.
    const again = await (await q.submit(s)).receipt;
    expect(rb).toEqual(ra);
    expect(again).toEqual(ra);
    await expectValid(ra);
    expect(p.stats.jobsCompleted).toBe(1);
    expect(await q.stats()).toMatchObject({ completed: 1, failed: 0, submitted: 1, duplicates: 2, proven: 3 });
  });

  it("serves verifiableInfer as a drop-in for a pool, and deferred proofs", async () => {
    const q = queue("dropin");
    await prover("dropin");
    const { receipt } = await verifiableInfer(pkg, demoSamples.inputs[1], { queue: q });
    await expectValid(receipt);
    const local = await verifiableInfer(pkg, demoSamples.inputs[1]);
    expect(Object.keys(receipt).sort()).toEqual(Object.keys(local.receipt).sort());
    expect(receipt.output.quantized).toEqual(local.receipt.output.quantized);

    const signer = new Wallet(`0x${"44".repeat(32)}`);
    const attested = await verifiableInfer(pkg, demoSamples.inputs[2], {
      mode: "attest",
      signer,
      deferProof: true,
      queue: q,
    });
    expect(attested.deferred?.id).toMatch(/^vi1-[0-9a-f]{64}$/);
    const zk = await (attested.deferred as { promise: Promise<Receipt> }).promise;
    await expectValid(zk);
    expect(zk.output.commitment).toBe(attested.receipt.output.commitment);
    expect(zk.attestation).toBeUndefined();

    const stats = await q.stats();
    expect(stats.proveMs.count).toBe(2);
    expect(stats.proveMs.p50).toBeGreaterThan(0);
  });

  it("collects a receipt by job id after the producer restarts", async () => {
    const records = await tempDir();
    const first = queue("restart-producer", { recordDir: records });
    const s = await statement(2);
    const handle = await first.submit(s);
    const closed = errorOf(handle.receipt);
    await first.close();
    expect(isVerinferError(await closed, "OVERLOADED")).toBe(true);
    await prover("restart-producer");
    // A new producer with no package in memory: its record names the package (model id, vkey CID, manifest CID),
    // and it fetches the verifier's part of that package from storage.
    const second = queue("restart-producer", { cacheDir: await tempDir(), recordDir: records });
    const receipt = await (await second.get(handle.jobId)).receipt;
    await expectValid(receipt);
    expect(receipt.input.commitment).toBe(s.receipt.input.commitment);
    expect(receipt.output.commitment).toBe(s.receipt.output.commitment);
    expect(isVerinferError(await errorOf(second.get(`vi1-${"0".repeat(64)}`)), "NOT_FOUND")).toBe(true);
  });

  it("refuses past maxDepth with OVERLOADED, at once", async () => {
    const q = queue("full", { maxDepth: 2 });
    await q.submit(await statement(3));
    await q.submit(await statement(4));
    const error = await errorOf(q.submit(await statement(5)));
    expect(isVerinferError(error, "OVERLOADED")).toBe(true);
    expect(await q.stats()).toMatchObject({ depth: 2, rejected: 1, submitted: 2 });
  });

  it("fails a job whose artifact is corrupted with PROVE_FAILED (the prover's claim: ARTIFACT_CORRUPT) and the reason, then runs the next job", async () => {
    const ownDir = await tempDir();
    const own = new FsStorage(ownDir);
    const tiny = await tinyPackage();
    const zkey = tiny.manifest.artifacts.zkey.cid;
    const q = queue("corrupt", { storage: own, attempts: 2 });
    // The producer publishes the package with its first job; the zkey is damaged on the storage after that (a
    // put of the true bytes would repair it), before any prover has fetched it.
    const bad = await q.submit(await statement(0, tiny));
    await writeFile(own.pathOf(zkey), "not a zkey");
    const p = await prover("corrupt", { storage: own });
    const error = await errorOf(bad.receipt);
    // A prover's failure is its (unverified) claim: PROVE_FAILED, the claimed code in meta.
    expect(isVerinferError(error, "PROVE_FAILED") && error.meta?.claimed).toBe("ARTIFACT_CORRUPT");
    expect((error as Error).message).toContain(zkey);
    expect((error as Error).message).toMatch(/hash to/);
    const next = await (await q.submit(await statement(6))).receipt;
    await expectValid(next);
    expect(p.stats).toMatchObject({ jobsFailed: 2, jobsCompleted: 1 });
  });

  it("fails a job whose manifest is of another model than the job's (the prover's claim: ARTIFACT_CORRUPT), fetching nothing", async () => {
    const tiny = await tinyPackage();
    const { manifestCid } = await putModelPackage(storage, tiny);
    const s = await statement(1);
    const jobId = proofJobId({ modelId: pkg.id, inputCommitment: s.receipt.input.commitment, outputSalt: "7" });
    const raw = new Queue("wrong-manifest", { connection: { host: "127.0.0.1", port: redis.port } });
    const data = queueJob({
      jobId,
      modelId: pkg.id,
      manifest: manifestCid,
      secrets: { input: s.input.map(String), salts: { input: String(s.salts.input), output: "7" }, receipt: s.receipt },
      key: undefined,
    });
    await raw.add("prove", data, { jobId, attempts: 1 });
    await raw.close();
    const q = queue("wrong-manifest");
    const cacheDir = await tempDir();
    await prover("wrong-manifest", { cacheDir });
    const error = await errorOf((await q.get(jobId)).receipt);
    // A prover's failure is its (unverified) claim: PROVE_FAILED, the claimed code in meta.
    expect(isVerinferError(error, "PROVE_FAILED") && error.meta?.claimed).toBe("ARTIFACT_CORRUPT");
    expect((error as Error).message).toContain(`is of model ${tiny.id}, not ${pkg.id}`);
    // The manifest was refused before any of the other model's artifacts came into the prover's cache.
    expect(await readdir(cacheDir)).toEqual([]);
  });

  it("redelivers the job of a prover process killed with SIGKILL to another prover, losing nothing", async () => {
    const q = queue("kill");
    const [a, b] = await Promise.all([proverProcess("kill", "prover-a"), proverProcess("kill", "prover-b")]);
    const handles = [];
    for (let i = 0; i < 4; i++) handles.push(await q.submit(await statement(i)));
    const first = await Promise.race([a, b].map((p) => p.waitFor((l) => l.type === "active").then((l) => ({ p, l }))));
    const victim = first.p;
    const survivor = victim === a ? b : a;
    await victim.kill9();
    const receipts = await Promise.all(handles.map((h) => h.receipt));
    for (const receipt of receipts) await expectValid(receipt);
    const killedJob = first.l.jobId as string;
    expect(victim.lines.some((l) => l.type === "completed" && l.jobId === killedJob)).toBe(false);
    expect(survivor.lines.some((l) => l.type === "completed" && l.jobId === killedJob)).toBe(true);
    expect((await q.stats()).redelivered).toBeGreaterThanOrEqual(1);
  });

  it("proves PLONK jobs on its provers, and refuses a prover's Groth16 proof of the same statement", async () => {
    const plonk = await tinyPlonkPackage();
    const groth16 = await tinyPackage();
    expect(plonk.id).toBe(groth16.id);
    expect(plonk.vkeyCid).not.toBe(groth16.vkeyCid);

    const records = await tempDir();
    const q = queue("plonk", { recordDir: records });
    const p = await prover("plonk", { jobTimeoutMs: 600_000 });
    const s = await statement(1, plonk);
    const handle = await q.submit(s);
    const receipt = await handle.receipt;
    expect(receipt.proof?.system).toBe("plonk");
    await expectValid(receipt, plonk);
    expect(p.stats.jobsCompleted).toBe(1);

    // Collected, its record is gone. A producer that holds the model's Groth16 package (it submitted a Groth16 job
    // of it to the same queue) collecting the PLONK job again by id must say which package it asks for: it never
    // takes the package the job in Redis names, nor the one it holds under the same model id.
    await q.close();
    const q2 = queue("plonk", { cacheDir: await tempDir(), recordDir: records });
    const g = await (await q2.submit(await statement(3, groth16))).receipt;
    expect(g.proof?.system).toBe("groth16");
    await expectValid(g, groth16);
    expect(isVerinferError(await errorOf((await q2.get(handle.jobId)).receipt), "ARTIFACT_MISSING")).toBe(true);
    expect(await (await q2.get(handle.jobId, { pkg: plonk })).receipt).toEqual(receipt);

    // A prover that answers with a true Groth16 proof of the same statement (same model id, same public signals):
    // valid under the Groth16 key, but not a proof of the PLONK package the job is for.
    const other = await statement(2, plonk);
    const forged = await proveReceipt({
      pkg: groth16,
      input: other.input,
      salts: { input: BigInt(other.salts.input), output: BigInt(other.salts.output) },
      base: other.receipt,
    });
    expect(forged.proof?.system).toBe("groth16");
    expect(
      await snarkjs.groth16.verify(groth16.vkey, forged.proof?.publicSignals ?? [], forged.proof?.proof as never),
    ).toBe(true);
    const evil = new Worker("plonk-forged", async (job) => resultOf(forged, job.id as string, "evil"), {
      connection: { host: "127.0.0.1", port: redis.port },
    });
    try {
      for (const verifyProofs of [true, false]) {
        const fq = queue("plonk-forged", { verifyProofs });
        const error = await errorOf((await fq.submit(other)).receipt);
        expect(isVerinferError(error, "PROVE_FAILED"), String(error)).toBe(true);
        expect((error as Error).message).toContain("a groth16 proof for a plonk package");
      }
    } finally {
      await evil.close();
    }
  });

  it("retries, not fails, a job whose prover holds another package (key) of the job's model", async () => {
    // No storage: provers load by model id from their cache. A prover whose cache has only the Groth16 package
    // must not prove a PLONK job with it; a prover with the PLONK package then takes the job.
    const plonk = await tinyPlonkPackage();
    await tinyPackage();
    const q = createProofQueue({
      connection: redis.url,
      name: "wrong-key",
      pollMs: 250,
      backoffMs: 100,
      attempts: 3,
      recordDir: await tempDir(),
    });
    queues.push(q);
    const events: { type: string; code?: string; message?: string }[] = [];
    const handle = await q.submit(await statement(3, plonk));
    const wrong = await startProver({
      connection: redis.url,
      cacheDir: path.join(ROOT, ".verinfer-cache", "test"),
      queueName: "wrong-key",
      workers: 1,
      onEvent: (e) => events.push(e),
      ...FAST,
    });
    provers.push(wrong);
    await vi.waitUntil(() => events.some((e) => e.type === "failed"), { timeout: 180_000, interval: 100 });
    await wrong.close();
    const failed = events.find((e) => e.type === "failed");
    expect(failed).toMatchObject({ code: "ARTIFACT_MISSING", final: false });
    expect(failed?.message).toContain(`is for verification key ${plonk.vkeyCid}`);
    await prover("wrong-key", { cacheDir: SYSTEMS_CACHE, storage: undefined, jobTimeoutMs: 600_000 });
    const receipt = await handle.receipt;
    expect(receipt.proof?.system).toBe("plonk");
    await expectValid(receipt, plonk);
    expect(wrong.stats.jobsCompleted).toBe(0);
  });

  it("completes every job that waited while Redis restarted (append-only file on)", async () => {
    const q = queue("redis-restart");
    const handles = [];
    for (let i = 0; i < 3; i++) handles.push(await q.submit(await statement(i + 1)));
    const { dir, port } = redis;
    await redis.stop();
    redis = await startRedisServer({ persistent: true, dir, port });
    await prover("redis-restart");
    const receipts = await Promise.all(handles.map((h) => h.receipt));
    for (const receipt of receipts) await expectValid(receipt);
    expect(await q.stats()).toMatchObject({ completed: 3, failed: 0 });
  });
});
