import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomSalt } from "../../src/attest/commitments.js";
import { proveGroth16 } from "../../src/circuits/prove-groth16.js";
import { isVerinferError } from "../../src/errors.js";
import { integerForward } from "../../src/models/integer-forward.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import type { ModelPackage } from "../../src/package/model-package.js";
import { verifiableInfer, verifiableInferBatch } from "../../src/pipeline/verifiable-infer.js";
import { createProverPool, type ProverPool, type ProverPoolJob } from "../../src/receipts/prover-pool.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { ArtifactStore } from "../../src/storage/artifact-store.js";
import { demoPackage, demoSamples, errorOf, TEST_CACHE } from "../fixtures.js";

// The pool runs the worker built into dist/ (`npm test` builds before vitest runs). Workers copy this
// environment when they start; it arms the worker's crash hook, which is inert without it.
process.env.VERINFER_TEST_CRASH = "1";

let pkg: ModelPackage;
const pools: ProverPool[] = [];

function pool(options: Parameters<typeof createProverPool>[0]): ProverPool {
  const p = createProverPool(options);
  pools.push(p);
  return p;
}

function job(i: number): ProverPoolJob & { pkg: ModelPackage } {
  return {
    pkg,
    input: quantizeInput(pkg.network, demoSamples.inputs[i % demoSamples.inputs.length]),
    salts: { input: randomSalt(), output: randomSalt() },
  };
}

async function verifies(proof: { proof: unknown; publicSignals: string[] }): Promise<boolean> {
  return snarkjs.groth16.verify(pkg.vkey, proof.publicSignals, proof.proof);
}

beforeAll(async () => {
  pkg = await demoPackage();
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
});

describe("prover pool", () => {
  it("proves on worker threads: the proofs verify and state what in-process proving states", async () => {
    const p = pool({ workers: 2, maxQueue: 4 });
    const jobs = [job(0), job(1), job(2)];
    const byId = { modelId: pkg.id, cacheDir: TEST_CACHE, input: job(3).input, salts: job(3).salts };
    const proofs = await Promise.all([...jobs.map((j) => p.prove(j)), p.prove(byId)]);
    for (const proof of proofs) expect(await verifies(proof)).toBe(true);
    const { witness, zkey } = await pkg.provingArtifacts();
    const reference = await proveGroth16({
      witness,
      zkey,
      inputs: { input: byId.input, inputSalt: byId.salts.input, outputSalt: byId.salts.output },
    });
    expect(proofs[3]?.publicSignals).toEqual(reference.publicSignals);
    expect(p.stats).toMatchObject({ completed: 4, failed: 0, queued: 0, running: 0 });
  });

  it("gives verifiableInfer a zk receipt that verifies, with the same shape as one proven in process", async () => {
    const p = pool({ workers: 1 });
    const input = demoSamples.inputs[2];
    const pooled = await verifiableInfer(pkg, input, { pool: p });
    const local = await verifiableInfer(pkg, input);
    expect(pooled.receipt.mode).toBe("zk");
    expect(await verifyReceipt(pooled.receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
    expect(Object.keys(pooled.receipt).sort()).toEqual(Object.keys(local.receipt).sort());
    expect(pooled.receipt.output.quantized).toEqual(local.receipt.output.quantized);
    expect(pooled.receipt.timings.proveQueueMs).toBeGreaterThanOrEqual(0);
  });

  it("proves a batch side by side on the pool's workers, each receipt valid and in input order", async () => {
    const p = pool({ workers: 2, maxQueue: 4 });
    const inputs = demoSamples.inputs.slice(0, 4);
    const results = await verifiableInferBatch(pkg, inputs, { pool: p });
    expect(results).toHaveLength(4);
    for (const [b, { receipt }] of results.entries()) {
      expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
      const expected = integerForward(pkg.network, quantizeInput(pkg.network, inputs[b])).output.map(String);
      expect(receipt.output.quantized).toEqual(expected);
    }
    expect(p.stats.completed).toBe(4);
  });

  it("reports a job the circuit rejects, or a model not in the cache, with its own error code", async () => {
    const p = pool({ workers: 1 });
    const short = { ...job(0), input: job(0).input.slice(1) };
    expect(await errorOf(p.prove(short))).toSatisfy((e) => isVerinferError(e, "PROVE_FAILED"));
    const missing = { modelId: `0x${"ab".repeat(32)}`, cacheDir: TEST_CACHE, input: job(0).input, salts: job(0).salts };
    expect(await errorOf(p.prove(missing))).toSatisfy((e) => isVerinferError(e, "ARTIFACT_MISSING"));
    expect(await errorOf(p.prove({ ...job(0), input: [1, 2] as unknown as bigint[] }))).toSatisfy((e) =>
      isVerinferError(e, "INVALID_INPUT"),
    );
    expect(await verifies(await p.prove(job(1)))).toBe(true);
  });

  it("re-checks the zkey's hash on the worker: a corrupted zkey is ARTIFACT_CORRUPT, never a proof", async () => {
    const cacheDir = await mkdtemp(path.join(os.tmpdir(), "verinfer-pool-"));
    try {
      for (const dir of ["objects", "models"]) {
        await cp(path.join(TEST_CACHE, dir), path.join(cacheDir, dir), { recursive: true });
      }
      const zkey = pkg.manifest.artifacts.zkey;
      await writeFile(new ArtifactStore(cacheDir).pathOf(zkey.sha256), Buffer.alloc(zkey.size, 7));
      const p = pool({ workers: 1 });
      const corrupt = { modelId: pkg.id, cacheDir, input: job(0).input, salts: job(0).salts };
      expect(await errorOf(p.prove(corrupt))).toSatisfy((e) => isVerinferError(e, "ARTIFACT_CORRUPT"));
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  it("refuses jobs beyond workers + maxQueue at once with OVERLOADED, and proves the ones it accepted", async () => {
    const p = pool({ workers: 1, maxQueue: 1 });
    const events: string[] = [];
    const submitted = [0, 1, 2, 3].map((i) =>
      p.prove(job(i)).then(
        (proof) => {
          events.push(`proved ${i}`);
          return proof;
        },
        (error: unknown) => {
          events.push(`refused ${i}`);
          return error;
        },
      ),
    );
    expect(p.stats).toMatchObject({ rejected: 2 });
    expect(p.stats.queued + p.stats.running).toBe(2);
    const [first, second, third, fourth] = await Promise.all(submitted);
    expect(third).toSatisfy((e) => isVerinferError(e, "OVERLOADED"));
    expect(fourth).toSatisfy((e) => isVerinferError(e, "OVERLOADED"));
    // Refused before any accepted job finished: backpressure, not a place in the queue.
    expect(events.slice(0, 2).sort()).toEqual(["refused 2", "refused 3"]);
    expect(await verifies(first as never)).toBe(true);
    expect(await verifies(second as never)).toBe(true);
    expect(await verifies(await p.prove(job(4)))).toBe(true);
  });

  it("fails a job past its timeout with TIMEOUT, replaces its worker, and proves the next job", async () => {
    const p = pool({ workers: 1, jobTimeoutMs: 1 });
    expect(await errorOf(p.prove(job(0)))).toSatisfy((e) => isVerinferError(e, "TIMEOUT"));
    const next = await p.prove({ ...job(1), timeoutMs: 120_000 });
    expect(await verifies(next)).toBe(true);
    expect(p.stats).toMatchObject({ completed: 1, failed: 1 });
  });

  it("close() finishes the jobs in flight, refuses new ones, then stops", async () => {
    const p = pool({ workers: 1, maxQueue: 3 });
    const inFlight = [0, 1, 2].map((i) => p.prove(job(i)));
    const closing = p.close();
    expect(p.closed).toBe(true);
    expect(await errorOf(p.prove(job(3)))).toSatisfy((e) => isVerinferError(e, "OVERLOADED"));
    for (const proof of await Promise.all(inFlight)) expect(await verifies(proof)).toBe(true);
    await closing;
    expect(p.stats).toMatchObject({ completed: 3, queued: 0, running: 0 });
    expect(await errorOf(p.prove(job(4)))).toSatisfy((e) => isVerinferError(e, "OVERLOADED"));
  });

  it("gives the caller PROVE_FAILED when its worker exits or throws, and goes on proving", async () => {
    const p = pool({ workers: 1, maxQueue: 2 });
    const exiting = p.prove(Object.assign(job(0), { testCrash: "exit" }));
    const behind = p.prove(job(1));
    expect(await errorOf(exiting)).toSatisfy((e) => isVerinferError(e, "PROVE_FAILED"));
    expect(await verifies(await behind)).toBe(true);
    const throwing = p.prove(Object.assign(job(2), { testCrash: "throw" }));
    expect(await errorOf(throwing)).toSatisfy((e) => isVerinferError(e, "PROVE_FAILED"));
    expect(await verifies(await p.prove(job(3)))).toBe(true);
    expect(p.stats).toMatchObject({ completed: 2, failed: 2 });
  });

  it("rejects bad options with INVALID_OPTIONS", () => {
    expect(() => createProverPool({ workers: 0 })).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
    expect(() => createProverPool({ maxQueue: -1 })).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
    expect(() => createProverPool({ jobTimeoutMs: 0 })).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
  });
});
