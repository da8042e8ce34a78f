import { VerinferError } from "../../errors.js";
import { FIELD_PRIME } from "../../util/field.js";
import type { ConstraintSystem, Terms } from "./constraint-system.js";
import { N8, writeLE } from "./write-le.js";

function termsSize(t: Terms): number {
  return 4 + t.size * (4 + N8);
}

/**
 * Writes a constraint system as a `.r1cs` file, version 1 — the format circom writes and snarkjs reads (header,
 * constraints, wire-to-label map; coefficients as 32-byte little-endian integers in [0, p), terms by ascending
 * wire). Public outputs are wires 1..nPublic, then the private inputs; there are no public inputs. Each wire is
 * its own label. Written byte by byte rather than through r1csfile, whose installed version (0.0.48) reads only;
 * snarkjs's `r1cs info` and `wtns check` and the independent parser in test/r1cs-check.ts read it back in tests.
 *
 * @example
 * ```ts
 * const bytes = writeR1cs(cs); // cs built with track: true
 * ```
 */
export function writeR1cs(cs: ConstraintSystem): Uint8Array {
  const nWires = cs.nWires;
  const index = cs.wireIndex();
  const constraints = cs.finalConstraints();
  const headerSize = 4 + N8 + 4 * 4 + 8 + 4;
  let constraintsSize = 0;
  for (const [a, b, c] of constraints) constraintsSize += termsSize(a) + termsSize(b) + termsSize(c);
  const mapSize = nWires * 8;
  const total = 12 + 3 * 12 + headerSize + constraintsSize + mapSize;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set([..."r1cs"].map((ch) => ch.charCodeAt(0)));
  view.setUint32(4, 1, true);
  view.setUint32(8, 3, true);
  let pos = 12;
  const section = (type: number, size: number) => {
    view.setUint32(pos, type, true);
    view.setBigUint64(pos + 4, BigInt(size), true);
    pos += 12;
  };

  section(1, headerSize);
  view.setUint32(pos, N8, true);
  writeLE(out, pos + 4, FIELD_PRIME);
  pos += 4 + N8;
  view.setUint32(pos, nWires, true);
  view.setUint32(pos + 4, cs.nPublic, true);
  view.setUint32(pos + 8, 0, true);
  view.setUint32(pos + 12, cs.nPrivateInputs, true);
  view.setBigUint64(pos + 16, BigInt(nWires), true);
  view.setUint32(pos + 24, constraints.length, true);
  pos += 28;

  section(2, constraintsSize);
  const writeTerms = (t: Terms) => {
    view.setUint32(pos, t.size, true);
    pos += 4;
    const wires = [...t.keys()].sort((x, y) => x - y);
    for (const w of wires) {
      const i = index[w] as number;
      if (i < 0) throw new VerinferError("INTERNAL", `removed wire ${w} is still read by a constraint`);
      view.setUint32(pos, i, true);
      writeLE(out, pos + 4, t.get(w) as bigint);
      pos += 4 + N8;
    }
  };
  for (const [a, b, c] of constraints) {
    writeTerms(a);
    writeTerms(b);
    writeTerms(c);
  }

  section(3, mapSize);
  for (let w = 0; w < nWires; w++) {
    view.setBigUint64(pos, BigInt(w), true);
    pos += 8;
  }
  return out;
}
