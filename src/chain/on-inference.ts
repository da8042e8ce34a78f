import type { ContractEventPayload } from "ethers";
import type { InferenceRegistryContract } from "./registry-contract.js";

/** An `InferenceVerified` or `InferenceAttested` event, decoded. */
export type InferenceEvent =
  | {
      type: "verified";
      modelId: string;
      key: string;
      submitter: string;
      inputCommitment: bigint;
      outputCommitment: bigint;
      /** keccak256(abi.encodePacked(publicSignals[3:])): the outputs are in the transaction's calldata. */
      outputHash: string;
      txHash: string;
      blockNumber: number;
    }
  | {
      type: "attested";
      modelId: string;
      key: string;
      attester: string;
      inputCommitment: bigint;
      outputCommitment: bigint;
      outputHash: string;
      /** The EIP-712 digest the attester signed. */
      attestationDigest: string;
      txHash: string;
      blockNumber: number;
    };

/**
 * Calls `listener` for every inference the registry records from now on. Returns a function that stops listening.
 *
 * @example
 * ```ts
 * const stop = await onInference(registry, (e) => console.log(e.type, e.key));
 * // ...
 * await stop();
 * ```
 */
export async function onInference(
  registry: InferenceRegistryContract,
  listener: (event: InferenceEvent) => void,
): Promise<() => Promise<void>> {
  const verified = (
    modelId: string,
    key: string,
    submitter: string,
    inputCommitment: bigint,
    outputCommitment: bigint,
    outputHash: string,
    payload: ContractEventPayload,
  ) =>
    listener({
      type: "verified",
      modelId,
      key,
      submitter,
      inputCommitment,
      outputCommitment,
      outputHash,
      txHash: payload.log.transactionHash,
      blockNumber: payload.log.blockNumber,
    });
  const attested = (
    modelId: string,
    key: string,
    attester: string,
    inputCommitment: bigint,
    outputCommitment: bigint,
    outputHash: string,
    attestationDigest: string,
    payload: ContractEventPayload,
  ) =>
    listener({
      type: "attested",
      modelId,
      key,
      attester,
      inputCommitment,
      outputCommitment,
      outputHash,
      attestationDigest,
      txHash: payload.log.transactionHash,
      blockNumber: payload.log.blockNumber,
    });
  await registry.on("InferenceVerified", verified);
  await registry.on("InferenceAttested", attested);
  return async () => {
    await registry.off("InferenceVerified", verified);
    await registry.off("InferenceAttested", attested);
  };
}
