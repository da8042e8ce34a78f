import { VerinferError } from "../../errors.js";
import { FIELD_PRIME } from "../../util/field.js";
import { decodeTerms, encodeTerms, TERM_BYTES } from "./constraint-store.js";
import type { ConstraintSystem } from "./constraint-system.js";
import { Terms } from "./linear-terms.js";
import { N8, writeLE } from "./write-le.js";

/** A recorded constraint that reads a removed wire: where it lies in its segment, and its substituted encoding. */
interface Substituted {
  segment: number;
  start: number;
  end: number;
  bytes: Uint8Array;
}

/**
 * The constraints of `store` that read a wire below which `index` is not the identity and that `index` removes
 * (a segment whose wires all lie below `firstRemoved` holds none), substituted and re-encoded (original numbering).
 */
function substituteRemoved(cs: ConstraintSystem, index: Int32Array, firstRemoved: number): Substituted[] {
  const store = cs.store;
  const maxWires = store.segmentMaxWires();
  const found: Substituted[] = [];
  const read = new Set<number>();
  for (const [segment, seg] of store.segments().entries()) {
    if ((maxWires[segment] as number) < firstRemoved) continue;
    const view = new DataView(seg.buffer, seg.byteOffset, seg.byteLength);
    for (let start = 0; start < seg.length; ) {
      let pos = start;
      let readsRemoved = false;
      for (let list = 0; list < 3; list++) {
        const n = view.getUint32(pos, true);
        pos += 4;
        for (let k = 0; k < n; k++, pos += TERM_BYTES) {
          const w = view.getUint32(pos, true);
          if (w >= firstRemoved && (index[w] as number) < 0) readsRemoved = true;
        }
      }
      if (readsRemoved) {
        const lists = [];
        for (let list = 0, at = start; list < 3; list++) {
          const { terms, end } = decodeTerms(view, at);
          lists.push(Terms.fromMap(cs.substitute(terms, read)));
          at = end;
        }
        const bytes = new Uint8Array(12 + lists.reduce((n, t) => n + t.size, 0) * TERM_BYTES);
        const encView = new DataView(bytes.buffer);
        let at = 0;
        for (const t of lists) at = encodeTerms(bytes, encView, at, t, false);
        found.push({ segment, start, end: pos, bytes });
      }
      start = pos;
    }
  }
  cs.assertRemovedRead(read);
  return found;
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
  let firstRemoved = index.length;
  for (let w = 0; w < index.length; w++) {
    if ((index[w] as number) < 0) {
      firstRemoved = w;
      break;
    }
  }
  const store = cs.store;
  // The few constraints that read a removed wire (where public outputs took internal wires' places), substituted and
  // re-encoded; every other constraint is copied as recorded, its wires renumbered.
  const substituted = substituteRemoved(cs, index, firstRemoved);
  let constraintsSize = 0;
  for (const seg of store.segments()) constraintsSize += seg.length;
  for (const s of substituted) constraintsSize += s.bytes.length - (s.end - s.start);
  const headerSize = 4 + N8 + 4 * 4 + 8 + 4;
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
  view.setUint32(pos + 24, store.count, true);
  pos += 28;

  section(2, constraintsSize);
  const sectionStart = pos;
  let next = 0;
  for (const [segment, seg] of store.segments().entries()) {
    let from = 0;
    for (let s = substituted[next]; s !== undefined && s.segment === segment; s = substituted[++next]) {
      out.set(seg.subarray(from, s.start), pos);
      pos += s.start - from;
      out.set(s.bytes, pos);
      pos += s.bytes.length;
      from = s.end;
    }
    out.set(seg.subarray(from), pos);
    pos += seg.length - from;
  }
  // Renumber the wires (removed wires dropped; the order of the others is unchanged, so the terms stay sorted); below
  // the first removed wire the numbering is the identity.
  for (let at = sectionStart; at < pos; ) {
    const n = view.getUint32(at, true);
    at += 4;
    for (let k = 0; k < n; k++, at += TERM_BYTES) {
      const w = view.getUint32(at, true);
      if (w < firstRemoved) continue;
      const i = index[w] as number;
      if (i < 0) throw new VerinferError("INTERNAL", "a removed wire is still read by a constraint");
      view.setUint32(at, i, true);
    }
  }

  section(3, mapSize);
  for (let w = 0; w < nWires; w++) {
    view.setBigUint64(pos, BigInt(w), true);
    pos += 8;
  }
  return out;
}
