import { performance } from "node:perf_hooks";
import type { Receipt, ReceiptProof } from "./attest/receipt.js";
import { type Groth16ProofBundle, proveGroth16 } from "./circuits/prove-groth16.js";
import type { ProverPool } from "./circuits/prover-pool.js";
import { VerinferError } from "./errors.js";
import { toField } from "./field.js";
import type { ModelPackage } from "./storage/model-package.js";

/** Parameters of {@link proveReceipt}. */
export interface ProveReceiptParams {
  pkg: ModelPackage;
  /** Quantized input. */
  input: readonly bigint[];
  salts: { input: bigint; output: bigint };
  /** A receipt of any mode for this input and these salts; its commitments and outputs are kept. */
  base: Receipt;
  /** Prove on this pool's worker threads instead of in this thread. */
  pool?: ProverPool;
}

/**
 * Proves a receipt's statement with Groth16 and returns it as a `zk` receipt with the same commitments and
 * outputs. The proof's public signals are cross-checked against the receipt: a mismatch means the circuit
 * and the integer reference disagree, which is a bug (`INTERNAL`), never a valid receipt.
 *
 * @example
 * ```ts
 * const zk = await proveReceipt({ pkg, input: xq, salts, base: attestedReceipt });
 * ```
 */
export async function proveReceipt(params: ProveReceiptParams): Promise<Receipt> {
  const { pkg, base, pool } = params;
  let proof: Groth16ProofBundle;
  let proveTimings: Record<string, number>;
  if (pool) {
    const pooled = await pool.prove({ pkg, input: params.input, salts: params.salts });
    proof = pooled;
    proveTimings = { proveMs: pooled.timings.proveMs, proveQueueMs: pooled.timings.queueMs };
  } else {
    const { witness, zkey } = await pkg.provingArtifacts();
    const t = performance.now();
    proof = await proveGroth16({
      witness,
      zkey,
      inputs: { input: params.input, inputSalt: params.salts.input, outputSalt: params.salts.output },
    });
    proveTimings = { proveMs: performance.now() - t };
  }
  return zkReceiptOf(base, proof, proveTimings);
}

/**
 * The zk receipt of a base receipt and a proof of its statement. The proof's public signals are cross-checked
 * against the receipt: a mismatch means the circuit and the integer reference disagree (or a remote prover
 * proved something else), never a valid receipt.
 *
 * @throws VerinferError `INTERNAL` (or `code`) when the public signals are not the receipt's.
 */
export function zkReceiptOf(
  base: Receipt,
  proof: Groth16ProofBundle,
  proveTimings: Record<string, number>,
  code: "INTERNAL" | "PROVE_FAILED" = "INTERNAL",
): Receipt {
  const expected = [
    base.model.commitment,
    base.input.commitment,
    base.output.commitment,
    ...base.output.quantized.map((q) => toField(BigInt(q)).toString()),
  ];
  if (proof.publicSignals.join() !== expected.join()) {
    throw new VerinferError(code, "circuit outputs differ from the integer reference", {
      details: `circuit ${proof.publicSignals.join(",")} vs reference ${expected.join(",")}`,
    });
  }
  // A copy: the zk receipt must not share objects with the receipt it was proven from.
  const { attestation: _attestation, ...rest } = structuredClone(base);
  return {
    ...rest,
    mode: "zk",
    proof: {
      system: "groth16",
      proof: structuredClone(proof.proof) as ReceiptProof["proof"],
      publicSignals: [...proof.publicSignals],
    },
    timings: { ...base.timings, ...proveTimings },
  };
}
