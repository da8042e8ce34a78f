import { AbiCoder, getAddress, isAddress, keccak256, ZeroAddress } from "ethers";
import { VerinferError } from "../errors.js";
import { FIELD_PRIME } from "../util/field.js";

/** What a model key hashes: who registered the model, which model, and which verifier checks its proofs. */
export interface ModelKeyParams {
  /** The account that registered the model (and manages its attesters). */
  owner: string;
  /** The model commitment (`pkg.manifest.commitments.model`), decimal or 0x hex. */
  modelCommitment: bigint | string;
  /** The model's Groth16 verifier; omit (or the zero address) for an attest-only model. */
  verifier?: string;
}

/** The model commitment as a field element, or `INVALID_INPUT`. */
export function parseModelCommitment(value: bigint | string): bigint {
  let commitment: bigint;
  try {
    commitment = BigInt(value);
  } catch {
    throw new VerinferError("INVALID_INPUT", "modelCommitment must be an integer", {
      meta: { modelCommitment: value },
    });
  }
  if (commitment < 0n || commitment >= FIELD_PRIME) {
    throw new VerinferError("INVALID_INPUT", "modelCommitment must be a field element", {
      meta: { modelCommitment: String(value) },
    });
  }
  return commitment;
}

/**
 * The on-chain identity of a registered model: `keccak256(abi.encode(owner, modelCommitment, verifier))`, exactly
 * as `InferenceRegistry.modelKeyOf` computes it. A consumer pins this key, after auditing all three parts, and
 * reads records under it; the commitment alone names no model on chain (anyone can register it with a verifier of
 * their own circuit).
 *
 * @throws VerinferError `INVALID_INPUT` for a malformed address or a commitment outside the field.
 * @example
 * ```ts
 * const key = modelKey({ owner: wallet.address, modelCommitment: pkg.manifest.commitments.model, verifier });
 * const verified = await registry.isVerified(key, r.input.commitment, r.output.commitment);
 * ```
 */
export function modelKey(params: ModelKeyParams): string {
  const verifier = params.verifier ?? ZeroAddress;
  for (const [name, value] of [
    ["owner", params.owner],
    ["verifier", verifier],
  ] as const) {
    if (!isAddress(value))
      throw new VerinferError("INVALID_INPUT", `${name} must be an address`, { meta: { [name]: value } });
  }
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["address", "uint256", "address"],
      [getAddress(params.owner), parseModelCommitment(params.modelCommitment), getAddress(verifier)],
    ),
  );
}
