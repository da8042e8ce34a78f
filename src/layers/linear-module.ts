import type { ConstraintSystem, Lc } from "../circuits/direct/constraint-system.js";
import { toField } from "../field.js";
import type { LinearTerms } from "../models/layers/linear.js";
import type { Bounds } from "./layer-module.js";

/** Small integers as field elements (negative ones as p − |v|), as the architecture descriptor holds them. */
export function fieldInts(values: readonly number[]): bigint[] {
  return values.map((v) => toField(BigInt(v)));
}

/** The largest magnitude in some bounds. */
export function peakOf(b: Bounds): bigint {
  let peak = 0n;
  for (const v of [...b.lo, ...b.hi]) {
    const m = v < 0n ? -v : v;
    if (m > peak) peak = m;
  }
  return peak;
}

/** The outputs of a linear layer as linear combinations of its inputs: free in R1CS. */
export function emitLinear(cs: ConstraintSystem, terms: LinearTerms, input: readonly Lc[]): Lc[] {
  const out: Lc[] = [];
  for (let j = 0; j < terms.nOut; j++) {
    const parts: Array<readonly [Lc, bigint]> = [];
    terms.visit(j, (i, w) => parts.push([input[i] as Lc, w]));
    out.push(cs.lin(parts, terms.bias(j)));
  }
  return out;
}
