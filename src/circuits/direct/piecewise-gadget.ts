// A smooth activation proven as its committed piecewise-linear table (src/models/layers/piecewise.ts), read from the
// bits the rescale's range check already made: no second range check.
import { VerinferError } from "../../errors.js";
import type { PiecewiseActivation } from "../../models/layers/piecewise.js";
import { ConstraintSystem, type Lc, modInverse } from "./constraint-system.js";

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

/** The layout {@link piecewiseGadget} writes when a table states none: the first one (kept for packages made with it). */
const FIRST_LAYOUT = 1;

/**
 * {@link piecewiseForward} of q = u − 2^(B−1), from u's bits (lowest first; bit B−1 is [q >= 0]), B >= window, in
 * the table's circuit layout (`p.layout`, absent = 1). Both layouts prove the same integer function; a package
 * rebuilds (audit) and re-runs (witness) its circuit in the layout its network states.
 *
 * What pins the output, both layouts: every input bit is pinned by the rescale's range check. Inside the window, v =
 * q + 2^(W−1) has bits (u_0 … u_{W−2}, σ), so the segment index is (u_{W−k} … u_{W−2}, σ) and w = Σ_{i<W−k} u_i 2^i.
 * Every new wire is a product of pinned values (or, for saturation in layout 2, pinned by the equations stated
 * there). A relu part is q·σ, one product.
 *
 * Layout 1: the 2^k − k − 1 monomials of the index bits are products; T[i] and D[i] = T[i+1] − T[i] are their linear
 * combinations with the tables' Möbius coefficients (exact on every index); D·w one product; saturation by running
 * OR/AND products ({@link saturateByRunningProducts}). Constraints: 2^k − k − 1, + 1 (D·w unless D is constant),
 * + 2(B − W) (B > W, the last product folded when the table is constant), + 1 (relu part).
 *
 * Layout 2: the index splits into l low and h = k − l high bits ({@link splitIndexBits}). For each of the 2^h values
 * x of the high bits, T and D restricted to x are multilinear in the low bits: linear combinations (Möbius
 * coefficients) of the 2^l − l − 1 monomials of the low bits, the products made only where a coefficient is non-zero.
 * A multiplexer tree over the high bits (node = left + b·(right − left), b boolean: exactly left or right) picks
 * T[i]·S and D[i]: 2^h − 1 products each (none where right − left is constant). D·w one product. Saturation: by
 * running products for B − W <= 2, else {@link saturateByZeroTest} (4 constraints, whatever B − W); then
 * the mix interp + g·(sat − interp), one product. For k = 5 (the default tables):
 * 4 + 2·3 + 1 = 11 selector constraints against layout 1's 27.
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
  const layout = p.layout ?? FIRST_LAYOUT;
  if (B < W || k < 1 || k >= W || p.table.length !== 2 ** k + 1 || (layout !== 1 && layout !== 2)) {
    throw new VerinferError("INTERNAL", `a piecewise activation of window ${W}, ${k} segment bits on ${B} bits`);
  }
  const S = pow2(W - k);
  const sign = bits[B - 1] as Lc;
  const index = [...bits.slice(W - k, W - 1), sign];
  const w = cs.lin(bits.slice(0, W - k).map((b, i) => [b, pow2(i)] as const));
  let y = layout === 1 ? selectByMonomials(cs, index, w, p, S) : selectBySplit(cs, index, w, p, S);
  const n = B - W;
  if (n > 0) {
    const T0 = p.table[0] as bigint;
    const Tn = p.table[2 ** k] as bigint;
    const sat = cs.affine(sign, (Tn - T0) * S, T0 * S);
    const g = layout === 1 || n <= 2 ? saturateByRunningProducts(cs, bits, W, B) : saturateByZeroTest(cs, bits, W, B);
    y = cs.add(y, cs.mul(g, cs.sub(sat, y)));
  }
  if (p.reluShift !== undefined) y = cs.add(y, cs.affine(cs.mul(q, sign), pow2(p.reluShift)));
  return y;
}

/** Layout 1's selection: T[i]·S + D[i]·w from all monomials of the k index bits. */
function selectByMonomials(cs: ConstraintSystem, index: readonly Lc[], w: Lc, p: PiecewiseActivation, S: bigint): Lc {
  const k = p.segmentBits;
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
  return cs.add(A, cs.mul(D, w));
}

/**
 * How many of k index bits layout 2 treats as high bits (multiplexed): the h minimizing (2^(k−h) − (k−h) − 1) +
 * 2(2^h − 1), the smaller h on a tie. Part of the layout: never change it for layout 2.
 */
export function splitIndexBits(k: number): number {
  let best = 0;
  let bestCost = Number.POSITIVE_INFINITY;
  for (let h = 0; h <= k; h++) {
    const cost = 2 ** (k - h) - (k - h) - 1 + 2 * (2 ** h - 1);
    if (cost < bestCost) {
      best = h;
      bestCost = cost;
    }
  }
  return best;
}

/** Layout 2's selection: low-bit monomials (lazily, where used), then a multiplexer tree over the high bits. */
function selectBySplit(cs: ConstraintSystem, index: readonly Lc[], w: Lc, p: PiecewiseActivation, S: bigint): Lc {
  const k = p.segmentBits;
  const h = splitIndexBits(k);
  const l = k - h;
  const low = index.slice(0, l);
  const high = index.slice(l);
  const mono = new Map<number, Lc>();
  const monomial = (mask: number): Lc => {
    const top = 31 - Math.clz32(mask);
    const rest = mask ^ (1 << top);
    if (rest === 0) return low[top] as Lc;
    let m = mono.get(mask);
    if (m === undefined) {
      m = cs.mul(monomial(rest), low[top] as Lc);
      mono.set(mask, m);
    }
    return m;
  };
  const leaf = (table: readonly bigint[], x: number, scale: bigint) => {
    const a = mobius(table.slice(x * 2 ** l, (x + 1) * 2 ** l), l);
    const parts: (readonly [Lc, bigint])[] = [];
    for (let m = 1; m < a.length; m++) if (a[m] !== 0n) parts.push([monomial(m), (a[m] as bigint) * scale]);
    return cs.lin(parts, (a[0] as bigint) * scale);
  };
  const tree = (table: readonly bigint[], scale: bigint) => {
    let nodes = Array.from({ length: 2 ** h }, (_, x) => leaf(table, x, scale));
    for (const b of high) {
      const next: Lc[] = [];
      for (let t = 0; t < nodes.length; t += 2) {
        const left = nodes[t] as Lc;
        const right = nodes[t + 1] as Lc;
        next.push(cs.add(left, cs.mul(b, cs.sub(right, left))));
      }
      nodes = next;
    }
    return nodes[0] as Lc;
  };
  const A = tree(p.table, S);
  const D = tree(differences(p), 1n);
  return cs.add(A, cs.mul(D, w));
}

/**
 * g = [q outside the window], from the bits u_{W−1} … u_{B−2} and σ: for q >= 0 some of them is 1, for q < 0 some is
 * 0; their OR and AND are running products (o ← o + b − o·b, a ← a·b), and g = (1 − a) + σ·(o + a − 1) one product:
 * 2(B − W) − 1 constraints.
 */
function saturateByRunningProducts(cs: ConstraintSystem, bits: readonly Lc[], W: number, B: number): Lc {
  const sign = bits[B - 1] as Lc;
  const outer = bits.slice(W - 1, B - 1);
  let any = outer[0] as Lc;
  let all = outer[0] as Lc;
  for (const b of outer.slice(1)) {
    any = cs.sub(cs.add(any, b), cs.mul(any, b));
    all = cs.mul(all, b);
  }
  return cs.add(cs.affine(all, -1n, 1n), cs.mul(sign, cs.affine(cs.add(any, all), 1n, -1n)));
}

/**
 * g = [q outside the window] by a zero test, 4 constraints whatever B − W: H = floor(q / 2^(W−1)) = Σ_{j<=n} u_{W−1+j}
 * 2^j − 2^n (n = B − W) is linear in the bits, and q is inside exactly when H ∈ {−1, 0}, i.e. when z = H·(H + 1) = 0
 * (|z| <= 2^(2n) < p, so z = 0 in the field only as an integer). Constraints: z = H·(H + 1); z·inv = g; z·(1 − g) = 0;
 * inv·(1 − g) = 0. If z ≠ 0 the third forces g = 1 and the second inv = 1/z; if z = 0 the second forces g = 0 and
 * the fourth inv = 0: g and inv are pinned (inv is a full-width field element: one such scalar per unit).
 */
function saturateByZeroTest(cs: ConstraintSystem, bits: readonly Lc[], W: number, B: number): Lc {
  const n = B - W;
  const H = cs.lin(
    bits.slice(W - 1, B).map((b, j) => [b, pow2(j)] as const),
    -pow2(n),
  );
  const z = cs.mul(H, cs.affine(H, 1n, 1n));
  const inv = cs.wire(z.value === 0n ? 0n : modInverse(z.value));
  const g = cs.mul(z, inv, z.value === 0n ? 0n : 1n);
  const notG = cs.affine(g, -1n, 1n);
  const zero = cs.constant(0n);
  cs.enforce(z, notG, zero);
  cs.enforce(inv, notG, zero);
  return g;
}

const counted = new WeakMap<PiecewiseActivation, Map<number, number>>();

/**
 * The constraints {@link piecewiseGadget} adds on B-bit inputs: counted by running the gadget itself on a
 * witness-only system (every constraint it writes creates one wire, but the zero test's two checks), once per table
 * and width.
 */
export function piecewiseConstraints(B: number, p: PiecewiseActivation): number {
  if ((p.layout ?? FIRST_LAYOUT) === FIRST_LAYOUT) {
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
  let byWidth = counted.get(p);
  if (!byWidth) {
    byWidth = new Map();
    counted.set(p, byWidth);
  }
  const known = byWidth.get(B);
  if (known !== undefined) return known;
  const cs = new ConstraintSystem({ track: false, nPublic: 0 });
  const bits = Array.from({ length: B }, () => cs.wire(0n));
  const q = cs.wire(0n);
  const before = cs.values.length;
  piecewiseGadget(cs, q, bits, B, p);
  const n = cs.values.length - before + (B - p.window >= 3 ? 1 : 0);
  byWidth.set(B, n);
  return n;
}
