import { isHexString } from "ethers";
import { VerinferError } from "../errors.js";
import { chainError } from "./chain-error.js";
import { REGISTRY_PROOF_SYSTEMS } from "./register-model.js";
import type { InferenceRegistryContract } from "./registry-contract.js";

/** A registered model, as the registry stores it under its model key. */
export interface RegisteredModelInfo {
  modelKey: string;
  owner: string;
  modelCommitment: bigint;
  /** The zero address for an attest-only model. */
  verifier: string;
  proofSystem: keyof typeof REGISTRY_PROOF_SYSTEMS;
}

const SYSTEMS = Object.keys(REGISTRY_PROOF_SYSTEMS) as (keyof typeof REGISTRY_PROOF_SYSTEMS)[];

/**
 * Reads the model registered under a model key, or `undefined` when there is none. That a model names the
 * commitment you expect does not make it the model you mean: anyone can register a commitment with a verifier of
 * their own; pin the key after auditing its owner and verifier (see {@link modelKey}).
 *
 * @throws VerinferError `INVALID_INPUT` for a model key that is not 32-byte hex, `CHAIN_ERROR` when the call fails.
 * @example
 * ```ts
 * const model = await getModel(registry, modelKey);
 * console.log(model?.owner, model?.verifier);
 * ```
 */
export async function getModel(
  registry: InferenceRegistryContract,
  modelKey: string,
): Promise<RegisteredModelInfo | undefined> {
  if (!isHexString(modelKey, 32)) {
    throw new VerinferError("INVALID_INPUT", "modelKey must be 32-byte hex", { meta: { modelKey } });
  }
  let raw: { verifier: string; proofSystem: bigint; owner: string; modelCommitment: bigint };
  try {
    raw = await registry.getFunction("getModel")(modelKey);
  } catch (error) {
    throw chainError(error, "getModel", registry.interface);
  }
  if (/^0x0{40}$/.test(raw.owner)) return undefined;
  const proofSystem = SYSTEMS[Number(raw.proofSystem)];
  if (proofSystem === undefined)
    throw new VerinferError("CHAIN_ERROR", `getModel: unknown proof system ${raw.proofSystem}`);
  return { modelKey, owner: raw.owner, modelCommitment: raw.modelCommitment, verifier: raw.verifier, proofSystem };
}
