import { isAddress, isHexString } from "ethers";
import { VerinferError } from "../errors.js";
import type { InferenceRegistryContract } from "./registry-contract.js";
import { type SendOptions, type SentTransaction, sendChecked } from "./send-transaction.js";

/** Parameters of {@link setAttester}. */
export interface SetAttesterParams {
  /** The model key (`registerModel`'s `modelKey`). */
  modelKey: string;
  attester: string;
  /** `true` to trust, `false` to remove. */
  trusted: boolean;
}

/**
 * Adds or removes a trusted attester of a model key. Only the key's owner may.
 *
 * @throws VerinferError `INVALID_INPUT` for a malformed key or address, `CHAIN_ERROR` (`meta.reason`
 *   `"NotModelOwner"`, …) when the registry refuses.
 * @example
 * ```ts
 * await setAttester(registry, { modelKey, attester: "0x…", trusted: true });
 * ```
 */
export async function setAttester(
  registry: InferenceRegistryContract,
  params: SetAttesterParams,
  options: SendOptions = {},
): Promise<SentTransaction<void>> {
  if (!isHexString(params.modelKey, 32)) throw new VerinferError("INVALID_INPUT", "modelKey must be 32-byte hex");
  if (!isAddress(params.attester)) throw new VerinferError("INVALID_INPUT", "attester must be an address");
  return sendChecked<void>(registry, "setAttester", [params.modelKey, params.attester, params.trusted], options);
}
