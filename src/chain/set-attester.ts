import { isAddress } from "ethers";
import { VerinferError } from "../errors.js";
import type { InferenceRegistryContract } from "./registry-contract.js";
import { type SendOptions, type SentTransaction, sendChecked } from "./send-transaction.js";

/** Parameters of {@link setAttester}. */
export interface SetAttesterParams {
  modelId: string;
  attester: string;
  /** `true` to trust, `false` to remove. */
  trusted: boolean;
}

/**
 * Adds or removes a trusted attester of a model. Only the model's owner may.
 *
 * @throws VerinferError `CHAIN_ERROR` (`meta.reason` `"NotModelOwner"`, …) when the registry refuses.
 * @example
 * ```ts
 * await setAttester(registry, { modelId: pkg.id, attester: "0x…", trusted: true });
 * ```
 */
export async function setAttester(
  registry: InferenceRegistryContract,
  params: SetAttesterParams,
  options: SendOptions = {},
): Promise<SentTransaction<void>> {
  if (!isAddress(params.attester)) throw new VerinferError("INVALID_INPUT", "attester must be an address");
  return sendChecked<void>(registry, "setAttester", [params.modelId, params.attester, params.trusted], options);
}
