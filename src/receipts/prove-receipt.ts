import { performance } from "node:perf_hooks";
import type { Receipt, ReceiptProof } from "../attest/receipt.js";
import { VerinferError } from "../errors.js";
import type { ModelPackage } from "../package/model-package.js";
import type { ProofSystem } from "../proof-systems/proof-system.js";
import { proveCircuit, type SnarkProofBundle } from "../proof-systems/prove-circuit.js";
import { toField } from "../util/field.js";
import type { ProverPool } from "./prover-pool.js";

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
 * Proves a receipt's statement in the package's proof system (Groth16, PLONK or FFLONK) and returns it as a
 * `zk` receipt with the same commitments and outputs. The proof's public signals are cross-checked against the
 * receipt: a mismatch means the circuit and the integer reference disagree, which is a bug (`INTERNAL`), never a
 * valid receipt.
 *
 * @example
 * ```ts
 * const zk = await proveReceipt({ pkg, input: xq, salts, base: attestedReceipt });
 * ```
 */
export async function proveReceipt(params: ProveReceiptParams): Promise<Receipt> {
  const { pkg, base, pool } = params;
  let proof: SnarkProofBundle;
  let proveTimings: Record<string, number>;
  if (pool) {
    const pooled = await pool.prove({ pkg, input: params.input, salts: params.salts });
    proof = pooled;
    proveTimings = { proveMs: pooled.timings.proveMs, proveQueueMs: pooled.timings.queueMs };
  } else {
    const { witness, zkey, r1cs } = await pkg.provingArtifacts();
    const t = performance.now();
    proof = await proveCircuit({
      system: pkg.manifest.proofSystem,
      witness,
      zkey,
      ...(r1cs ? { r1cs } : {}),
      inputs: { input: params.input, inputSalt: params.salts.input, outputSalt: params.salts.output },
    });
    proveTimings = { proveMs: performance.now() - t };
  }
  return zkReceiptOf(base, proof, proveTimings, { system: pkg.manifest.proofSystem });
}

/**
 * The zk receipt of a base receipt and a proof of its statement. The proof's system must be the package's and its
 * public signals the receipt's: a mismatch means the circuit and the integer reference disagree (or a remote
 * prover proved something else), never a valid receipt.
 *
 * @throws VerinferError `INTERNAL` (or `code`) when the proof system or the public signals are not the receipt's.
 */
export function zkReceiptOf(
  base: Receipt,
  proof: SnarkProofBundle,
  proveTimings: Record<string, number>,
  options: { system: ProofSystem; code?: "INTERNAL" | "PROVE_FAILED" },
): Receipt {
  const code = options.code ?? "INTERNAL";
  if (proof.system !== options.system) {
    throw new VerinferError(code, `a ${proof.system} proof for a ${options.system} package`);
  }
  const expected = [
    base.model.commitment,
    base.input.commitment,
    base.output.commitment,
    ...base.output.quantized.map((q) => toField(BigInt(q)).toString()),
    ...(base.output.class === undefined ? [] : [String(base.output.class)]),
  ];
  if (proof.publicSignals.join() !== expected.join()) {
    throw new VerinferError(code, "circuit outputs differ from the integer reference", {
      details: `circuit ${proof.publicSignals.join(",")} vs reference ${expected.join(",")}`,
    });
  }
  // A copy: the zk receipt must not share objects with the receipt it was proven from (or with a job's data).
  const { attestation: _attestation, ...rest } = structuredClone(base);
  return {
    ...rest,
    mode: "zk",
    proof: {
      system: proof.system,
      proof: structuredClone(proof.proof),
      publicSignals: [...proof.publicSignals],
    } as ReceiptProof,
    timings: { ...base.timings, ...proveTimings },
  };
}
