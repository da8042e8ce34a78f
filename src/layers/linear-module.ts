import type { ConstraintSystem, Lc } from "../circuits/direct/constraint-system.js";
import { VerinferError } from "../errors.js";
import type { LinearTerms } from "../models/layers/linear.js";
import { toField } from "../util/field.js";
import type { Bounds } from "./layer-module.js";

/** Small integers as field elements (negative ones as p − |v|), as the architecture descriptor holds them. */
export function fieldInts(values: readonly number[]): bigint[] {
  return values.map((v) => toField(BigInt(v)));
}

/** Magnitude a committed bias must stay under: far below p/2, so b and b ± p never share a commitment. */
export const BIAS_BOUND = 1n << 250n;

/**
 * A bias as the field element the commitment holds, refusing any |b| >= 2^250: the map to the field is one-to-one
 * only on (-p/2, p/2), and a bias outside it (b and b + p) would give two integer networks one commitment.
 *
 * @throws VerinferError `INVALID_MODEL`.
 */
export function biasField(b: bigint): bigint {
  if (b >= BIAS_BOUND || b <= -BIAS_BOUND) {
    throw new VerinferError("INVALID_MODEL", "a bias is too large to commit (|b| must be < 2^250)");
  }
  return toField(b);
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
