import { VerinferError } from "../../errors.js";

/** Bytes of a field element in `.r1cs` and `.wtns` files. */
export const N8 = 32;

const LIMIT = 1n << BigInt(8 * N8);

/**
 * Writes v (in [0, 2^256)) as 32 little-endian bytes at `offset` of a zero-filled buffer: through its hex digits,
 * far faster than byte-wise shifts. Bytes a small value leaves untouched must already be zero.
 *
 * @throws VerinferError `INTERNAL` for a negative value or one of 2^256 or more (it would not fit its 32 bytes).
 * @example
 * ```ts
 * writeLE(out, pos, FIELD_PRIME);
 * ```
 */
export function writeLE(out: Uint8Array, offset: number, v: bigint): void {
  if (v < 0n || v >= LIMIT) throw new VerinferError("INTERNAL", "a field element to write is outside [0, 2^256)");
  if (v < 256n) {
    out[offset] = Number(v);
    return;
  }
  const hex = v.toString(16).padStart(2 * N8, "0");
  for (let i = 0; i < N8; i++) out[offset + i] = Number.parseInt(hex.slice(2 * (N8 - 1 - i), 2 * (N8 - i)), 16);
}
