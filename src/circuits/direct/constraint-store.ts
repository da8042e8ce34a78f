import { FIELD_PRIME } from "../../util/field.js";
import type { Terms } from "./constraint-system.js";
import { N8, writeLE } from "./write-le.js";

/** Bytes of one term: the wire (u32) and its coefficient (N8 bytes, little-endian). */
export const TERM_BYTES = 4 + N8;

const FIRST_CHUNK = 1 << 16;
const LARGEST_CHUNK = 1 << 24;

/** Terms in t, or in t − 1 when `less1` (a booleanity constraint's B, derived from its A). */
export function termCount(t: Terms, less1: boolean): number {
  if (!less1) return t.size;
  const c0 = t.get(0);
  return t.size + (c0 === undefined ? 1 : c0 === 1n ? -1 : 0);
}

/** A reusable array for sorting the wires of a list. */
export class WireScratch {
  private keys = new Float64Array(64);

  /** An array of at least n entries. */
  get(n: number): Float64Array {
    if (this.keys.length < n) this.keys = new Float64Array(2 * n);
    return this.keys;
  }
}

/**
 * The recorded constraints of a compile, already encoded as the `.r1cs` constraints section encodes them (per
 * list: a u32 count, then wire u32 + 32-byte little-endian coefficient by ascending wire), in the original wire
 * numbering — the writer renumbers wires after the removed ones and substitutes the few constraints that read a
 * removed wire. Held in a few large byte chunks rather than as maps of bigints: a million-constraint compile would
 * otherwise keep tens of millions of small objects alive, and the garbage collector would spend most of the
 * compile walking them.
 */
export class ConstraintStore {
  /** Number of constraints recorded. */
  count = 0;
  private readonly full: Uint8Array[] = [];
  private chunk = new Uint8Array(0);
  private view = new DataView(this.chunk.buffer);
  private pos = 0;
  private readonly scratch = new WireScratch();

  /** Records A·B = C; `b` null means B = A − 1 (a booleanity constraint). */
  add(a: Terms, b: Terms | null, c: Terms): void {
    const size = 12 + (a.size + (b === null ? termCount(a, true) : b.size) + c.size) * TERM_BYTES;
    if (this.pos + size > this.chunk.length) {
      if (this.pos > 0) this.full.push(this.chunk.subarray(0, this.pos));
      const next = Math.min(Math.max(2 * this.chunk.length, FIRST_CHUNK), LARGEST_CHUNK);
      this.chunk = new Uint8Array(Math.max(next, size));
      this.view = new DataView(this.chunk.buffer);
      this.pos = 0;
    }
    this.pos = encodeTerms(this.chunk, this.view, this.pos, a, false, this.scratch);
    this.pos = encodeTerms(this.chunk, this.view, this.pos, b ?? a, b === null, this.scratch);
    this.pos = encodeTerms(this.chunk, this.view, this.pos, c, false, this.scratch);
    this.count++;
  }

  /** The encoded constraints, in order (each constraint lies within one segment). */
  segments(): Uint8Array[] {
    return this.pos > 0 ? [...this.full, this.chunk.subarray(0, this.pos)] : [...this.full];
  }
}

/**
 * Writes t (t − 1 when `less1`) at `pos`: the count, then the terms by ascending wire (most lists are built in
 * wire order; one that is not is sorted). Returns the position after it. The bytes must be zero.
 */
export function encodeTerms(
  out: Uint8Array,
  view: DataView,
  pos: number,
  t: Terms,
  less1: boolean,
  scratch: WireScratch,
): number {
  view.setUint32(pos, termCount(t, less1), true);
  let at = pos + 4;
  const put = (w: number, c: bigint) => {
    if (less1 && w === 0) {
      if (c === 1n) return;
      c = c === 0n ? FIELD_PRIME - 1n : c - 1n;
    }
    view.setUint32(at, w, true);
    writeLE(out, at + 4, c);
    at += TERM_BYTES;
  };
  // Wire 0 is the smallest: t − 1 without a constant term starts with wire 0's p − 1 (put reads 0 as "absent").
  if (less1 && !t.has(0)) put(0, 0n);
  const keys = scratch.get(t.size);
  let n = 0;
  let sorted = true;
  for (const w of t.keys()) {
    if (n > 0 && w < (keys[n - 1] as number)) sorted = false;
    keys[n++] = w;
  }
  if (sorted) {
    for (const [w, c] of t) put(w, c);
  } else {
    for (const w of keys.subarray(0, n).sort()) put(w, t.get(w) as bigint);
  }
  return at;
}

/** Reads back a list {@link encodeTerms} wrote at `pos`: its terms and the position after it. */
export function decodeTerms(view: DataView, pos: number): { terms: Terms; end: number } {
  const n = view.getUint32(pos, true);
  const terms: Terms = new Map();
  let at = pos + 4;
  for (let k = 0; k < n; k++) {
    let c = 0n;
    for (let b = N8 - 8; b >= 0; b -= 8) c = (c << 64n) | view.getBigUint64(at + 4 + b, true);
    terms.set(view.getUint32(at, true), c);
    at += TERM_BYTES;
  }
  return { terms, end: at };
}
