import * as snarkjs from "snarkjs";
import { unrefIdleCurveWorkers } from "../circuits/unref-idle-curve-workers.js";
import { VerinferError } from "../errors.js";
import type { ModelPackage } from "../storage/model-package.js";
import { groth16VerifierSource } from "./groth16-verifier-source.js";

/**
 * The Solidity source of a model's Groth16 verifier (contract `Groth16Verifier`), generated from its zkey with
 * snarkjs's own template. Its `verifyProof` takes exactly as many public signals as the circuit has.
 *
 * @throws VerinferError `UNSUPPORTED_MODE` when the package is not Groth16, `ARTIFACT_CORRUPT` when the zkey fails
 *   its hash check.
 * @example
 * ```ts
 * const source = await exportSolidityVerifier(pkg);
 * await writeFile("Verifier.sol", source);
 * ```
 */
export async function exportSolidityVerifier(modelPackage: ModelPackage): Promise<string> {
  const system = modelPackage.manifest.proofSystem;
  if (system !== "groth16") {
    throw new VerinferError("UNSUPPORTED_MODE", `no Solidity verifier for proof system ${system}`);
  }
  const zkey = await modelPackage.artifact("zkey");
  unrefIdleCurveWorkers();
  // The key is read from the zkey, not from the package's vkey.json: the zkey is what the prover proves with.
  return groth16VerifierSource(await snarkjs.zKey.exportVerificationKey({ type: "mem", data: new Uint8Array(zkey) }));
}
