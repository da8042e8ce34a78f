/**
 * Shared helpers of the proof-queue tests and bench/faults.ts: a prover's result built by hand (what a rogue or
 * evil prover returns), and a proof queue with the tests' short timings.
 */
import type { Job } from "bullmq";
import type { Receipt } from "../src/attest/receipt.js";
import type { ModelPackage } from "../src/package/model-package.js";
import { createProofQueue, type ProofQueue, type ProofQueueOptions } from "../src/queue/create-proof-queue.js";
import { type QueueJob, type QueueResult, queueResult } from "../src/queue/queue-job.js";
import { proveReceipt } from "../src/receipts/prove-receipt.js";

/** A clear (unsealed) job's secrets; throws for a sealed job (these helpers run without a payload key). */
export function clearSecrets(job: Job): NonNullable<QueueJob["secrets"]> {
  const secrets = (job.data as QueueJob).secrets;
  if (!secrets) throw new Error("expects a job without a payload key");
  return secrets;
}

/** Proves a job's statement (from its clear secrets) with `pkg`, whatever package the job names. */
export async function proveSecrets(pkg: ModelPackage, secrets: NonNullable<QueueJob["secrets"]>): Promise<Receipt> {
  return await proveReceipt({
    pkg,
    input: secrets.input.map(BigInt),
    salts: { input: BigInt(secrets.salts.input), output: BigInt(secrets.salts.output) },
    base: secrets.receipt as Receipt,
  });
}

/** The unsealed return value a prover named `prover` gives for `jobId`: the zk receipt's proof. */
export function resultOf(zk: Receipt, jobId: string, prover: string, proveMs = 1): QueueResult {
  return queueResult(
    {
      proof: zk.proof?.proof as never,
      publicSignals: zk.proof?.publicSignals ?? [],
      timings: { queueMs: 0, loadMs: 0, proveMs },
      prover,
    },
    undefined,
    jobId,
  );
}

/**
 * A rogue prover's work on a job: rewrites the job in Redis to name `rogue`'s package (its copy of the receipt
 * and its manifest), then proves the statement with `rogue` and returns that result.
 */
export async function rogueProve(job: Job, rogue: ModelPackage, rogueManifest: string): Promise<QueueResult> {
  const data = structuredClone(job.data) as QueueJob;
  const secrets = clearSecrets({ data } as Job);
  secrets.receipt.model.vkey = rogue.vkeyCid;
  await job.updateData({ ...data, manifest: rogueManifest, secrets });
  return resultOf(await proveSecrets(rogue, secrets), job.id as string, "rogue");
}

/** A proof queue on `url` with the tests' short poll and backoff, warnings silenced. */
export function testQueue(url: string, name: string, options: Partial<ProofQueueOptions> = {}): ProofQueue {
  return createProofQueue({
    connection: url,
    name,
    pollMs: 250,
    backoffMs: 100,
    onWarning: () => undefined,
    ...options,
  });
}
