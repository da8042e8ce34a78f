import { signedBits } from "./rescale.js";

/**
 * The proven class of a softmax head: the index of the largest output, the lowest index among equal maxima.
 * The circuit takes it in index order: index i replaces the running best only if `a_i − best − 1 >= 0`
 * (strictly larger), one range check of `bits` bits and two products per step.
 */
export function argmaxForward(a: readonly bigint[]): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if ((a[i] as bigint) > (a[best] as bigint)) best = i;
  return best;
}

/** Width of every difference `a_i − best − 1` the argmax meets, over outputs in [lo, hi]. */
export function argmaxBits(lo: readonly bigint[], hi: readonly bigint[]): number {
  let bits = 2;
  let bLo = lo[0] as bigint;
  let bHi = hi[0] as bigint;
  for (let i = 1; i < lo.length; i++) {
    const aLo = lo[i] as bigint;
    const aHi = hi[i] as bigint;
    bits = Math.max(bits, signedBits(aLo - bHi - 1n, aHi - bLo - 1n));
    if (aLo > bLo) bLo = aLo;
    if (aHi > bHi) bHi = aHi;
  }
  return bits;
}
