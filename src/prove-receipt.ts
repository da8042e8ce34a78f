import { performance } from "node:perf_hooks";
import type { Receipt, ReceiptProof } from "./attest/receipt.js";
import { proveGroth16 } from "./circuits/prove-groth16.js";
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
  const { pkg, base } = params;
  const { witness, zkey } = await pkg.provingArtifacts();
  const t = performance.now();
  const proof = await proveGroth16({
    witness,
    zkey,
    inputs: { input: params.input, inputSalt: params.salts.input, outputSalt: params.salts.output },
  });
  const proveMs = performance.now() - t;
  const expected = [
    base.model.commitment,
    base.input.commitment,
    base.output.commitment,
    ...base.output.quantized.map((q) => toField(BigInt(q)).toString()),
  ];
  if (proof.publicSignals.join() !== expected.join()) {
    throw new VerinferError("INTERNAL", "circuit outputs differ from the integer reference", {
      details: `circuit ${proof.publicSignals.join(",")} vs reference ${expected.join(",")}`,
    });
  }
  // A copy: the zk receipt must not share objects with the receipt it was proven from.
  const { attestation: _attestation, ...rest } = structuredClone(base);
  return {
    ...rest,
    mode: "zk",
    proof: { system: "groth16", proof: proof.proof as ReceiptProof["proof"], publicSignals: proof.publicSignals },
    timings: { ...base.timings, proveMs },
  };
}
