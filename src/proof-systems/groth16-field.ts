/**
 * Exact arithmetic on BN254 scalars for the Groth16 prover's sparse products (A·w, B·w, C·w): values are held as
 * JavaScript numbers where they are small (|v| < 2^52, signed: p − x is −x) and as bigints mod p otherwise, so the
 * common products of small weights and small wires never touch a bigint.
 *
 * @module
 */
import { FIELD_PRIME, toField } from "../util/field.js";

const P = FIELD_PRIME;
const MASK64 = (1n << 64n) - 1n;

/**
 * A vector of field elements, small ones as signed numbers in `num` (NaN where the value is not small) and the
 * others as bigints in [0, p) in `big`, by index.
 */
export interface FieldVector {
  num: Float64Array;
  big: Map<number, bigint>;
}

/** A sparse matrix in compressed rows: row `i`'s terms are `start[i] .. start[i+1]`, each (signal, coefficient). */
export interface SparseRows {
  rows: number;
  start: Int32Array;
  signal: Int32Array;
  /** Coefficients as a {@link FieldVector} over the terms. */
  coef: FieldVector;
}

/** Reads a 32-byte little-endian integer. */
export function readU256(view: DataView, at: number): bigint {
  return (
    view.getBigUint64(at, true) |
    (view.getBigUint64(at + 8, true) << 64n) |
    (view.getBigUint64(at + 16, true) << 128n) |
    (view.getBigUint64(at + 24, true) << 192n)
  );
}

/** Writes a bigint in [0, 2^256) as 32 little-endian bytes. */
export function writeU256(view: DataView, at: number, v: bigint): void {
  view.setBigUint64(at, v & MASK64, true);
  view.setBigUint64(at + 8, (v >> 64n) & MASK64, true);
  view.setBigUint64(at + 16, (v >> 128n) & MASK64, true);
  view.setBigUint64(at + 24, v >> 192n, true);
}

/** `b^e mod P`. */
export function powMod(b: bigint, e: bigint): bigint {
  let r = 1n;
  let x = b % P;
  let k = e;
  while (k > 0n) {
    if (k & 1n) r = (r * x) % P;
    x = (x * x) % P;
    k >>= 1n;
  }
  return r;
}

/** Stores field element `v` (in [0, p)) at `i`: as a signed number when small, else as a bigint. */
export function setElement(vec: FieldVector, i: number, v: bigint): void {
  if (v < 4503599627370496n) {
    vec.num[i] = Number(v);
  } else if (P - v < 4503599627370496n) {
    vec.num[i] = -Number(P - v);
  } else {
    vec.num[i] = Number.NaN;
    vec.big.set(i, v);
  }
}

/** The element at `i` in [0, p). */
export function elementAt(vec: FieldVector, i: number): bigint {
  const n = vec.num[i] as number;
  if (!Number.isNaN(n)) return n < 0 ? P - BigInt(-n) : BigInt(n);
  return vec.big.get(i) as bigint;
}

const mod = toField;

/**
 * `out[i] = Σ coef·w` over each row of `m`, exactly: number arithmetic while every product and partial sum stays
 * below 2^53 in magnitude (then exact), a bigint accumulator for the rest, one reduction mod p per row that needs one.
 */
export function multiplyRows(m: SparseRows, w: FieldVector, out: FieldVector): void {
  const { start, signal } = m;
  const cn = m.coef.num;
  const wn = w.num;
  const MAX = Number.MAX_SAFE_INTEGER;
  for (let row = 0; row < m.rows; row++) {
    let acc = 0;
    let accBig = 0n;
    let slow = false;
    const end = start[row + 1] as number;
    for (let k = start[row] as number; k < end; k++) {
      const s = signal[k] as number;
      const c = cn[k] as number;
      const x = wn[s] as number;
      const prod = c * x;
      // NaN (a big operand) fails both comparisons; an inexact product or sum exceeds MAX.
      if (prod <= MAX && prod >= -MAX) {
        const t = acc + prod;
        if (t <= MAX && t >= -MAX) {
          acc = t;
          continue;
        }
      }
      accBig += elementAt(m.coef, k) * elementAt(w, s);
      slow = true;
    }
    if (!slow) {
      out.num[row] = acc;
    } else {
      setElement(out, row, mod(accBig + BigInt(acc)));
    }
  }
}

/** `out[i] = a[i]·b[i]` for `i < n`, exactly. */
export function multiplyPointwise(a: FieldVector, b: FieldVector, n: number, out: FieldVector): void {
  const MAX = Number.MAX_SAFE_INTEGER;
  for (let i = 0; i < n; i++) {
    const prod = (a.num[i] as number) * (b.num[i] as number);
    if (prod <= MAX && prod >= -MAX) {
      out.num[i] = prod === 0 ? 0 : prod;
    } else {
      setElement(out, i, (elementAt(a, i) * elementAt(b, i)) % P);
    }
  }
}

/**
 * The first row where `a∘b` and `c` differ as field elements, or −1 when they agree on every row `< n`.
 */
export function firstMismatch(a: FieldVector, b: FieldVector, c: FieldVector, n: number): number {
  const MAX = Number.MAX_SAFE_INTEGER;
  for (let i = 0; i < n; i++) {
    const prod = (a.num[i] as number) * (b.num[i] as number);
    const ci = c.num[i] as number;
    // Both sides exact and below 2^53: equal mod p exactly when equal as integers (their difference is < p).
    if (prod <= MAX && prod >= -MAX && !Number.isNaN(ci)) {
      if (prod !== ci) return i;
      continue;
    }
    if ((elementAt(a, i) * elementAt(b, i)) % P !== elementAt(c, i)) return i;
  }
  return -1;
}

/** p's eight 32-bit limbs, little-endian. */
const P_LIMBS = Uint32Array.from({ length: 8 }, (_, i) => Number((P >> BigInt(32 * i)) & 0xffffffffn));

/**
 * Writes the first `n` elements of `vec` as 32-byte little-endian integers in [0, p) (snarkjs's normal form) into
 * `out`, which must be zero there already.
 */
export function writeVector(vec: FieldVector, n: number, out: Uint8Array): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < n; i++) {
    const v = vec.num[i] as number;
    const at = i * 32;
    if (v === 0) continue;
    if (v > 0) {
      view.setUint32(at, v >>> 0, true);
      view.setUint32(at + 4, Math.floor(v / 4294967296), true);
    } else if (v < 0) {
      // p − |v| by limbs: |v| < 2^52 spans the two lowest limbs.
      const m = -v;
      let borrow = 0;
      const lo = m % 4294967296;
      const hi = Math.floor(m / 4294967296);
      for (let l = 0; l < 8; l++) {
        const sub = l === 0 ? lo : l === 1 ? hi : 0;
        let d = (P_LIMBS[l] as number) - sub - borrow;
        borrow = d < 0 ? 1 : 0;
        if (d < 0) d += 4294967296;
        view.setUint32(at + 4 * l, d, true);
      }
    } else {
      writeU256(view, at, vec.big.get(i) as bigint);
    }
  }
}

/**
 * Reads `n` 32-byte little-endian field elements (snarkjs's normal form) starting at byte `at` into a
 * {@link FieldVector}.
 *
 * @returns the vector, or the index of the first value that is not below p.
 */
export function readVector(bytes: Uint8Array, at: number, n: number): FieldVector | { notReduced: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const vec: FieldVector = { num: new Float64Array(n), big: new Map() };
  for (let i = 0; i < n; i++) {
    const o = at + 32 * i;
    const hi = view.getUint32(o + 4, true);
    if (
      hi < 0x100000 &&
      view.getUint32(o + 8, true) === 0 &&
      view.getUint32(o + 12, true) === 0 &&
      view.getBigUint64(o + 16, true) === 0n &&
      view.getBigUint64(o + 24, true) === 0n
    ) {
      vec.num[i] = hi * 4294967296 + view.getUint32(o, true);
      continue;
    }
    const v = readU256(view, o);
    if (v >= P) return { notReduced: i };
    setElement(vec, i, v);
  }
  return vec;
}
