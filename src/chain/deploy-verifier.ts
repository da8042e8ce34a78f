import type { ContractRunner } from "ethers";
import { VerinferError } from "../errors.js";
import type { ModelPackage } from "../storage/model-package.js";
import { type Deployed, deployCompiled } from "./deploy-compiled.js";
import { exportSolidityVerifier } from "./export-solidity-verifier.js";
import { compileSolidity } from "./solc-compile.js";

/**
 * Generates, compiles and deploys a model's Groth16 verifier (snarkjs's template, solc-js, optimizer on).
 *
 * @throws VerinferError `CHAIN_ERROR` when the deployment fails, `COMPILE_FAILED` when solc does.
 * @example
 * ```ts
 * const verifier = await deployVerifier(signer, pkg);
 * await registerModel(registry, { modelId: pkg.id, verifier: verifier.address });
 * ```
 */
export async function deployVerifier(signer: ContractRunner, modelPackage: ModelPackage): Promise<Deployed> {
  const source = await exportSolidityVerifier(modelPackage);
  const compiled = (await compileSolidity({ "Groth16Verifier.sol": source })).get("Groth16Verifier");
  if (!compiled) throw new VerinferError("COMPILE_FAILED", "the exported verifier holds no Groth16Verifier");
  return deployCompiled(signer, compiled, [], "deployVerifier");
}
