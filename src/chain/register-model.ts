import { isAddress, ZeroAddress } from "ethers";
import { VerinferError } from "../errors.js";
import type { ProofSystem } from "../proof-systems/proof-system.js";
import { parseModelCommitment } from "./model-key.js";
import type { InferenceRegistryContract } from "./registry-contract.js";
import { type SendOptions, type SentTransaction, sendChecked } from "./send-transaction.js";

/**
 * Proof systems the registry knows (its `proofSystem` enum; every one of `PROOF_SYSTEMS` must have a number here);
 * `"none"` registers a model for attestations only.
 */
export const REGISTRY_PROOF_SYSTEMS = { none: 0, groth16: 1, plonk: 2, fflonk: 3 } as const satisfies Record<
  ProofSystem | "none",
  number
>;

/** Parameters of {@link registerModel}. */
export interface RegisterModelParams {
  /** The model commitment (`pkg.manifest.commitments.model`), decimal or 0x hex. */
  modelCommitment: bigint | string;
  /** The model's deployed verifier (`deployVerifier`); omit with `proofSystem: "none"`. */
  verifier?: string;
  /** The verifier's proof system (`pkg.manifest.proofSystem`). Default `"groth16"`. */
  proofSystem?: keyof typeof REGISTRY_PROOF_SYSTEMS;
  /** Trusted attesters to add right after registering (one transaction each). */
  attesters?: readonly string[];
}

/** What {@link registerModel} returns: the mined transaction and the model key it registered. */
export interface RegisteredModel extends SentTransaction<string> {
  /** `modelKey({ owner: signer, modelCommitment, verifier })`: what records, attesters and consumers use. */
  modelKey: string;
}

/**
 * Registers a model in an `InferenceRegistry`; the registry's signer becomes the model's owner. The model is known
 * on chain by its derived model key (see {@link modelKey}): registering never collides with anyone else's
 * registration of the same commitment, and never takes the commitment from its owner.
 *
 * @throws VerinferError `INVALID_INPUT` for a malformed commitment or address, `CHAIN_ERROR` (e.g. `meta.reason`
 *   `"ModelAlreadyRegistered"` when this signer registered this commitment and verifier before) when the registry
 *   refuses.
 * @example
 * ```ts
 * const verifier = await deployVerifier(wallet, pkg);
 * const { modelKey } = await registerModel(registry, {
 *   modelCommitment: pkg.manifest.commitments.model,
 *   verifier: verifier.address,
 *   attesters: [attester.address],
 * });
 * ```
 */
export async function registerModel(
  registry: InferenceRegistryContract,
  params: RegisterModelParams,
  options: SendOptions = {},
): Promise<RegisteredModel> {
  const commitment = parseModelCommitment(params.modelCommitment);
  const system = params.proofSystem ?? "groth16";
  const verifier = params.verifier ?? ZeroAddress;
  if (!isAddress(verifier)) throw new VerinferError("INVALID_INPUT", "verifier must be an address");
  if (!Object.hasOwn(REGISTRY_PROOF_SYSTEMS, system)) {
    throw new VerinferError("INVALID_INPUT", `unknown proof system ${String(system)}`);
  }
  if (system !== "none" && verifier === ZeroAddress) {
    throw new VerinferError("INVALID_INPUT", `a ${system} model needs its verifier's address`);
  }
  const sent = await sendChecked<string>(
    registry,
    "registerModel",
    [commitment, verifier, REGISTRY_PROOF_SYSTEMS[system]],
    options,
  );
  for (const attester of params.attesters ?? []) {
    await sendChecked(registry, "setAttester", [sent.result, attester, true], {});
  }
  return { ...sent, modelKey: sent.result };
}
