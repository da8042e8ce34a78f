import * as snarkjs from "snarkjs";
import type { ProofSystem } from "./proof-system.js";

/** Parameters of {@link verifySnarkProof}. */
export interface VerifySnarkProofParams {
  system: ProofSystem;
  /** The verification key (snarkjs's `verification_key.json` of that system). */
  vkey: unknown;
  publicSignals: readonly string[];
  /** snarkjs's proof JSON of that system. */
  proof: unknown;
}

// snarkjs's verifiers log failures through console unless given a logger; callers report the reason instead.
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Checks a proof with snarkjs's own verifier of its system (Groth16, PLONK or FFLONK), without console output.
 *
 * @returns whether the proof verifies against the key; snarkjs may throw on a malformed key or proof.
 * @example
 * ```ts
 * const ok = await verifySnarkProof({ system: pkg.manifest.proofSystem, vkey: pkg.vkey, publicSignals, proof });
 * ```
 */
export async function verifySnarkProof(params: VerifySnarkProofParams): Promise<boolean> {
  const verifier = { groth16: snarkjs.groth16, plonk: snarkjs.plonk, fflonk: snarkjs.fflonk }[params.system];
  return verifier.verify(params.vkey as never, [...params.publicSignals], params.proof as never, quiet);
}
