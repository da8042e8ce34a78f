import type { ProofSystem } from "./proof-system.js";
import type { ProofSystemProof, ProofSystemProveParams } from "./proof-system-module.js";
import { proofSystemModule } from "./systems.js";

/** A proof of any {@link ProofSystem}, in snarkjs's own JSON shapes (`proof.json`, `public.json`). */
export interface SnarkProofBundle extends ProofSystemProof {
  system: ProofSystem;
}

/** Parameters of {@link proveCircuit}. */
export interface ProveCircuitParams extends ProofSystemProveParams {
  /** The zkey's proof system (a package's `manifest.proofSystem`). */
  system: ProofSystem;
}

/**
 * Witness generation and proving with snarkjs in the zkey's proof system (Groth16, PLONK or FFLONK), in memory.
 *
 * @throws VerinferError `PROVE_FAILED` when the witness does not satisfy the circuit or the zkey is not of
 *   `system`; `UNSUPPORTED_MODE` for an unknown system.
 * @example
 * ```ts
 * const { proof, publicSignals } = await proveCircuit({ system: "plonk", witness: wasm, zkey, inputs });
 * ```
 */
export async function proveCircuit(params: ProveCircuitParams): Promise<SnarkProofBundle> {
  const { system, ...rest } = params;
  const { proof, publicSignals } = await proofSystemModule(system).prove(rest);
  return { system, proof, publicSignals };
}
