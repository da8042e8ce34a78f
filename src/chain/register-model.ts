import { isAddress, isHexString, ZeroAddress } from "ethers";
import { VerinferError } from "../errors.js";
import type { InferenceRegistryContract } from "./registry-contract.js";
import { type SendOptions, type SentTransaction, sendChecked } from "./send-transaction.js";

/** Proof systems the registry knows; `"none"` registers a model for attestations only. */
export const REGISTRY_PROOF_SYSTEMS = { none: 0, groth16: 1 } as const;

/** Parameters of {@link registerModel}. */
export interface RegisterModelParams {
  /** The model id (`modelPackage.id`): the model commitment as 32-byte hex. */
  modelId: string;
  /** The model's deployed verifier (`deployVerifier`); omit with `proofSystem: "none"`. */
  verifier?: string;
  /** Default `"groth16"`. */
  proofSystem?: keyof typeof REGISTRY_PROOF_SYSTEMS;
  /** Trusted attesters to add right after registering (one transaction each). */
  attesters?: readonly string[];
}

/**
 * Registers a model in an `InferenceRegistry`; the registry's signer becomes the model's owner. The model
 * commitment sent is the id read as a number, which is what the registry requires.
 *
 * @throws VerinferError `INVALID_INPUT` for a malformed id or address, `CHAIN_ERROR` (e.g. `meta.reason`
 *   `"ModelAlreadyRegistered"`) when the registry refuses.
 * @example
 * ```ts
 * const verifier = await deployVerifier(wallet, pkg);
 * await registerModel(registry, { modelId: pkg.id, verifier: verifier.address, attesters: [attester.address] });
 * ```
 */
export async function registerModel(
  registry: InferenceRegistryContract,
  params: RegisterModelParams,
  options: SendOptions = {},
): Promise<SentTransaction<void>> {
  if (!isHexString(params.modelId, 32)) {
    throw new VerinferError("INVALID_INPUT", "modelId must be 32-byte hex", { meta: { modelId: params.modelId } });
  }
  const system = params.proofSystem ?? "groth16";
  const verifier = params.verifier ?? ZeroAddress;
  if (!isAddress(verifier)) throw new VerinferError("INVALID_INPUT", "verifier must be an address");
  if (system === "groth16" && verifier === ZeroAddress) {
    throw new VerinferError("INVALID_INPUT", "a groth16 model needs its verifier's address");
  }
  const sent = await sendChecked<void>(
    registry,
    "registerModel",
    [params.modelId, BigInt(params.modelId), verifier, REGISTRY_PROOF_SYSTEMS[system]],
    options,
  );
  for (const attester of params.attesters ?? []) {
    await sendChecked(registry, "setAttester", [params.modelId, attester, true], {});
  }
  return sent;
}
