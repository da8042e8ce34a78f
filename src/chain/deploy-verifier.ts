import type { ContractRunner } from "ethers";
import { VerinferError } from "../errors.js";
import { ModelPackage } from "../storage/model-package.js";
import { type Deployed, deployCompiled } from "./deploy-compiled.js";
import { exportSolidityVerifier } from "./export-solidity-verifier.js";
import { groth16VerifierSource } from "./groth16-verifier-source.js";
import { compileSolidity } from "./solc-compile.js";

/** What a verifier is generated from: a model package (its zkey) or a bare Groth16 verification key. */
export type VerifierSource = ModelPackage | { vkey: unknown };

/**
 * Generates, compiles and deploys a Groth16 verifier (snarkjs's template, solc-js, optimizer on) for a model
 * package, from its zkey, or for a bare verification key.
 *
 * @throws VerinferError `CHAIN_ERROR` when the deployment fails, `COMPILE_FAILED` when solc does, `INVALID_INPUT`
 *   for a vkey that is not a Groth16 bn128 key.
 * @example
 * ```ts
 * const verifier = await deployVerifier(signer, pkg);
 * const { modelKey } = await registerModel(registry, {
 *   modelCommitment: pkg.manifest.commitments.model,
 *   verifier: verifier.address,
 * });
 * ```
 */
export async function deployVerifier(signer: ContractRunner, from: VerifierSource): Promise<Deployed> {
  const source = await verifierSolidity(from);
  const compiled = (await compileSolidity({ "Groth16Verifier.sol": source })).get("Groth16Verifier");
  if (!compiled) throw new VerinferError("COMPILE_FAILED", "the exported verifier holds no Groth16Verifier");
  return deployCompiled(signer, compiled, [], "deployVerifier");
}

/** The verifier's Solidity source, from a package's zkey or from a bare vkey. */
export function verifierSolidity(from: VerifierSource): Promise<string> {
  return from instanceof ModelPackage ? exportSolidityVerifier(from) : groth16VerifierSource(from.vkey);
}
