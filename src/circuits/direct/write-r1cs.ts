import { VerinferError } from "../../errors.js";
import { FIELD_PRIME } from "../../util/field.js";
import type { ConstraintStore } from "./constraint-store.js";
import { decodeTerms, encodeTerms, TERM_BYTES } from "./constraint-store.js";
import type { ConstraintSystem } from "./constraint-system.js";
import { Terms } from "./linear-terms.js";
import { N8, writeLE } from "./write-le.js";

/** Calls `visit` with each recorded constraint's bytes (a view on the store's segment) and whether it reads a removed wire. */
function eachConstraint(
  store: ConstraintStore,
  index: Int32Array,
  visit: (bytes: Uint8Array, view: DataView, readsRemoved: boolean) => void,
): void {
  for (const seg of store.segments()) {
    const view = new DataView(seg.buffer, seg.byteOffset, seg.byteLength);
    let pos = 0;
    while (pos < seg.length) {
      const start = pos;
      let readsRemoved = false;
      for (let list = 0; list < 3; list++) {
        const n = view.getUint32(pos, true);
        pos += 4;
        for (let k = 0; k < n; k++, pos += TERM_BYTES) {
          if ((index[view.getUint32(pos, true)] as number) < 0) readsRemoved = true;
        }
      }
      visit(seg.subarray(start, pos), new DataView(seg.buffer, seg.byteOffset + start, pos - start), readsRemoved);
    }
  }
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
  const store = cs.store;
  // The few constraints that read a removed wire (where public outputs took internal wires' places), substituted and
  // re-encoded; every other constraint is copied as recorded, its wires renumbered.
  const substituted: Uint8Array[] = [];
  const read = new Set<number>();
  let constraintsSize = 0;
  eachConstraint(store, index, (bytes, view, readsRemoved) => {
    if (!readsRemoved) {
      constraintsSize += bytes.length;
      return;
    }
    const lists = [];
    for (let list = 0, pos = 0; list < 3; list++) {
      const { terms, end } = decodeTerms(view, pos);
      lists.push(Terms.fromMap(cs.substitute(terms, read)));
      pos = end;
    }
    const size = 12 + lists.reduce((n, t) => n + t.size, 0) * TERM_BYTES;
    const enc = new Uint8Array(size);
    const encView = new DataView(enc.buffer);
    let pos = 0;
    for (const t of lists) pos = encodeTerms(enc, encView, pos, t, false);
    substituted.push(enc);
    constraintsSize += size;
  });
  cs.assertRemovedRead(read);
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
  let next = 0;
  eachConstraint(store, index, (recorded, _view, readsRemoved) => {
    const bytes = readsRemoved ? (substituted[next++] as Uint8Array) : recorded;
    out.set(bytes, pos);
    // Renumber the wires (removed wires dropped; the order of the others is unchanged, so the terms stay sorted).
    for (let list = 0; list < 3; list++) {
      const n = view.getUint32(pos, true);
      pos += 4;
      for (let k = 0; k < n; k++, pos += TERM_BYTES) {
        const i = index[view.getUint32(pos, true)] as number;
        if (i < 0) throw new VerinferError("INTERNAL", "a removed wire is still read by a constraint");
        view.setUint32(pos, i, true);
      }
    }
  });

  section(3, mapSize);
  for (let w = 0; w < nWires; w++) {
    view.setBigUint64(pos, BigInt(w), true);
    pos += 8;
  }
  return out;
}
