/**
 * The pairing check of a Groth16 proof against its verification key, on points parsed once: what snarkjs's
 * `groth16.verify` computes (e(−A, B) · e(L, γ) · e(C, δ) · e(α, β) = 1 with L = IC₀ + Σ sᵢ·ICᵢ₊₁), without re-parsing
 * the key per call. The prover runs it on every proof it returns, so no wrong multi-exponentiation or FFT result
 * (a prover bug, a corrupted zkey point) ever leaves it as a proof.
 *
 * @module
 */
import { FIELD_PRIME } from "../util/field.js";

/** The parts of ffjavascript's bn128 curve the check calls (points as Montgomery bytes). */
export interface PairingCurve {
  G1: {
    fromObject(o: bigint[]): Uint8Array;
    add(a: Uint8Array, b: Uint8Array): Uint8Array;
    neg(a: Uint8Array): Uint8Array;
    timesScalar(a: Uint8Array, s: bigint): Uint8Array;
  };
  G2: { fromObject(o: bigint[][]): Uint8Array };
  pairingEq(...points: Uint8Array[]): boolean | Promise<boolean>;
}

/** A Groth16 verification key's points, parsed. */
export interface Groth16VerifyingPoints {
  alpha1: Uint8Array;
  beta2: Uint8Array;
  gamma2: Uint8Array;
  delta2: Uint8Array;
  ic: Uint8Array[];
}

const g1 = (v: unknown): bigint[] => (v as string[]).map((x) => BigInt(x));
const g2 = (v: unknown): bigint[][] => (v as string[][]).map((c) => c.map((x) => BigInt(x)));

/** Parses a snarkjs Groth16 `vkey.json` object's points on `curve`. */
export function groth16VerifyingPoints(curve: PairingCurve, vkey: Record<string, unknown>): Groth16VerifyingPoints {
  return {
    alpha1: curve.G1.fromObject(g1(vkey.vk_alpha_1)),
    beta2: curve.G2.fromObject(g2(vkey.vk_beta_2)),
    gamma2: curve.G2.fromObject(g2(vkey.vk_gamma_2)),
    delta2: curve.G2.fromObject(g2(vkey.vk_delta_2)),
    ic: (vkey.IC as unknown[]).map((p) => curve.G1.fromObject(g1(p))),
  };
}

/**
 * Whether a proof (snarkjs's `proof.json` shape) holds for the public signals under the key's points. False for a
 * wrong number of public signals or a signal outside the field.
 *
 * @example
 * ```ts
 * const ok = await groth16ProofHolds({ curve, key: groth16VerifyingPoints(curve, vkey), proof, publicSignals });
 * ```
 */
export async function groth16ProofHolds(params: {
  curve: PairingCurve;
  key: Groth16VerifyingPoints;
  proof: { pi_a: string[]; pi_b: string[][]; pi_c: string[] };
  publicSignals: readonly string[];
}): Promise<boolean> {
  const { curve, key, proof, publicSignals } = params;
  if (publicSignals.length + 1 !== key.ic.length) return false;
  let l = key.ic[0] as Uint8Array;
  for (const [i, s] of publicSignals.entries()) {
    const v = BigInt(s);
    if (v < 0n || v >= FIELD_PRIME) return false;
    if (v !== 0n) l = curve.G1.add(l, curve.G1.timesScalar(key.ic[i + 1] as Uint8Array, v));
  }
  const a = curve.G1.fromObject(g1(proof.pi_a));
  const b = curve.G2.fromObject(g2(proof.pi_b));
  const c = curve.G1.fromObject(g1(proof.pi_c));
  return await curve.pairingEq(curve.G1.neg(a), b, l, key.gamma2, c, key.delta2, key.alpha1, key.beta2);
}
