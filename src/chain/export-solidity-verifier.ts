import * as snarkjs from "snarkjs";
import { unrefIdleCurveWorkers } from "../circuits/unref-idle-curve-workers.js";
import { VerinferError } from "../errors.js";
import { groth16VerifierSource } from "../proof-systems/groth16-verifier-source.js";
import type { ProofSystem } from "../proof-systems/proof-system.js";
import { universalVerifierSource } from "../proof-systems/universal-verifier-source.js";
import type { ModelPackage } from "../storage/model-package.js";

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
  const system = modelPackage.manifest.proofSystem;
  const zkey = await modelPackage.artifact("zkey");
  unrefIdleCurveWorkers();
  // The key is read from the zkey, not from the package's vkey.json: the zkey is what the prover proves with.
  const vkey = await snarkjs.zKey.exportVerificationKey({ type: "mem", data: new Uint8Array(zkey) });
  if (vkey.protocol !== system) {
    throw new VerinferError("ARTIFACT_CORRUPT", `the package's zkey is ${String(vkey.protocol)}, not ${system}`);
  }
  return system === "groth16" ? groth16VerifierSource(vkey) : universalVerifierSource(vkey);
}

/** The contract snarkjs's verifier template of a proof system declares. */
export function verifierContractName(system: ProofSystem): string {
  return { groth16: "Groth16Verifier", plonk: "PlonkVerifier", fflonk: "FflonkVerifier" }[system];
}
