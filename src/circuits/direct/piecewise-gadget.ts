// A smooth activation proven as its committed piecewise-linear table (src/models/layers/piecewise.ts), read from the
// bits the rescale's range check already made: no second range check.
import { VerinferError } from "../../errors.js";
import type { PiecewiseActivation } from "../../models/layers/piecewise.js";
import type { ConstraintSystem, Lc } from "./constraint-system.js";

const pow2 = (k: number) => 1n << BigInt(k);

/** The Möbius transform of a table over k bits: T(x) = Σ_mask a[mask]·Π_{j∈mask} x_j for every x in {0,1}^k. */
function mobius(table: readonly bigint[], k: number): bigint[] {
  const a = table.slice(0, 2 ** k);
  for (let j = 0; j < k; j++) {
    for (let mask = 0; mask < a.length; mask++)
      if (mask & (1 << j)) a[mask] = (a[mask] as bigint) - (a[mask ^ (1 << j)] as bigint);
  }
  return a;
}

const isConstantTable = (t: readonly bigint[]) => t.every((v) => v === t[0]);
const differences = (p: PiecewiseActivation) =>
  Array.from({ length: 2 ** p.segmentBits }, (_, i) => (p.table[i + 1] as bigint) - (p.table[i] as bigint));

/**
 * {@link piecewiseForward} of q = u − 2^(B−1), from u's bits (lowest first; bit B−1 is [q >= 0]), B >= window.
 *
 * Why this pins the output: every input bit is pinned by the rescale's range check. Inside the window, v = q +
 * 2^(W−1) has bits (u_0 … u_{W−2}, σ), so the segment index is (u_{W−k} … u_{W−2}, σ) and w = Σ_{i<W−k} u_i 2^i.
 * The 2^k − k − 1 monomials of the index bits are products (wires, each pinned by its constraint), and T[i] and
 * D[i] = T[i+1] − T[i] are their linear combinations with the tables' Möbius coefficients — exact on every index.
 * D·w is one product. Outside the window (B > W): for q >= 0 some bit of u_{W−1} … u_{B−2} is 1, for q < 0 some is
 * 0; the OR and the AND of those bits are running products (o ← o + b − o·b, a ← a·b), and g = [outside] =
 * (1 − a) + σ·(o + a − 1) is one product; the output is interp + g·(sat − interp), one product, with sat =
 * T[0]·S + σ·(T[2^k] − T[0])·S linear. A relu part is q·σ, one product. Every product's value is its constraint's.
 * Constraints: 2^k − k − 1, + 1 (D·w unless D is constant), + 2(B − W) (saturation, B > W, the last product
 * folded when the table is constant), + 1 (relu part).
 */
export function piecewiseGadget(
  cs: ConstraintSystem,
  q: Lc,
  bits: readonly Lc[],
  B: number,
  p: PiecewiseActivation,
): Lc {
  const W = p.window;
  const k = p.segmentBits;
  if (B < W || k < 1 || k >= W || p.table.length !== 2 ** k + 1) {
    throw new VerinferError("INTERNAL", `a piecewise activation of window ${W}, ${k} segment bits on ${B} bits`);
  }
  const S = pow2(W - k);
  const sign = bits[B - 1] as Lc;
  const index = [...bits.slice(W - k, W - 1), sign];
  const w = cs.lin(bits.slice(0, W - k).map((b, i) => [b, pow2(i)] as const));
  // Monomials of the index bits: mono[mask] = Π_{j in mask} index_j, mono[0] = 1.
  const mono: Lc[] = [cs.constant(1n)];
  for (let mask = 1; mask < 2 ** k; mask++) {
    const top = 31 - Math.clz32(mask);
    const rest = mask ^ (1 << top);
    mono.push(rest === 0 ? (index[top] as Lc) : cs.mul(mono[rest] as Lc, index[top] as Lc));
  }
  const select = (coeffs: readonly bigint[], scale: bigint) =>
    cs.lin(
      coeffs.slice(1).map((c, m) => [mono[m + 1] as Lc, c * scale] as const),
      (coeffs[0] as bigint) * scale,
    );
  const A = select(mobius(p.table, k), S);
  const D = select(mobius(differences(p), k), 1n);
  let y = cs.add(A, cs.mul(D, w));
  const n = B - W;
  if (n > 0) {
    const outer = bits.slice(W - 1, B - 1);
    let any = outer[0] as Lc;
    let all = outer[0] as Lc;
    for (const b of outer.slice(1)) {
      any = cs.sub(cs.add(any, b), cs.mul(any, b));
      all = cs.mul(all, b);
    }
    const g = cs.add(cs.affine(all, -1n, 1n), cs.mul(sign, cs.affine(cs.add(any, all), 1n, -1n)));
    const T0 = p.table[0] as bigint;
    const Tn = p.table[2 ** k] as bigint;
    const sat = cs.affine(sign, (Tn - T0) * S, T0 * S);
    y = cs.add(y, cs.mul(g, cs.sub(sat, y)));
  }
  if (p.reluShift !== undefined) y = cs.add(y, cs.affine(cs.mul(q, sign), pow2(p.reluShift)));
  return y;
}

/** The constraints {@link piecewiseGadget} adds on B-bit inputs. */
export function piecewiseConstraints(B: number, p: PiecewiseActivation): number {
  const k = p.segmentBits;
  const n = B - p.window;
  return (
    2 ** k -
    k -
    1 +
    (isConstantTable(differences(p)) ? 0 : 1) +
    (n > 0 ? 2 * (n - 1) + 1 + (isConstantTable(p.table) ? 0 : 1) : 0) +
    (p.reluShift === undefined ? 0 : 1)
  );
}
