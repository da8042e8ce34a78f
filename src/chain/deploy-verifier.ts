import type { ContractRunner } from "ethers";
import { VerinferError } from "../errors.js";
import { groth16VerifierSource } from "../proof-systems/groth16-verifier-source.js";
import type { ProofSystem } from "../proof-systems/proof-system.js";
import { universalVerifierSource } from "../proof-systems/universal-verifier-source.js";
import { ModelPackage } from "../storage/model-package.js";
import { type Deployed, deployCompiled } from "./deploy-compiled.js";
import { exportSolidityVerifier, verifierContractName } from "./export-solidity-verifier.js";
import { type CompiledContract, compileSolidity } from "./solc-compile.js";

/** What a verifier is generated from: a model package (its zkey) or a bare verification key (any system). */
export type VerifierSource = ModelPackage | { vkey: unknown };

/**
 * Generates, compiles and deploys the verifier of a model package's proof system (snarkjs's Groth16, PLONK or
 * FFLONK template, solc-js, optimizer on), from its zkey, or for a bare verification key.
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
  return deployCompiled(signer, await compileVerifier(from), [], "deployVerifier");
}

/** The system of a verifier source: the package's, or the bare key's `protocol`. */
function sourceSystem(from: VerifierSource): ProofSystem {
  if (from instanceof ModelPackage) return from.manifest.proofSystem;
  const protocol = (from.vkey as { protocol?: unknown } | null)?.protocol;
  if (protocol === "plonk" || protocol === "fflonk") return protocol;
  return "groth16";
}

/** The verifier's Solidity source, from a package's zkey or from a bare vkey. */
export function verifierSolidity(from: VerifierSource): Promise<string> {
  if (from instanceof ModelPackage) return exportSolidityVerifier(from);
  return sourceSystem(from) === "groth16" ? groth16VerifierSource(from.vkey) : universalVerifierSource(from.vkey);
}

/** Renders and compiles the verifier of a package or vkey (what {@link deployVerifier} deploys). */
export async function compileVerifier(from: VerifierSource): Promise<CompiledContract> {
  const name = verifierContractName(sourceSystem(from));
  const compiled = (await compileSolidity({ [`${name}.sol`]: await verifierSolidity(from) })).get(name);
  if (!compiled) throw new VerinferError("COMPILE_FAILED", `the exported verifier holds no ${name}`);
  return compiled;
}
