import type { ContractRunner } from "ethers";
import { DEFAULT_EAS_DOMAIN, type EasDomainOptions, easDomain } from "../attest/eas-offchain.js";
import { compileContracts } from "./compile-contracts.js";
import { type Deployed, deployCompiled } from "./deploy-compiled.js";
import { connectRegistry, type InferenceRegistryContract } from "./registry-contract.js";

/** Options of {@link deployRegistry}. */
export interface DeployRegistryOptions {
  /**
   * The EAS deployment whose off-chain attestations the registry accepts (the EIP-712 domain they are signed in);
   * default {@link DEFAULT_EAS_DOMAIN}, which is also what `verifiableInfer` signs with by default. It names EAS,
   * not the chain the registry lives on.
   */
  easDomain?: EasDomainOptions;
}

/**
 * Deploys an `InferenceRegistry`.
 *
 * @throws VerinferError `CHAIN_ERROR` when the deployment fails, `INVALID_OPTIONS` for a bad EAS domain.
 * @example
 * ```ts
 * const { registry, address, deployGas } = await deployRegistry(wallet);
 * ```
 */
export async function deployRegistry(
  signer: ContractRunner,
  options: DeployRegistryOptions = {},
): Promise<Deployed & { registry: InferenceRegistryContract }> {
  const domain = easDomain(options.easDomain ?? DEFAULT_EAS_DOMAIN);
  const { InferenceRegistry } = await compileContracts();
  const deployed = await deployCompiled(
    signer,
    InferenceRegistry,
    [domain.version, BigInt(domain.chainId), domain.verifyingContract],
    "deployRegistry",
  );
  return { ...deployed, registry: await connectRegistry(deployed.address, signer) };
}
