import { vectorCommitmentHeader } from "../../attest/commitments.js";
import { PACK_BITS } from "../../util/field.js";
import type { ConstraintSystem, Lc } from "./constraint-system.js";
import { poseidonChainConstraints, poseidonChainGadget } from "./poseidon-gadget.js";

/**
 * Packs values the caller has proven to lie in [0, 2^width) into ceil(n / k) linear combinations of k =
 * floor(253 / width) values each — circuits/verinfer.circom's Pack. Binding because a packed element is below
 * 2^253 < p; linear, so free.
 */
export function packGadget(cs: ConstraintSystem, values: readonly Lc[], width: number): Lc[] {
  const k = Math.floor(PACK_BITS / width);
  const out: Lc[] = [];
  for (let c = 0; c < values.length; c += k) {
    out.push(cs.lin(values.slice(c, c + k).map((v, t) => [v, 1n << BigInt(t * width)] as const)));
  }
  return out;
}

/**
 * Salted commitment to n values v_i = x_i − lo that the caller has proven to lie in [0, 2^width):
 * PoseidonChain(header(n, width, lo), salt, Pack(v)) — circuits/verinfer.circom's PackedCommitment and
 * src/attest/commitments.ts's commitValues.
 */
export function packedCommitmentGadget(
  cs: ConstraintSystem,
  params: { values: readonly Lc[]; width: number; lo: bigint; salt: Lc },
): Lc {
  const header = vectorCommitmentHeader({ length: params.values.length, width: params.width, lo: params.lo });
  return poseidonChainGadget(cs, [cs.constant(header), params.salt, ...packGadget(cs, params.values, params.width)]);
}

/** Constraints of {@link packedCommitmentGadget} over n values of the given width. */
export function packedCommitmentConstraints(n: number, width: number): number {
  return poseidonChainConstraints(2 + Math.ceil(n / Math.floor(PACK_BITS / width)), 1);
}
