import type { ModelPackage } from "../package/model-package.js";
import type { ProofSystem } from "../proof-systems/proof-system.js";
import { proofSystemModule } from "../proof-systems/systems.js";

/**
 * The Solidity source of a model's verifier, generated from its zkey with snarkjs's own template of the
 * package's proof system: contract `Groth16Verifier`, `PlonkVerifier` or `FflonkVerifier` (see
 * {@link verifierContractName}). Its `verifyProof` takes exactly as many public signals as the circuit has.
 *
 * @throws VerinferError `ARTIFACT_CORRUPT` when the zkey fails its hash check or is not of the package's system.
 * @example
 * ```ts
 * const source = await exportSolidityVerifier(pkg);
 * await writeFile("Verifier.sol", source);
 * ```
 */
export async function exportSolidityVerifier(modelPackage: ModelPackage): Promise<string> {
  const system = proofSystemModule(modelPackage.manifest.proofSystem);
  const zkey = await modelPackage.artifact("zkey");
  // The key is read from the zkey, not from the package's vkey.json: the zkey is what the prover proves with.
  const vkey = await system.exportVerificationKey(new Uint8Array(zkey));
  return system.solidityVerifier(vkey);
}

/** The contract snarkjs's verifier template of a proof system declares. */
export function verifierContractName(system: ProofSystem): string {
  return proofSystemModule(system).verifierContract;
}
