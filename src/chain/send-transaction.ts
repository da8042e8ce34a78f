import type { BaseContract, ContractTransactionReceipt } from "ethers";
import { VerinferError } from "../errors.js";
import { chainError } from "./chain-error.js";

/** Options of every verinfer transaction helper. */
export interface SendOptions {
  /**
   * Explicit gas limit. Default: the node's estimate plus 25 % and 20,000, taken only after a static call
   * succeeded. snarkjs verifiers answer `false` (they do not revert) when a precompile runs out of gas, so a
   * limit must leave the verifier room; the registry reverts on `false`, which keeps a short limit from ever
   * recording a wrong result.
   */
  gasLimit?: bigint;
}

/** What a mined verinfer transaction reports. */
export interface SentTransaction<T> {
  /** The function's return value, from the static call made before sending. */
  result: T;
  hash: string;
  gasUsed: bigint;
  blockNumber: number;
  receipt: ContractTransactionReceipt;
}

/**
 * Static-calls `method`, then sends it with an explicit gas limit and waits for it to be mined. Every failure is a
 * `CHAIN_ERROR` with the decoded custom error.
 */
export async function sendChecked<T>(
  contract: BaseContract,
  method: string,
  args: readonly unknown[],
  options: SendOptions = {},
): Promise<SentTransaction<T>> {
  const fn = contract.getFunction(method);
  let result: T;
  let gasLimit = options.gasLimit;
  try {
    result = (await fn.staticCall(...args)) as T;
    if (gasLimit === undefined) gasLimit = ((await fn.estimateGas(...args)) * 125n) / 100n + 20_000n;
  } catch (error) {
    throw chainError(error, method, contract.interface);
  }
  let receipt: ContractTransactionReceipt | null;
  try {
    const tx = await fn.send(...args, { gasLimit });
    receipt = await tx.wait();
  } catch (error) {
    throw chainError(error, method, contract.interface);
  }
  if (!receipt) throw new VerinferError("CHAIN_ERROR", `${method}: the transaction was dropped`);
  return { result, hash: receipt.hash, gasUsed: receipt.gasUsed, blockNumber: receipt.blockNumber, receipt };
}
