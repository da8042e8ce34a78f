import type { ContractRunner } from "ethers";
import { VerinferError } from "../errors.js";
import { ModelPackage } from "../package/model-package.js";
import { isProofSystem, PROOF_SYSTEMS, type ProofSystem } from "../proof-systems/proof-system.js";
import { proofSystemModule } from "../proof-systems/systems.js";
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
 *   for a vkey that is not a bn128 key of one of `PROOF_SYSTEMS`.
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
  // A key names its own system; one that names none is refused, never taken for Groth16.
  if (isProofSystem(protocol)) return protocol;
  throw new VerinferError("INVALID_INPUT", `not a verification key of ${PROOF_SYSTEMS.join(", ")}`, {
    meta: { protocol },
  });
}

/** The verifier's Solidity source, from a package's zkey or from a bare vkey. */
export function verifierSolidity(from: VerifierSource): Promise<string> {
  if (from instanceof ModelPackage) return exportSolidityVerifier(from);
  return proofSystemModule(sourceSystem(from)).solidityVerifier(from.vkey);
}

/** Renders and compiles the verifier of a package or vkey (what {@link deployVerifier} deploys). */
export async function compileVerifier(from: VerifierSource): Promise<CompiledContract> {
  const name = verifierContractName(sourceSystem(from));
  const compiled = (await compileSolidity({ [`${name}.sol`]: await verifierSolidity(from) })).get(name);
  if (!compiled) throw new VerinferError("COMPILE_FAILED", `the exported verifier holds no ${name}`);
  return compiled;
}
