/**
 * A linear layer in integers: `acc_j = bias_j + Σ w · a_i` over the terms `visit(j)` lists. Weighted layers and
 * sum pooling are linear, so in the circuit their outputs are linear combinations of their inputs and cost no
 * constraint; the integer reference, the interval analysis and the float calibration all walk the same terms.
 */
export interface LinearTerms {
  nIn: number;
  nOut: number;
  bias(j: number): bigint;
  /** Calls `term(i, w)` for each input index i with weight w of output j. */
  visit(j: number, term: (i: number, w: bigint) => void): void;
}

/** The accumulators of a linear layer. */
export function linearForward(t: LinearTerms, a: readonly bigint[]): bigint[] {
  const out: bigint[] = [];
  for (let j = 0; j < t.nOut; j++) {
    let acc = t.bias(j);
    t.visit(j, (i, w) => {
      acc += w * (a[i] as bigint);
    });
    out.push(acc);
  }
  return out;
}

/** Exact per-output bounds of a linear layer over every input with `lo[i] <= a_i <= hi[i]`. */
export function linearBounds(
  t: LinearTerms,
  lo: readonly bigint[],
  hi: readonly bigint[],
): { lo: bigint[]; hi: bigint[] } {
  const outLo: bigint[] = [];
  const outHi: bigint[] = [];
  for (let j = 0; j < t.nOut; j++) {
    let l = t.bias(j);
    let h = l;
    t.visit(j, (i, w) => {
      const p1 = w * (lo[i] as bigint);
      const p2 = w * (hi[i] as bigint);
      l += p1 < p2 ? p1 : p2;
      h += p1 < p2 ? p2 : p1;
    });
    outLo.push(l);
    outHi.push(h);
  }
  return { lo: outLo, hi: outHi };
}
