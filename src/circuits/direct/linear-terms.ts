import { FIELD_PRIME, toField as modP } from "../../util/field.js";

/** The largest magnitude a coefficient is kept as a number under: every integer up to it is exact in a double. */
const SAFE = Number.MAX_SAFE_INTEGER;
const SAFE_BIG = BigInt(SAFE);

/**
 * The coefficients of a linear combination by ascending wire (wire 0 is the constant 1), each nonzero mod p. Kept
 * compact for a million-constraint build: wires in an `Int32Array`, coefficients as signed integers in a
 * `Float64Array` (c stands for c mod p, so −1 costs a number, not the 254-bit p − 1), and a bigint only for a
 * coefficient of 2^53 or more in magnitude both ways (Poseidon's constants). Immutable: combinations share arrays.
 * Reads like a `Map<number, bigint>` of field elements in [1, p) (`size`, `get`, `has`, iteration).
 */
export class Terms {
  constructor(
    /** Ascending, distinct. */
    readonly wires: Int32Array,
    /** Signed integers of magnitude ≤ 2^53 − 1, never 0; NaN where `big` holds the coefficient. */
    readonly coeffs: Float64Array,
    /** Field elements in [1, p) where `coeffs` is NaN; absent when every coefficient is a number. */
    readonly big?: ReadonlyArray<bigint | undefined>,
  ) {}

  /** Number of terms. */
  get size(): number {
    return this.wires.length;
  }

  /** The coefficient of term i as a field element in [1, p). */
  fieldAt(i: number): bigint {
    const c = this.coeffs[i] as number;
    if (Number.isNaN(c)) return this.big?.[i] as bigint;
    return c < 0 ? FIELD_PRIME - BigInt(-c) : BigInt(c);
  }

  /** Index of wire w, or −1. */
  indexOf(w: number): number {
    const wires = this.wires;
    let lo = 0;
    let hi = wires.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = wires[mid] as number;
      if (v === w) return mid;
      if (v < w) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The coefficient of wire w as a field element in [1, p), or undefined. */
  get(w: number): bigint | undefined {
    const i = this.indexOf(w);
    return i < 0 ? undefined : this.fieldAt(i);
  }

  /** Whether wire w has a term. */
  has(w: number): boolean {
    return this.indexOf(w) >= 0;
  }

  /** (wire, field coefficient) pairs by ascending wire. */
  *[Symbol.iterator](): IterableIterator<[number, bigint]> {
    for (let i = 0; i < this.wires.length; i++) yield [this.wires[i] as number, this.fieldAt(i)];
  }

  /** The terms of a map of field coefficients (zero ones dropped), sorted by wire. */
  static fromMap(m: ReadonlyMap<number, bigint>): Terms {
    const entries = [...m].filter(([, c]) => modP(c) !== 0n).sort(([u], [v]) => u - v);
    const wires = new Int32Array(entries.length);
    const coeffs = new Float64Array(entries.length);
    let big: Array<bigint | undefined> | undefined;
    entries.forEach(([w, c], i) => {
      wires[i] = w;
      const x = small(modP(c));
      if (x === undefined) {
        coeffs[i] = Number.NaN;
        big ??= [];
        big[i] = modP(c);
      } else coeffs[i] = x;
    });
    return new Terms(wires, coeffs, big);
  }

  /** One term: wire w with coefficient c (nonzero mod p). */
  static single(w: number, c: bigint): Terms {
    const wires = Int32Array.of(w);
    const x = small(modP(c));
    if (x !== undefined) return new Terms(wires, Float64Array.of(x));
    return new Terms(wires, Float64Array.of(Number.NaN), [modP(c)]);
  }
}

/** The empty combination. */
export const NO_TERMS = new Terms(new Int32Array(0), new Float64Array(0));

/** A field element r in [0, p) as the signed integer of least magnitude it stands for, if that is ≤ 2^53 − 1. */
function small(r: bigint): number | undefined {
  if (r <= SAFE_BIG) return Number(r);
  const neg = FIELD_PRIME - r;
  return neg <= SAFE_BIG ? -Number(neg) : undefined;
}

/**
 * Sums of scaled {@link Terms} (`Σ k·t`), accumulated in arrays indexed by wire: numbers while the running sums stay
 * exact (|x| ≤ 2^53 − 1), bigints for the few that do not. One per constraint system, reused by every sum: no map,
 * and no bigint allocated for the small coefficients of weights and offsets.
 */
export class TermAccumulator {
  private acc = new Float64Array(1024);
  /** 0: untouched, 1: the sum is in `acc`, 2: in `bigAcc`. */
  private state = new Uint8Array(1024);
  private readonly bigAcc = new Map<number, bigint>();
  private touched = new Int32Array(256);
  private n = 0;
  private sorted = true;

  private touch(w: number, s: number): void {
    if (w >= this.state.length) {
      let size = this.state.length;
      while (size <= w) size *= 2;
      const acc = new Float64Array(size);
      acc.set(this.acc);
      this.acc = acc;
      const state = new Uint8Array(size);
      state.set(this.state);
      this.state = state;
    }
    if (this.n === this.touched.length) {
      const touched = new Int32Array(2 * this.n);
      touched.set(this.touched);
      this.touched = touched;
    }
    if (this.n > 0 && w < (this.touched[this.n - 1] as number)) this.sorted = false;
    this.touched[this.n++] = w;
    this.state[w] = s;
  }

  /** Adds x (an exact integer, |x| ≤ 2^53 − 1) to wire w's coefficient. */
  addNumber(w: number, x: number): void {
    const s = w < this.state.length ? (this.state[w] as number) : 0;
    if (s === 0) {
      this.touch(w, 1);
      this.acc[w] = x;
    } else if (s === 1) {
      const sum = (this.acc[w] as number) + x;
      if (sum <= SAFE && sum >= -SAFE) this.acc[w] = sum;
      else {
        this.state[w] = 2;
        this.bigAcc.set(w, BigInt(this.acc[w] as number) + BigInt(x));
      }
    } else this.bigAcc.set(w, (this.bigAcc.get(w) as bigint) + BigInt(x));
  }

  /** Adds x to wire w's coefficient. */
  addBig(w: number, x: bigint): void {
    const s = w < this.state.length ? (this.state[w] as number) : 0;
    if (s === 0) {
      this.touch(w, 2);
      this.bigAcc.set(w, x);
    } else if (s === 1) {
      this.state[w] = 2;
      this.bigAcc.set(w, BigInt(this.acc[w] as number) + x);
    } else this.bigAcc.set(w, (this.bigAcc.get(w) as bigint) + x);
  }

  /** Adds k·t. */
  addScaled(t: Terms, k: bigint): void {
    const { wires, coeffs } = t;
    const kn = k <= SAFE_BIG && k >= -SAFE_BIG ? Number(k) : undefined;
    for (let i = 0; i < wires.length; i++) {
      const w = wires[i] as number;
      const c = coeffs[i] as number;
      if (kn !== undefined && !Number.isNaN(c)) {
        const x = kn * c;
        // A product of magnitude ≤ 2^53 − 1 is exact (a larger true product never rounds below 2^53).
        if (x <= SAFE && x >= -SAFE) {
          this.addNumber(w, x);
          continue;
        }
        this.addBig(w, k * BigInt(c));
      } else this.addBig(w, k * t.fieldAt(i));
    }
  }

  /** The accumulated sum (terms ≡ 0 mod p dropped), and the accumulator reset. */
  take(): Terms {
    const n = this.n;
    if (n === 0) return NO_TERMS;
    const touched = this.touched.subarray(0, n);
    if (!this.sorted) touched.sort();
    const wires = new Int32Array(n);
    const coeffs = new Float64Array(n);
    let big: Array<bigint | undefined> | undefined;
    let m = 0;
    for (let j = 0; j < n; j++) {
      const w = touched[j] as number;
      if (this.state[w] === 1) {
        const x = this.acc[w] as number;
        if (x !== 0) {
          wires[m] = w;
          coeffs[m++] = x;
        }
      } else {
        const r = modP(this.bigAcc.get(w) as bigint);
        if (r !== 0n) {
          wires[m] = w;
          const x = small(r);
          if (x === undefined) {
            coeffs[m] = Number.NaN;
            big ??= [];
            big[m] = r;
          } else coeffs[m] = x;
          m++;
        }
      }
      this.state[w] = 0;
    }
    if (this.bigAcc.size > 0) this.bigAcc.clear();
    this.n = 0;
    this.sorted = true;
    if (m === n) return new Terms(wires, coeffs, big);
    return new Terms(wires.slice(0, m), coeffs.slice(0, m), big?.slice(0, m));
  }
}
