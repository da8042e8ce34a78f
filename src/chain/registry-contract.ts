import { Contract, type ContractRunner, Interface, isAddress } from "ethers";
import { VerinferError } from "../errors.js";
import { compileContracts } from "./compile-contracts.js";

/** An `InferenceRegistry` bound to its address and a runner (signer for writes, provider for reads). */
export type InferenceRegistryContract = Contract;

/**
 * Binds an `InferenceRegistry` at `address` to a signer or provider, with the ABI of verinfer's compiled contract.
 *
 * @throws VerinferError `INVALID_INPUT` when `address` is not an address.
 * @example
 * ```ts
 * const registry = await connectRegistry("0x…", wallet);
 * ```
 */
export async function connectRegistry(address: string, runner: ContractRunner): Promise<InferenceRegistryContract> {
  if (!isAddress(address))
    throw new VerinferError("INVALID_INPUT", "registry must be an address", { meta: { address } });
  const { InferenceRegistry } = await compileContracts();
  return new Contract(address, new Interface(InferenceRegistry.abi as Record<string, unknown>[]), runner);
}
