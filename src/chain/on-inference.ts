import { type ContractEventPayload, isHexString } from "ethers";
import { VerinferError } from "../errors.js";
import type { InferenceRegistryContract } from "./registry-contract.js";

/** An `InferenceVerified` or `InferenceAttested` event, decoded. */
export type InferenceEvent =
  | {
      type: "verified";
      /** The model key the record is under. */
      modelKey: string;
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
      modelKey: string;
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

/** Options of {@link onInference}. */
export interface OnInferenceOptions {
  /**
   * Only events under this model key. Without it the listener sees every key's records, the ones anyone registered
   * for a commitment with a verifier of their own circuit included: filter by the key you trust.
   */
  modelKey?: string;
}

/**
 * Calls `listener` for every inference the registry records from now on (under `options.modelKey` only, when
 * given). Returns a function that stops listening.
 *
 * @throws VerinferError `INVALID_INPUT` for a `modelKey` that is not 32-byte hex.
 * @example
 * ```ts
 * const stop = await onInference(registry, (e) => console.log(e.type, e.key), { modelKey });
 * // ...
 * await stop();
 * ```
 */
export async function onInference(
  registry: InferenceRegistryContract,
  listener: (event: InferenceEvent) => void,
  options: OnInferenceOptions = {},
): Promise<() => Promise<void>> {
  const only = options.modelKey?.toLowerCase();
  if (options.modelKey !== undefined && !isHexString(options.modelKey, 32)) {
    throw new VerinferError("INVALID_INPUT", "modelKey must be 32-byte hex", { meta: { modelKey: options.modelKey } });
  }
  const deliver = (event: InferenceEvent) => {
    if (only === undefined || event.modelKey.toLowerCase() === only) listener(event);
  };
  const verified = (
    modelKey: string,
    key: string,
    submitter: string,
    inputCommitment: bigint,
    outputCommitment: bigint,
    outputHash: string,
    payload: ContractEventPayload,
  ) =>
    deliver({
      type: "verified",
      modelKey,
      key,
      submitter,
      inputCommitment,
      outputCommitment,
      outputHash,
      txHash: payload.log.transactionHash,
      blockNumber: payload.log.blockNumber,
    });
  const attested = (
    modelKey: string,
    key: string,
    attester: string,
    inputCommitment: bigint,
    outputCommitment: bigint,
    outputHash: string,
    attestationDigest: string,
    payload: ContractEventPayload,
  ) =>
    deliver({
      type: "attested",
      modelKey,
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
