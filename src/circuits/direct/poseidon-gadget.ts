import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { VerinferError } from "../../errors.js";
import { type ConstraintSystem, type Lc, modP } from "./constraint-system.js";

interface OptConstants {
  C: bigint[][];
  S: bigint[][];
  M: bigint[][][];
  P: bigint[][][];
}

const N_ROUNDS_F = 8;
const N_ROUNDS_P = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68];

let constants: OptConstants | undefined;

/**
 * circomlib's optimized Poseidon constants (C, S, M, P per width t = 2..17), read from circomlibjs's own
 * `poseidon_constants_opt.json` — the file its `buildPoseidonOpt` and circomlib's `poseidon_constants.circom` come
 * from — so the hash is circomlib's by construction, not by copy.
 */
function optConstants(): OptConstants {
  if (constants) return constants;
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve("circomlibjs")), "..", "src");
  const raw = JSON.parse(readFileSync(path.join(dir, "poseidon_constants_opt.json"), "utf8")) as Record<
    keyof OptConstants,
    unknown
  >;
  const conv = (o: unknown): unknown => (Array.isArray(o) ? o.map(conv) : BigInt(o as string));
  constants = { C: conv(raw.C), S: conv(raw.S), M: conv(raw.M), P: conv(raw.P) } as OptConstants;
  return constants;
}

/**
 * Number of constraints of one Poseidon hash of `nInputs` elements: 3 per S-box, as circomlib's `Poseidon` — less
 * the S-boxes of the first round whose input is a constant (the zero initial state, and `constantInputs` more),
 * which are folded, as circom folds them.
 */
export function poseidonConstraints(nInputs: number, constantInputs = 0): number {
  const t = nInputs + 1;
  return 3 * (N_ROUNDS_F * t + (N_ROUNDS_P[t - 2] as number) - 1 - constantInputs);
}

/** x^5 with three products (x², x⁴, x⁴·x): circomlib's `Sigma`, each intermediate a wire. */
function sigma(cs: ConstraintSystem, x: Lc): Lc {
  const x2 = cs.mul(x, x, modP(x.value * x.value));
  const x4 = cs.mul(x2, x2, modP(x2.value * x2.value));
  return cs.mul(x4, x, modP(x4.value * x.value));
}

/** Σ_j coeffs[j]·state[j] (+ c), reduced. */
function dot(cs: ConstraintSystem, state: readonly Lc[], coeffs: (j: number) => bigint, c = 0n): Lc {
  return cs.reduced(
    cs.lin(
      state.map((s, j) => [s, coeffs(j)] as const),
      c,
    ),
  );
}

/**
 * Poseidon of 1..16 field elements, the permutation of circomlib's `Poseidon(n)` (circuits/poseidon.circom, the
 * optimized rounds of neptune: full rounds with the MDS matrix M, the sparse matrices S in the partial rounds, P at
 * the switch) with initial state 0. Every S-box input is a linear combination of earlier S-box outputs, inputs and
 * constants, and each S-box is three products whose results are wires: 3·(8t + R_P) constraints, as circomlib's
 * after circom's linear simplification, and every wire is pinned by the product that defines it, so the output is a
 * function of the inputs. The output is a linear combination (no wire).
 *
 * @throws VerinferError `INTERNAL` for a width outside 1..16.
 */
export function poseidonGadget(cs: ConstraintSystem, inputs: readonly Lc[]): Lc {
  const n = inputs.length;
  if (n < 1 || n > 16) throw new VerinferError("INTERNAL", `Poseidon takes 1 to 16 inputs, got ${n}`);
  const { C: allC, S: allS, M: allM, P: allP } = optConstants();
  const t = n + 1;
  const nRoundsP = N_ROUNDS_P[t - 2] as number;
  const C = allC[t - 2] as bigint[];
  const S = allS[t - 2] as bigint[];
  const M = allM[t - 2] as bigint[][];
  const P = allP[t - 2] as bigint[][];
  const at = (m: bigint[][], j: number, i: number) => (m[j] as bigint[])[i] as bigint;
  const half = N_ROUNDS_F / 2;

  let state: Lc[] = [cs.constant(0n), ...inputs].map((a, i) => cs.reduced(cs.affine(a, 1n, C[i] as bigint)));
  const fullRound = (r: number, matrix: bigint[][]) => {
    const boxed = state.map((a) => sigma(cs, a));
    const withC = boxed.map((a, i) => cs.affine(a, 1n, C[(r + 1) * t + i] as bigint));
    state = state.map((_, i) => dot(cs, withC, (j) => at(matrix, j, i)));
  };
  for (let r = 0; r < half - 1; r++) fullRound(r, M);
  fullRound(half - 1, P);
  for (let r = 0; r < nRoundsP; r++) {
    const s0In = cs.reduced(cs.affine(sigma(cs, state[0] as Lc), 1n, C[(half + 1) * t + r] as bigint));
    const next = [s0In, ...state.slice(1)];
    const s0 = dot(cs, next, (j) => S[(t * 2 - 1) * r + j] as bigint);
    for (let k = 1; k < t; k++) {
      next[k] = cs.reduced(
        cs.lin([
          [next[k] as Lc, 1n],
          [s0In, S[(t * 2 - 1) * r + t + k - 1] as bigint],
        ]),
      );
    }
    next[0] = s0;
    state = next;
  }
  for (let r = 0; r < half - 1; r++) {
    const boxed = state.map((a) => sigma(cs, a));
    const withC = boxed.map((a, i) => cs.affine(a, 1n, C[(half + 1) * t + nRoundsP + r * t + i] as bigint));
    state = state.map((_, i) => dot(cs, withC, (j) => at(M, j, i)));
  }
  const boxed = state.map((a) => sigma(cs, a));
  return dot(cs, boxed, (j) => at(M, j, 0));
}

/**
 * Poseidon over any number of elements, 16 at a time: h = P(e[0..16]), then h = P(h, next 15) — circuits/
 * verinfer.circom's `PoseidonChain` and src/attest/poseidon.ts's `poseidonChain`.
 */
export function poseidonChainGadget(cs: ConstraintSystem, elements: readonly Lc[]): Lc {
  if (elements.length === 0) throw new VerinferError("INTERNAL", "poseidonChain needs at least one element");
  let h = poseidonGadget(cs, elements.slice(0, 16));
  for (let pos = 16; pos < elements.length; pos += 15) h = poseidonGadget(cs, [h, ...elements.slice(pos, pos + 15)]);
  return h;
}

/** Constraints of {@link poseidonChainGadget} over n elements, the first `constantFirst` of them constants. */
export function poseidonChainConstraints(n: number, constantFirst = 0): number {
  let total = poseidonConstraints(Math.min(n, 16), Math.min(constantFirst, 16));
  for (let pos = 16; pos < n; pos += 15) total += poseidonConstraints(1 + Math.min(15, n - pos));
  return total;
}
