import { VerinferError } from "../../errors.js";

/** Bytes of a field element in `.r1cs` and `.wtns` files. */
export const N8 = 32;

const LIMIT = 1n << BigInt(8 * N8);
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The value of a lowercase hex digit's char code. */
function hexDigit(code: number): number {
  return code <= 57 ? code - 48 : code - 87;
}

/**
 * Writes v (in [0, 2^256)) as 32 little-endian bytes at `offset` of a zero-filled buffer: a value below 2^53 by
 * number arithmetic, a larger one through its hex digits (one string, read by char code from the end). Bytes a
 * small value leaves untouched must already be zero.
 *
 * @throws VerinferError `INTERNAL` for a negative value or one of 2^256 or more (it would not fit its 32 bytes).
 * @example
 * ```ts
 * writeLE(out, pos, FIELD_PRIME);
 * ```
 */
export function writeLE(out: Uint8Array, offset: number, v: bigint): void {
  if (v < 0n || v >= LIMIT) throw new VerinferError("INTERNAL", "a field element to write is outside [0, 2^256)");
  if (v <= SAFE) {
    let n = Number(v);
    for (let i = offset; n > 0; i++) {
      out[i] = n % 256;
      n = Math.floor(n / 256);
    }
    return;
  }
  const hex = v.toString(16);
  let i = offset;
  let j = hex.length;
  for (; j >= 2; j -= 2) out[i++] = (hexDigit(hex.charCodeAt(j - 2)) << 4) | hexDigit(hex.charCodeAt(j - 1));
  if (j === 1) out[i] = hexDigit(hex.charCodeAt(0));
}
