import { randomBytes } from "node:crypto";
import { FIELD_PRIME, isCommittableOffset, MAX_COMMITMENT_OFFSET, PACK_BITS } from "../util/field.js";
import { poseidonChain } from "./poseidon.js";

/**
 * Domain tag of packed-vector commitments, format version 1 (ASCII "vec1"). Bump the tag when the packing or
 * the header layout changes: commitments of two formats must never be comparable.
 */
export const VECTOR_COMMITMENT_TAG = 0x76656331n;

export { MAX_COMMITMENT_OFFSET } from "../util/field.js";

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

/** The format a vector is committed under: its length, slot width and offset. */
export interface VectorFormat {
  /** Number of values. */
  length: number;
  /** Bits per packed slot. */
  width: number;
  /** Smallest allowed value; values are shifted by -lo before packing. */
  lo: bigint;
}

/**
 * The header element that domain-separates a vector commitment: tag (32 bits) | width (8) | length (32) |
 * lo + 2^127 (128), from the lowest bit up — 200 bits, below p. It is the first element hashed, so two
 * commitments are equal only for equal vectors under an equal format: a vector and the same vector padded
 * with `lo` differ in length, and a prefix of a Poseidon chain is never the whole chain of a shorter vector.
 * The circuit computes the same constant (`VectorHeader` in circuits/verinfer.circom).
 *
 * @throws RangeError for a length ≥ 2^32, a width outside [1, 253] or lo outside [-2^127, 2^127).
 */
export function vectorCommitmentHeader(format: VectorFormat): bigint {
  const { length, width, lo } = format;
  if (!Number.isInteger(length) || length < 1 || length >= 2 ** 32) {
    throw new RangeError(`vector length must be an integer in [1, 2^32), got ${length}`);
  }
  if (!Number.isInteger(width) || width < 1 || width > PACK_BITS) {
    throw new RangeError(`vector width must be an integer in [1, ${PACK_BITS}], got ${width}`);
  }
  if (!isCommittableOffset(lo)) {
    throw new RangeError(`vector offset ${lo} does not fit the commitment header`);
  }
  return (
    VECTOR_COMMITMENT_TAG + (BigInt(width) << 32n) + (BigInt(length) << 40n) + ((lo + MAX_COMMITMENT_OFFSET) << 72n)
  );
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
 * Salted, domain-separated Poseidon commitment to a vector of bounded integers:
 * `PoseidonChain(header(length, width, lo), salt, pack(values − lo))`, equal to the circuit's
 * `PackedCommitment` (outputs) and `RangeCheckedCommitment` (inputs).
 *
 * @throws RangeError when a value lies outside [lo, lo + 2^width) or the format does not fit the header.
 * @example
 * ```ts
 * const c = await commitValues({ values: [1n, 2n], lo: 0n, width: 8, salt: randomSalt() });
 * ```
 */
export async function commitValues(params: CommitValuesParams): Promise<bigint> {
  const header = vectorCommitmentHeader({ length: params.values.length, width: params.width, lo: params.lo });
  const shifted = params.values.map((v) => v - params.lo);
  return poseidonChain([header, params.salt, ...packValues(shifted, params.width)]);
}

/** A fresh uniformly random salt below 2^248 (< p), from the OS CSPRNG. */
export function randomSalt(): bigint {
  const salt = BigInt(`0x${randomBytes(31).toString("hex")}`);
  return salt % FIELD_PRIME;
}
