import type { QuantizedNetwork } from "../../models/quantized-network.js";
import { buildModelCircuit } from "./build-model-circuit.js";
import { writeWitnessProgram } from "./witness-program.js";
import { writeR1cs } from "./write-r1cs.js";

/** What {@link writeDirectCircuit} returns: the artifacts a circom compile would give, and its (empty) warnings. */
export interface DirectCircuit {
  r1cs: Buffer;
  /** The witness program, stored where a circom package stores its wasm. */
  wasm: Buffer;
  warnings: string[];
}

/**
 * The direct backend's R1CS and witness program for a network: the constraint system written from the layer
 * modules, and the program that computes its witness. Deterministic: an audit rewrites both and compares hashes.
 *
 * @throws VerinferError `INVALID_MODEL` / `QUANTIZATION_OVERFLOW` before anything is written (see
 *   `checkNetworkForCircuit`).
 * @example
 * ```ts
 * const { r1cs, wasm } = writeDirectCircuit({ network: qnet, modelCommitment: await modelCommitment(qnet) });
 * ```
 */
export function writeDirectCircuit(params: { network: QuantizedNetwork; modelCommitment: bigint }): DirectCircuit {
  const cs = buildModelCircuit({ network: params.network, modelCommitment: params.modelCommitment, track: true });
  return {
    r1cs: Buffer.from(writeR1cs(cs)),
    wasm: Buffer.from(writeWitnessProgram(params)),
    warnings: [],
  };
}
