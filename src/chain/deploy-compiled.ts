import { ContractFactory, type ContractRunner } from "ethers";
import { VerinferError } from "../errors.js";
import { chainError } from "./chain-error.js";

/** A deployed contract. */
export interface Deployed {
  address: string;
  /** Gas the deployment transaction used. */
  deployGas: bigint;
  txHash: string;
}

/** Deploys compiled bytecode and waits for it to be mined. */
export async function deployCompiled(
  signer: ContractRunner,
  compiled: { abi: readonly Record<string, unknown>[]; bytecode: string },
  args: readonly unknown[],
  action: string,
): Promise<Deployed> {
  const factory = new ContractFactory(compiled.abi as Record<string, unknown>[], compiled.bytecode, signer);
  try {
    const contract = await factory.deploy(...args);
    const receipt = await contract.deploymentTransaction()?.wait();
    if (!receipt) throw new VerinferError("CHAIN_ERROR", `${action}: the deployment transaction was dropped`);
    return { address: await contract.getAddress(), deployGas: receipt.gasUsed, txHash: receipt.hash };
  } catch (error) {
    throw chainError(error, action, factory.interface);
  }
}
