import { VerinferError } from "../../errors.js";
import { FIELD_PRIME, toField } from "../../util/field.js";
import { ConstraintStore } from "./constraint-store.js";
import { NO_TERMS, TermAccumulator, Terms } from "./linear-terms.js";

export { Terms } from "./linear-terms.js";

const EMPTY: Terms = NO_TERMS;
/** The terms of a fresh wire's combination: coefficient 1 (the wire differs; the coefficient array is shared). */
const ONE = Float64Array.of(1);

/** x mod p in [0, p): util/field's `toField`, under the name the gadgets use. */
export const modP: (x: bigint) => bigint = toField;

/** a^-1 mod p, for a nonzero mod p (Fermat). */
export function modInverse(a: bigint): bigint {
  let result = 1n;
  let base = modP(a);
  if (base === 0n) throw new VerinferError("INTERNAL", "0 has no inverse");
  for (let e = FIELD_PRIME - 2n; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * base) % FIELD_PRIME;
    base = (base * base) % FIELD_PRIME;
  }
  return result;
}

/**
 * A linear combination of wires together with its value in the witness being built. Purely linear values
 * (weighted sums, pooling sums, offsets, packed commitments) stay linear combinations and get no wire: in R1CS
 * they cost nothing. `value` is an exact integer (signed, not reduced) for the network's integer semantics and a
 * field element for Poseidon's; the witness writer reduces it mod p.
 */
export class Lc {
  constructor(
    /** Empty when the system only computes a witness. */
    readonly terms: Terms,
    readonly value: bigint,
    /** A constant (no wire): known in both modes, so that a product with it is folded the same way in each. */
    readonly isConst = false,
    /**
     * An internal wire this combination holds with coefficient `anchorCoeff` (nonzero mod p), known in both modes: a
     * public output equal to this combination can take that wire's place (see {@link ConstraintSystem.setPublic}).
     */
    readonly anchor?: number,
    readonly anchorCoeff = 1n,
  ) {}
}

/** Parameters of {@link ConstraintSystem}. */
export interface ConstraintSystemParams {
  /** Record constraints (compile); without it only the witness is computed (prove). */
  track: boolean;
  /** Number of public outputs: wires 1..nPublic, set later with {@link ConstraintSystem.setPublic}. */
  nPublic: number;
}

/**
 * An R1CS under construction, with its witness: wires (0 = the constant 1, then the public outputs, then the
 * private inputs, then internal wires in creation order) and constraints A·B = C over linear combinations. Only
 * products and the bits of range checks get wires. Every gadget computes its wires' values as it creates them, so
 * emitting the constraints and computing the witness are one walk over the network (with `track: false` the
 * same walk computes the witness alone, without building linear combinations).
 */
export class ConstraintSystem {
  readonly track: boolean;
  readonly nPublic: number;
  nPrivateInputs = 0;
  /** Value of each wire (exact integers; reduced mod p when written). */
  readonly values: bigint[];
  /** The recorded constraints, encoded (track mode). */
  readonly store = new ConstraintStore();
  private readonly publicSet: boolean[];
  /** The constant 1. */
  readonly one: Lc;

  constructor(params: ConstraintSystemParams) {
    this.track = params.track;
    this.nPublic = params.nPublic;
    this.values = [1n, ...Array.from({ length: params.nPublic }, () => 0n)];
    this.publicSet = Array.from({ length: params.nPublic }, () => false);
    this.one = new Lc(this.track ? Terms.single(0, 1n) : EMPTY, 1n, true);
  }

  /** Number of wires (removed ones excluded). */
  get nWires(): number {
    return this.values.length - this.removed.size;
  }

  /** Private inputs: must come before any internal wire. */
  privateInputs(values: readonly bigint[]): Lc[] {
    if (this.values.length !== 1 + this.nPublic + this.nPrivateInputs) {
      throw new VerinferError("INTERNAL", "private inputs must be allocated before internal wires");
    }
    this.nPrivateInputs += values.length;
    return values.map((v) => this.wire(v));
  }

  /** A new wire holding `value` (unconstrained until a gadget constrains it). */
  wire(value: bigint): Lc {
    const id = this.values.length;
    this.values.push(value);
    return new Lc(this.track ? new Terms(Int32Array.of(id), ONE) : EMPTY, value, false, id);
  }

  /** The constant c. */
  constant(c: bigint): Lc {
    const m = modP(c);
    return new Lc(this.track && m !== 0n ? Terms.single(0, m) : EMPTY, c, true);
  }

  /** `constant + Σ k·lc` over the given (lc, k) pairs. */
  lin(parts: ReadonlyArray<readonly [Lc, bigint]>, constant = 0n): Lc {
    let value = constant;
    let isConst = true;
    // The anchor of the result: that of the last non-constant part (a later part holds the most recent wire);
    // verified against the terms where they exist (a cancelled anchor is an INTERNAL error at compile time).
    let anchor: number | undefined;
    let anchorCoeff = 1n;
    for (const [lc, k] of parts) {
      value += k * lc.value;
      if (k !== 0n && !lc.isConst) {
        isConst = false;
        anchor = lc.anchor;
        anchorCoeff = modP(k * lc.anchorCoeff);
      }
    }
    if (!this.track) return new Lc(EMPTY, value, isConst, anchor, anchorCoeff);
    const acc = this.accumulator;
    if (constant !== 0n) acc.addScaled(this.one.terms, constant);
    for (const [lc, k] of parts) if (k !== 0n) acc.addScaled(lc.terms, k);
    const terms = acc.take();
    return new Lc(terms, value, isConst, anchor, anchorCoeff);
  }

  /** a + b. */
  add(a: Lc, b: Lc): Lc {
    return this.lin([
      [a, 1n],
      [b, 1n],
    ]);
  }

  /** a − b. */
  sub(a: Lc, b: Lc): Lc {
    return this.lin([
      [a, 1n],
      [b, -1n],
    ]);
  }

  /** k·a + c. */
  affine(a: Lc, k: bigint, c = 0n): Lc {
    return this.lin([[a, k]], c);
  }

  /** The same linear combination with its value reduced mod p (Poseidon works in the field). */
  reduced(a: Lc): Lc {
    return new Lc(a.terms, modP(a.value), a.isConst, a.anchor, a.anchorCoeff);
  }

  /** Records the constraint a·b = c. */
  enforce(a: Lc, b: Lc, c: Lc): void {
    if (this.track) this.store.add(a.terms, b.terms, c.terms);
  }

  /**
   * A new wire w = a·b, constrained; `value` overrides a.value·b.value (e.g. to reduce it mod p). A product with a
   * constant is linear: no wire, no constraint (as circom folds it).
   */
  mul(a: Lc, b: Lc, value?: bigint): Lc {
    if (a.isConst || b.isConst) {
      const r = a.isConst ? this.affine(b, a.value) : this.affine(a, b.value);
      return value === undefined ? r : new Lc(r.terms, value, r.isConst, r.anchor, r.anchorCoeff);
    }
    const w = this.wire(value ?? a.value * b.value);
    this.enforce(a, b, w);
    return w;
  }

  /** Constrains a to 0 or 1: a·(a − 1) = 0. */
  assertBoolean(a: Lc): void {
    // B = A − 1 is derived when encoded: a range check's combination can hold hundreds of terms.
    if (this.track) this.store.add(a.terms, null, EMPTY);
  }

  /** A new wire proven boolean. */
  bit(value: bigint): Lc {
    const w = this.wire(value);
    this.assertBoolean(w);
    return w;
  }

  /** Constrains a = b (one linear constraint: (a − b)·1 = 0). */
  assertEqual(a: Lc, b: Lc): void {
    this.enforce(this.sub(a, b), this.one, this.constant(0n));
  }

  /**
   * Sets public output `index` (0-based) to the value of `lc`. When `lc` holds an internal wire w with
   * coefficient c (its anchor) that no other public output took, the public wire takes w's place: w is removed and
   * every constraint that reads it reads (pub − (lc − c·w)) / c instead, so the output costs no constraint (what
   * circom's linear simplification does with `out <== expr`). Otherwise one constraint lc·1 = pub.
   */
  setPublic(index: number, lc: Lc): Lc {
    if (index < 0 || index >= this.nPublic || this.publicSet[index]) {
      throw new VerinferError("INTERNAL", `public output ${index} is out of range or already set`);
    }
    this.publicSet[index] = true;
    const id = 1 + index;
    this.values[id] = lc.value;
    const w = new Lc(this.track ? Terms.single(id, 1n) : EMPTY, lc.value);
    const anchor = lc.anchor;
    const firstInternal = 1 + this.nPublic + this.nPrivateInputs;
    if (anchor !== undefined && anchor >= firstInternal && !this.removed.has(anchor)) {
      if (this.track && lc.terms.get(anchor) !== modP(lc.anchorCoeff)) {
        throw new VerinferError("INTERNAL", "a linear combination's anchor is not among its terms");
      }
      this.removed.add(anchor);
      // w_anchor = c^-1 · (pub − (lc − c·w_anchor)).
      if (this.track) {
        const inv = modInverse(lc.anchorCoeff);
        const rest = new Map(lc.terms);
        rest.delete(anchor);
        const subst = new Map<number, bigint>([[id, inv]]);
        for (const [v, k] of rest) subst.set(v, modP(-inv * k));
        this.substitutions.set(anchor, subst);
      }
      return w;
    }
    this.enforce(lc, this.one, w);
    return w;
  }

  /** Internal wires a public output took the place of. */
  private readonly removed = new Set<number>();
  /** What each removed wire is replaced with in the constraints. */
  private readonly substitutions = new Map<number, Map<number, bigint>>();
  /** Scratch of {@link lin} (track mode). */
  private readonly accumulator = new TermAccumulator();

  /** The new index of each wire once removed wires are dropped (-1 for a removed wire). */
  wireIndex(): Int32Array {
    const index = new Int32Array(this.values.length);
    let next = 0;
    for (let w = 0; w < this.values.length; w++) index[w] = this.removed.has(w) ? -1 : next++;
    return index;
  }

  /** Number of constraints recorded (track mode). */
  get nConstraints(): number {
    return this.store.count;
  }

  /**
   * Substitutes the removed wires t reads (see {@link setPublic}), in the original wire numbering; `read` collects
   * the removed wires substituted.
   */
  substitute(t: ReadonlyMap<number, bigint>, read: Set<number>): Map<number, bigint> {
    const out = new Map(t);
    for (const [w, k] of t) {
      const by = this.substitutions.get(w);
      if (!by) continue;
      read.add(w);
      out.delete(w);
      for (const [v, c] of by) {
        const next = modP((out.get(v) ?? 0n) + k * c);
        if (next === 0n) out.delete(v);
        else out.set(v, next);
      }
    }
    return out;
  }

  /**
   * Throws `INTERNAL` when a removed wire is not in `read`: the public output that took its place would then be
   * pinned by no constraint.
   */
  assertRemovedRead(read: ReadonlySet<number>): void {
    for (const w of this.substitutions.keys()) {
      if (!read.has(w)) {
        throw new VerinferError("INTERNAL", `a public output took the place of wire ${w}, which no constraint reads`);
      }
    }
  }

  /** The witness, reduced mod p (w[0] = 1). Throws `INTERNAL` when a public output was never set. */
  witness(): bigint[] {
    if (this.publicSet.some((s) => !s)) throw new VerinferError("INTERNAL", "a public output was never set");
    return this.values.filter((_v, w) => !this.removed.has(w)).map(modP);
  }
}
