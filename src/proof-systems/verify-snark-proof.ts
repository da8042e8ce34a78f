import type { ProofSystem } from "./proof-system.js";
import type { ProofSystemVerifyParams } from "./proof-system-module.js";
import { proofSystemModule } from "./systems.js";

/** Parameters of {@link verifySnarkProof}. */
export interface VerifySnarkProofParams extends ProofSystemVerifyParams {
  system: ProofSystem;
}

/**
 * Checks a proof with snarkjs's own verifier of its system (Groth16, PLONK or FFLONK), without console output.
 *
 * @returns whether the proof verifies against the key; snarkjs may throw on a malformed key or proof, and an
 *   unknown system throws `UNSUPPORTED_MODE`.
 * @example
 * ```ts
 * const ok = await verifySnarkProof({ system: pkg.manifest.proofSystem, vkey: pkg.vkey, publicSignals, proof });
 * ```
 */
export function verifySnarkProof(params: VerifySnarkProofParams): Promise<boolean> {
  const { system, ...rest } = params;
  return proofSystemModule(system).verify(rest);
}
