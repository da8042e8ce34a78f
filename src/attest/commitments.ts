import { randomBytes } from "node:crypto";
import { FIELD_PRIME, PACK_BITS } from "../field.js";
import { poseidonChain } from "./poseidon.js";

/**
 * Packs values in [0, 2^width) into field elements, floor(253 / width) per element, lowest slot first —
 * the `Pack` template of circuits/verinfer.circom.
 *
 * @throws RangeError when a value is outside [0, 2^width): packing would then not be binding.
 */
export function packValues(values: readonly bigint[], width: number): bigint[] {
  if (!Number.isInteger(width) || width < 1 || width > PACK_BITS) {
    throw new RangeError(`pack width must be an integer in [1, ${PACK_BITS}], got ${width}`);
  }
  const k = Math.floor(PACK_BITS / width);
  const limit = 1n << BigInt(width);
  const out: bigint[] = [];
  for (let c = 0; c < values.length; c += k) {
    let acc = 0n;
    for (let t = 0; t < k && c + t < values.length; t++) {
      const v = values[c + t] as bigint;
      if (v < 0n || v >= limit) throw new RangeError(`value ${v} at index ${c + t} does not fit ${width} bits`);
      acc += v << BigInt(t * width);
    }
    out.push(acc);
  }
  return out;
}

/** Parameters of {@link commitValues}. */
export interface CommitValuesParams {
  /** Signed integers, each in [lo, lo + 2^width). */
  values: readonly bigint[];
  /** Smallest allowed value; values are shifted by -lo before packing. */
  lo: bigint;
  /** Bits per packed slot. */
  width: number;
  /** Random field element kept private by the committer. */
  salt: bigint;
}

/**
 * Salted Poseidon commitment to a vector of bounded integers, equal to the circuit's `PackedCommitment`
 * (outputs) and `RangeCheckedCommitment` (inputs).
 *
 * @example
 * ```ts
 * const c = await commitValues({ values: [1n, 2n], lo: 0n, width: 8, salt: randomSalt() });
 * ```
 */
export async function commitValues(params: CommitValuesParams): Promise<bigint> {
  const shifted = params.values.map((v) => v - params.lo);
  return poseidonChain([params.salt, ...packValues(shifted, params.width)]);
}

/** A fresh uniformly random salt below 2^248 (< p), from the OS CSPRNG. */
export function randomSalt(): bigint {
  const salt = BigInt(`0x${randomBytes(31).toString("hex")}`);
  return salt % FIELD_PRIME;
}
