import { FIELD_PRIME } from "../../util/field.js";
import type { Terms } from "./linear-terms.js";
import { N8, writeLE } from "./write-le.js";

/** Bytes of one term: the wire (u32) and its coefficient (N8 bytes, little-endian). */
export const TERM_BYTES = 4 + N8;

const FIRST_CHUNK = 1 << 16;
const LARGEST_CHUNK = 1 << 24;

/** Terms in t, or in t − 1 when `less1` (a booleanity constraint's B, derived from its A). */
export function termCount(t: Terms, less1: boolean): number {
  if (!less1) return t.size;
  if (t.size === 0 || t.wires[0] !== 0) return t.size + 1;
  return t.coeffs[0] === 1 ? t.size - 1 : t.size;
}

/** p's 32 little-endian bytes (to copy the high ones of p − m) and its 32-bit limbs. */
const P_BYTES = new Uint8Array(N8);
writeLE(P_BYTES, 0, FIELD_PRIME);
const P_VIEW = new DataView(P_BYTES.buffer);
const P_LIMBS = Array.from({ length: N8 / 4 }, (_, k) => P_VIEW.getUint32(4 * k, true));
const TWO32 = 2 ** 32;

/**
 * Writes the field element of the integer c (|c| ≤ 2^53, nonzero) at `at`: c, or p − |c| for a negative c, as 32-bit
 * limbs with a borrow until it is spent, then p's own bytes. The bytes must be zero.
 */
function writeSmall(out: Uint8Array, view: DataView, at: number, c: number): void {
  const m = c < 0 ? -c : c;
  const lo = m % TWO32;
  const hi = (m - lo) / TWO32;
  if (c > 0) {
    view.setUint32(at, lo, true);
    if (hi > 0) view.setUint32(at + 4, hi, true);
    return;
  }
  let d = (P_LIMBS[0] as number) - lo;
  let borrow = d < 0 ? 1 : 0;
  view.setUint32(at, d + borrow * TWO32, true);
  d = (P_LIMBS[1] as number) - hi - borrow;
  borrow = d < 0 ? 1 : 0;
  view.setUint32(at + 4, d + borrow * TWO32, true);
  let k = 2;
  for (; borrow > 0 && k < P_LIMBS.length; k++) {
    d = (P_LIMBS[k] as number) - 1;
    borrow = d < 0 ? 1 : 0;
    view.setUint32(at + 4 * k, d + borrow * TWO32, true);
  }
  out.set(P_BYTES.subarray(4 * k), at + 4 * k);
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
  /** The largest wire each full chunk's constraints read, and the current chunk's. */
  private readonly fullMaxWire: number[] = [];
  private maxWire = -1;
  private chunk = new Uint8Array(0);
  private view = new DataView(this.chunk.buffer);
  private pos = 0;

  /** Records A·B = C; `b` null means B = A − 1 (a booleanity constraint). */
  add(a: Terms, b: Terms | null, c: Terms): void {
    const size = 12 + (a.size + (b === null ? termCount(a, true) : b.size) + c.size) * TERM_BYTES;
    if (this.pos + size > this.chunk.length) {
      if (this.pos > 0) {
        this.full.push(this.chunk.subarray(0, this.pos));
        this.fullMaxWire.push(this.maxWire);
        this.maxWire = -1;
      }
      const next = Math.min(Math.max(2 * this.chunk.length, FIRST_CHUNK), LARGEST_CHUNK);
      this.chunk = new Uint8Array(Math.max(next, size));
      this.view = new DataView(this.chunk.buffer);
      this.pos = 0;
    }
    this.pos = encodeTerms(this.chunk, this.view, this.pos, a, false);
    this.pos = encodeTerms(this.chunk, this.view, this.pos, b ?? a, b === null);
    this.pos = encodeTerms(this.chunk, this.view, this.pos, c, false);
    this.count++;
    // Terms are sorted: each list's last wire is its largest (no array per constraint: this runs a million times).
    this.maxWire = Math.max(this.maxWire, lastWire(a), lastWire(b), lastWire(c));
  }

  /** The encoded constraints, in order (each constraint lies within one segment). */
  segments(): Uint8Array[] {
    return this.pos > 0 ? [...this.full, this.chunk.subarray(0, this.pos)] : [...this.full];
  }

  /** The largest wire the constraints of each of {@link segments} read (−1 for none). */
  segmentMaxWires(): number[] {
    return this.pos > 0 ? [...this.fullMaxWire, this.maxWire] : [...this.fullMaxWire];
  }
}

/**
 * Writes t (t − 1 when `less1`) at `pos`: the count, then the terms by ascending wire (as {@link Terms} holds them).
 * Returns the position after it. The bytes must be zero.
 */
export function encodeTerms(out: Uint8Array, view: DataView, pos: number, t: Terms, less1: boolean): number {
  view.setUint32(pos, termCount(t, less1), true);
  let at = pos + 4;
  const { wires, coeffs } = t;
  let i = 0;
  if (less1) {
    // Wire 0 is the smallest: t − 1 changes (or adds, or drops) the first term.
    // Most are a bit's own: A = w, B = w − 1 (p − 1 on wire 0, written as the small integer −1).
    const c0 = wires.length > 0 && wires[0] === 0 ? (coeffs[0] as number) : 0;
    if (wires.length > 0 && wires[0] === 0) i = 1;
    if (c0 !== 1) {
      view.setUint32(at, 0, true);
      if (Number.isNaN(c0)) writeLE(out, at + 4, t.fieldAt(0) - 1n);
      else writeSmall(out, view, at + 4, c0 - 1);
      at += TERM_BYTES;
    }
  }
  for (; i < wires.length; i++) {
    view.setUint32(at, wires[i] as number, true);
    const c = coeffs[i] as number;
    if (Number.isNaN(c)) writeLE(out, at + 4, t.fieldAt(i));
    else writeSmall(out, view, at + 4, c);
    at += TERM_BYTES;
  }
  return at;
}

/** Reads back a list {@link encodeTerms} wrote at `pos`: its terms and the position after it. */
export function decodeTerms(view: DataView, pos: number): { terms: Map<number, bigint>; end: number } {
  const n = view.getUint32(pos, true);
  const terms = new Map<number, bigint>();
  let at = pos + 4;
  for (let k = 0; k < n; k++) {
    let c = 0n;
    for (let b = N8 - 8; b >= 0; b -= 8) c = (c << 64n) | view.getBigUint64(at + 4 + b, true);
    terms.set(view.getUint32(at, true), c);
    at += TERM_BYTES;
  }
  return { terms, end: at };
}

/** The largest wire of sorted terms, or −1 for none. */
function lastWire(t: Terms | null): number {
  return t === null || t.size === 0 ? -1 : (t.wires[t.size - 1] as number);
}
