import { FIELD_PRIME } from "../../util/field.js";
import { N8, writeLE } from "./write-le.js";

/**
 * Writes a witness (values in [0, p), w[0] = 1) as a `.wtns` file, version 2 — what snarkjs's witness calculator
 * writes and its provers read: a header section (field size, prime, count) and the values as 32-byte
 * little-endian integers.
 *
 * @example
 * ```ts
 * const wtns = writeWtns(cs.witness());
 * ```
 */
export function writeWtns(witness: readonly bigint[]): Uint8Array {
  const headerSize = 4 + N8 + 4;
  const dataSize = witness.length * N8;
  const out = new Uint8Array(12 + 12 + headerSize + 12 + dataSize);
  const view = new DataView(out.buffer);
  out.set([..."wtns"].map((c) => c.charCodeAt(0)));
  view.setUint32(4, 2, true);
  view.setUint32(8, 2, true);
  let pos = 12;
  view.setUint32(pos, 1, true);
  view.setBigUint64(pos + 4, BigInt(headerSize), true);
  view.setUint32(pos + 12, N8, true);
  writeLE(out, pos + 16, FIELD_PRIME);
  view.setUint32(pos + 16 + N8, witness.length, true);
  pos += 12 + headerSize;
  view.setUint32(pos, 2, true);
  view.setBigUint64(pos + 4, BigInt(dataSize), true);
  pos += 12;
  for (const v of witness) {
    if (v < 0n || v >= FIELD_PRIME) throw new RangeError("witness values must be reduced mod p");
    if (v !== 0n) writeLE(out, pos, v);
    pos += N8;
  }
  return out;
}
