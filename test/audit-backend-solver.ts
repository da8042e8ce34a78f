// Audit helper (issue 22 review): an exhaustive R1CS solver for tiny circuits. Given an .r1cs and the values of
// some wires (the constant 1 and the private inputs: the statement's secret side), it finds EVERY full assignment
// of the remaining wires (public outputs included) that satisfies every constraint, over the real BN254 field.
//
// How it is complete: a constraint with exactly one unknown wire u is (a·u + x)(b·u + y) = c·u + z, a polynomial of
// degree <= 2 in u. Degree 1: u is forced. Degree 2: u is one of its (at most two) roots, found with Tonelli–Shanks
// — the search branches on each. Degree 0 with a nonzero constant: contradiction. Every satisfying assignment
// satisfies each such equation, so branching on all roots loses none. When no constraint has a single unknown
// and wires remain unknown, the solver reports them as `stuck` (a wire the constraints do not pin by this
// reasoning: a free wire, or one it cannot resolve — either way the test fails and a human looks).
import type { R1cs } from "./r1cs-check.js";

/** Result of {@link solveAll}. */
export interface Solutions {
  /** Every satisfying full witness found (w[0] = 1), up to `maxSolutions`. */
  witnesses: bigint[][];
  /** Wires left unknown at a leaf where no constraint could pin them (undefined when none). */
  stuck?: number[];
  /** Search nodes visited. */
  nodes: number;
}

const mod = (x: bigint, p: bigint) => {
  const r = x % p;
  return r < 0n ? r + p : r;
};

function powMod(b: bigint, e: bigint, p: bigint): bigint {
  let r = 1n;
  let x = mod(b, p);
  let k = e;
  while (k > 0n) {
    if (k & 1n) r = (r * x) % p;
    x = (x * x) % p;
    k >>= 1n;
  }
  return r;
}

const inv = (a: bigint, p: bigint) => powMod(a, p - 2n, p);

/** Square roots of a mod p (p an odd prime): [], [0] or [r, p − r]. */
export function sqrtMod(a0: bigint, p: bigint): bigint[] {
  const a = mod(a0, p);
  if (a === 0n) return [0n];
  if (powMod(a, (p - 1n) / 2n, p) !== 1n) return [];
  let q = p - 1n;
  let s = 0;
  while ((q & 1n) === 0n) {
    q >>= 1n;
    s++;
  }
  let z = 2n;
  while (powMod(z, (p - 1n) / 2n, p) !== p - 1n) z++;
  let m = s;
  let c = powMod(z, q, p);
  let t = powMod(a, q, p);
  let r = powMod(a, (q + 1n) / 2n, p);
  while (t !== 1n) {
    let i = 0;
    let t2 = t;
    while (t2 !== 1n) {
      t2 = (t2 * t2) % p;
      i++;
    }
    let b = c;
    for (let j = 0; j < m - i - 1; j++) b = (b * b) % p;
    m = i;
    c = (b * b) % p;
    t = (t * c) % p;
    r = (r * b) % p;
  }
  return r === p - r ? [r] : [r, p - r];
}

type Lc = Array<[number, bigint]>;

/**
 * Every witness satisfying `r1cs` with the wires in `fixed` set (wire 0 is always 1).
 *
 * @param maxNodes - a guard against a search that blows up (throws past it).
 */
export function solveAll(
  r1cs: R1cs,
  fixed: ReadonlyMap<number, bigint>,
  opts: { maxSolutions?: number; maxNodes?: number } = {},
): Solutions {
  const p = r1cs.prime;
  const maxSolutions = opts.maxSolutions ?? 8;
  const maxNodes = opts.maxNodes ?? 200_000;
  const nC = r1cs.constraints.length;
  const wiresOf: number[][] = r1cs.constraints.map(([a, b, c]) => [...new Set([...a, ...b, ...c].map(([w]) => w))]);
  const byWire: number[][] = Array.from({ length: r1cs.nWires }, () => []);
  for (const [i, ws] of wiresOf.entries()) for (const w of ws) byWire[w]?.push(i);

  const vals0: Array<bigint | undefined> = new Array(r1cs.nWires).fill(undefined);
  vals0[0] = 1n;
  for (const [w, v] of fixed) vals0[w] = mod(v, p);
  const unknown0 = new Int32Array(nC);
  for (let i = 0; i < nC; i++) unknown0[i] = (wiresOf[i] as number[]).filter((w) => vals0[w] === undefined).length;

  const out: Solutions = { witnesses: [], nodes: 0 };

  /** Splits an LC into (coefficient of u, value of the rest). */
  const split = (lc: Lc, u: number, vals: Array<bigint | undefined>): [bigint, bigint] => {
    let k = 0n;
    let rest = 0n;
    for (const [w, c] of lc) {
      if (w === u) k += c;
      else rest += c * (vals[w] as bigint);
    }
    return [mod(k, p), mod(rest, p)];
  };

  /** The roots in u of constraint i (all its other wires known); "any" when it does not restrict u. */
  const roots = (i: number, u: number, vals: Array<bigint | undefined>): bigint[] | "any" => {
    const [A, B, C] = r1cs.constraints[i] as [Lc, Lc, Lc];
    const [a, x] = split(A, u, vals);
    const [b, y] = split(B, u, vals);
    const [c, z] = split(C, u, vals);
    const qa = mod(a * b, p);
    const qb = mod(a * y + b * x - c, p);
    const qc = mod(x * y - z, p);
    if (qa === 0n) {
      if (qb === 0n) return qc === 0n ? "any" : [];
      return [mod(-qc * inv(qb, p), p)];
    }
    const d = mod(qb * qb - 4n * qa * qc, p);
    const i2a = inv(mod(2n * qa, p), p);
    return sqrtMod(d, p).map((s) => mod((-qb + s) * i2a, p));
  };

  const holds = (i: number, vals: Array<bigint | undefined>): boolean => {
    const [A, B, C] = r1cs.constraints[i] as [Lc, Lc, Lc];
    const ev = (lc: Lc) => lc.reduce((acc, [w, c]) => acc + c * (vals[w] as bigint), 0n);
    return mod(ev(A) * ev(B) - ev(C), p) === 0n;
  };

  const search = (vals: Array<bigint | undefined>, unknown: Int32Array, queue: number[]): void => {
    if (out.witnesses.length >= maxSolutions || out.stuck) return;
    if (++out.nodes > maxNodes) throw new Error(`solver: more than ${maxNodes} nodes`);
    const set = (w: number, v: bigint) => {
      vals[w] = v;
      for (const j of byWire[w] as number[]) {
        unknown[j] = (unknown[j] as number) - 1;
        if ((unknown[j] as number) <= 1) queue.push(j);
      }
    };
    // Propagation: check constraints with no unknown, solve those with one unknown and one root.
    while (queue.length > 0) {
      const i = queue.pop() as number;
      const n = unknown[i] as number;
      if (n === 0) {
        if (!holds(i, vals)) return; // contradiction: no witness down this branch
      } else if (n === 1) {
        const u = (wiresOf[i] as number[]).find((w) => vals[w] === undefined) as number;
        const r = roots(i, u, vals);
        if (r === "any") continue;
        if (r.length === 0) return;
        if (r.length === 1) set(u, r[0] as bigint);
      }
    }
    // Every constraint left with one unknown is branchable or does not restrict its wire (those found in an
    // ancestor node too: the first in constraint order is branched on).
    let pick = -1;
    let pickRoots: bigint[] = [];
    for (let i = 0; i < nC && pick < 0; i++) {
      if (unknown[i] !== 1) continue;
      const u = (wiresOf[i] as number[]).find((w) => vals[w] === undefined) as number;
      const r = roots(i, u, vals);
      if (r === "any") continue;
      if (r.length === 0) return;
      pick = i;
      pickRoots = r;
    }
    if (pick < 0) {
      const left = vals.flatMap((v, w) => (v === undefined ? [w] : []));
      if (left.length > 0) {
        out.stuck = left;
        return;
      }
      out.witnesses.push(vals as bigint[]);
      return;
    }
    const u = (wiresOf[pick] as number[]).find((w) => vals[w] === undefined) as number;
    for (const v of pickRoots) {
      const vals2 = vals.slice();
      const unknown2 = unknown.slice();
      vals2[u] = v;
      const q2: number[] = [];
      for (const j of byWire[u] as number[]) {
        unknown2[j] = (unknown2[j] as number) - 1;
        if ((unknown2[j] as number) <= 1) q2.push(j);
      }
      search(vals2, unknown2, q2);
    }
  };

  search(
    vals0,
    unknown0,
    Array.from({ length: nC }, (_, i) => nC - 1 - i),
  );
  return out;
}

/** The public outputs (wires 1..nOutputs) of each witness, deduplicated, as strings. */
export function publicVectors(r1cs: R1cs, witnesses: readonly bigint[][]): string[] {
  return [...new Set(witnesses.map((w) => w.slice(1, 1 + r1cs.nOutputs).join(",")))];
}
