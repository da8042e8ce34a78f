import { VerinferError } from "../../errors.js";
import { FIELD_PRIME } from "../../field.js";

/** Coefficients of a linear combination by wire (wire 0 is the constant 1), each in [1, p). */
export type Terms = Map<number, bigint>;

const EMPTY: Terms = new Map();

/** x mod p in [0, p). */
export function modP(x: bigint): bigint {
  const r = x % FIELD_PRIME;
  return r < 0n ? r + FIELD_PRIME : r;
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
  readonly constraints: Array<[Terms, Terms, Terms]> = [];
  private readonly publicSet: boolean[];
  /** The constant 1. */
  readonly one: Lc;

  constructor(params: ConstraintSystemParams) {
    this.track = params.track;
    this.nPublic = params.nPublic;
    this.values = [1n, ...Array.from({ length: params.nPublic }, () => 0n)];
    this.publicSet = Array.from({ length: params.nPublic }, () => false);
    this.one = new Lc(this.track ? new Map([[0, 1n]]) : EMPTY, 1n, true);
  }

  /** Number of wires so far. */
  get nWires(): number {
    return this.values.length;
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
    return new Lc(this.track ? new Map([[id, 1n]]) : EMPTY, value);
  }

  /** The constant c. */
  constant(c: bigint): Lc {
    const m = modP(c);
    return new Lc(this.track && m !== 0n ? new Map([[0, m]]) : EMPTY, c, true);
  }

  /** `constant + Σ k·lc` over the given (lc, k) pairs. */
  lin(parts: ReadonlyArray<readonly [Lc, bigint]>, constant = 0n): Lc {
    let value = constant;
    let isConst = true;
    for (const [lc, k] of parts) {
      value += k * lc.value;
      if (k !== 0n && !lc.isConst) isConst = false;
    }
    if (!this.track) return new Lc(EMPTY, value, isConst);
    const terms: Terms = new Map();
    if (constant !== 0n) terms.set(0, modP(constant));
    for (const [lc, k] of parts) {
      if (k === 0n) continue;
      for (const [w, c] of lc.terms) {
        const prev = terms.get(w);
        const next = prev === undefined ? modP(k * c) : modP(prev + k * c);
        if (next === 0n) terms.delete(w);
        else terms.set(w, next);
      }
    }
    return new Lc(terms, value, isConst);
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
    return new Lc(a.terms, modP(a.value), a.isConst);
  }

  /** Records the constraint a·b = c. */
  enforce(a: Lc, b: Lc, c: Lc): void {
    if (this.track) this.constraints.push([a.terms, b.terms, c.terms]);
  }

  /**
   * A new wire w = a·b, constrained; `value` overrides a.value·b.value (e.g. to reduce it mod p). A product with a
   * constant is linear: no wire, no constraint (as circom folds it).
   */
  mul(a: Lc, b: Lc, value?: bigint): Lc {
    if (a.isConst || b.isConst) {
      const r = a.isConst ? this.affine(b, a.value) : this.affine(a, b.value);
      return value === undefined ? r : new Lc(r.terms, value, r.isConst);
    }
    const w = this.wire(value ?? a.value * b.value);
    this.enforce(a, b, w);
    return w;
  }

  /** Constrains a to 0 or 1: a·(a − 1) = 0. */
  assertBoolean(a: Lc): void {
    this.enforce(a, this.affine(a, 1n, -1n), this.constant(0n));
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

  /** Sets public output `index` (0-based) to the value of `lc`, constrained: lc·1 = wire. */
  setPublic(index: number, lc: Lc): Lc {
    if (index < 0 || index >= this.nPublic || this.publicSet[index]) {
      throw new VerinferError("INTERNAL", `public output ${index} is out of range or already set`);
    }
    this.publicSet[index] = true;
    const id = 1 + index;
    this.values[id] = lc.value;
    const w = new Lc(this.track ? new Map([[id, 1n]]) : EMPTY, lc.value);
    this.enforce(lc, this.one, w);
    return w;
  }

  /** The witness, reduced mod p (w[0] = 1). Throws `INTERNAL` when a public output was never set. */
  witness(): bigint[] {
    if (this.publicSet.some((s) => !s)) throw new VerinferError("INTERNAL", "a public output was never set");
    return this.values.map(modP);
  }
}
