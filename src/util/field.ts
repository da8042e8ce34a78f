/** The BN254 scalar field modulus: every circuit value and public signal lives modulo this prime. */
export const FIELD_PRIME = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/**
 * The BN254 base field modulus q: curve points' coordinates are elements of it (proof points, a zkey's points; a
 * zkey header states it).
 */
export const BASE_FIELD_MODULUS = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

/** Bits per packed field element: k * width <= 253 keeps every packed element below 2^253 < p. */
export const PACK_BITS = 253;

/**
 * Input offsets a commitment can hold: lo in [-2^127, 2^127). A vector commitment's header stores lo + 2^127 in 128
 * bits, and the model commitment hashes lo mod p — outside this range, lo and lo ± p would be one commitment.
 */
export const MAX_COMMITMENT_OFFSET = 1n << 127n;

/** Whether an input offset lies in [-2^127, 2^127) ({@link MAX_COMMITMENT_OFFSET}). */
export function isCommittableOffset(lo: bigint): boolean {
  return lo >= -MAX_COMMITMENT_OFFSET && lo < MAX_COMMITMENT_OFFSET;
}

/** Maps a signed integer to its field representative (negative values become p - |v|). */
export function toField(v: bigint): bigint {
  const r = v % FIELD_PRIME;
  return r < 0n ? r + FIELD_PRIME : r;
}

/** Maps a field element back to the signed integer in (-p/2, p/2) it represents. */
export function fromField(v: bigint): bigint {
  return v > FIELD_PRIME / 2n ? v - FIELD_PRIME : v;
}

/** Parses a decimal string as a bigint; `undefined` when it is not one. */
export function parseDecimal(s: string): bigint | undefined {
  return /^-?\d+$/.test(s) ? BigInt(s) : undefined;
}

/**
 * The one spelling of a number in verinfer's wire and file formats (receipts, manifests, verification keys, proofs,
 * calldata, salts): a non-negative decimal integer of at most 78 digits (enough for 2^256) without leading zeros.
 * One spelling per number: a verifier compares these as integers and a hash reduces them mod p, so a second
 * spelling (or n + p) would be a second receipt, or a false statement, for one proof. Range checks (below p, below
 * 2^256) are the reader's.
 */
export const DECIMAL_STRING = /^(0|[1-9]\d{0,77})$/;

/** Whether `value` is a {@link DECIMAL_STRING}. */
export function isDecimalString(value: unknown): value is string {
  return typeof value === "string" && DECIMAL_STRING.test(value);
}
