// The nonlinear gadgets of verinfer's integer semantics, written directly as R1CS. Each mirrors a template of
// circuits/verinfer.circom (the spec of the circom circuits, and still the test oracle) with the same equations and
// the same constraint count, and keeps the wires the prover sees small and non-negative: quotients are held as
// u = q + 2^(B-1), activation outputs as products with a sign bit, offsets stay in linear combinations.
import { VerinferError } from "../../errors.js";
import { isSmoothActivation, type PiecewiseActivation } from "../../models/layers/piecewise.js";
import { relu6Ceiling } from "../../models/layers/rescale.js";
import type { Activation } from "../../models/network.js";
import type { ConstraintSystem, Lc } from "./constraint-system.js";
import { piecewiseConstraints, piecewiseGadget } from "./piecewise-gadget.js";

const pow2 = (k: number) => 1n << BigInt(k);

/** The bits of an honest value, lowest first; INTERNAL when it does not fit (a caller's bug, never expected). */
function bitsOfValue(v: bigint, n: number, what: string): bigint[] {
  if (v < 0n || v >= pow2(n)) throw new VerinferError("INTERNAL", `${what}: ${v} does not fit ${n} bits`);
  return Array.from({ length: n }, (_, i) => (v >> BigInt(i)) & 1n);
}

/**
 * Proves 0 <= x < 2^n with n constraints: bits 1..n-1 are wires proven boolean, bit 0 is the linear combination
 * x − Σ_{i>=1} b_i 2^i, proven boolean too — which carries the identity x = Σ b_i 2^i (circom's Num2Bits after
 * --O2). Returns the bits, lowest first (bit 0 a linear combination).
 */
export function rangeBits(cs: ConstraintSystem, x: Lc, n: number, what = "range check"): Lc[] {
  const v = bitsOfValue(x.value, n, what);
  const high = v.slice(1).map((b) => cs.bit(b));
  const b0 = cs.lin([[x, 1n], ...high.map((b, i) => [b, -pow2(i + 1)] as const)]);
  cs.assertBoolean(b0);
  return [b0, ...high];
}

/** A decomposition e = u·2^s + r with u in [0, 2^B) and r in [0, 2^s). */
interface Decomposition {
  /** u as a linear combination (one wire when `quotientWire`). */
  u: Lc;
  /** u's bits, lowest first; bit B-1 is [q >= 0] for q = u − 2^(B−1). */
  bits: Lc[];
}

/**
 * Splits an honest e in [0, 2^(B+s)) into u = floor(e / 2^s) and r = e mod 2^s, both proven by bits: s + B
 * constraints (B + 1 with s = 0 and `quotientWire`). Why this pins u: every bit is boolean, so u in [0, 2^B) and r
 * in [0, 2^s); the pairs (u, r) map one-to-one onto [0, 2^(B+s)) and 2^(B+s) <= 2^250 < p, so no two meet the same
 * e modulo p. The identity is carried by the one bit that is a linear combination (r_0, or u_0 when s = 0):
 * its booleanity constraint is the only place it appears. With `quotientWire`, u is one wire and u's bit 0 is
 * derived from it — what a linear rescale hands on, so that the next layer reads one wire, not B.
 */
function decompose(cs: ConstraintSystem, e: Lc, s: number, B: number, quotientWire: boolean): Decomposition {
  const ev = e.value;
  if (ev < 0n || ev >= pow2(B + s)) throw new VerinferError("INTERNAL", `rescale input ${ev} left its range`);
  const uv = ev >> BigInt(s);
  const rBits = Array.from({ length: Math.max(s - 1, 0) }, (_, k) => cs.bit((ev >> BigInt(k + 1)) & 1n));
  const rHigh = rBits.map((b, k) => [b, pow2(k + 1)] as const);
  const qv = bitsOfValue(uv, B, "quotient");
  if (quotientWire) {
    const U = cs.wire(uv);
    const high = qv.slice(1).map((b) => cs.bit(b));
    const u0 = cs.lin([[U, 1n], ...high.map((b, i) => [b, -pow2(i + 1)] as const)]);
    cs.assertBoolean(u0);
    if (s > 0) {
      const r0 = cs.lin([[e, 1n], [U, -pow2(s)], ...rHigh.map(([b, k]) => [b, -k] as const)]);
      cs.assertBoolean(r0);
    } else {
      cs.assertEqual(U, e);
    }
    return { u: U, bits: [u0, ...high] };
  }
  if (s > 0) {
    const bits = qv.map((b) => cs.bit(b));
    const u = cs.lin(bits.map((b, i) => [b, pow2(i)] as const));
    const r0 = cs.lin([[e, 1n], [u, -pow2(s)], ...rHigh.map(([b, k]) => [b, -k] as const)]);
    cs.assertBoolean(r0);
    return { u, bits };
  }
  return { u: e, bits: rangeBits(cs, e, B, "quotient") };
}

/** The parameters of a rescale unit (one output of a `rescale` layer). */
export interface RescaleUnit {
  multiplier: bigint;
  shift: number;
  /** Signed width q is proven to. */
  B: number;
  activation: Activation;
  leakShift?: number | undefined;
  /** The table of a smooth activation. */
  piecewise?: PiecewiseActivation | undefined;
  outFracBits: number;
}

/** The table of a smooth activation's unit; INTERNAL when absent (a quantizer bug). */
function tableOf(unit: Pick<RescaleUnit, "piecewise" | "activation">): PiecewiseActivation {
  if (!unit.piecewise) throw new VerinferError("INTERNAL", `a ${unit.activation} rescale without its table`);
  return unit.piecewise;
}

/**
 * act(floor(multiplier·acc / 2^shift)), q proven to lie in [−2^(B−1), 2^(B−1)) — circuits/verinfer.circom's
 * Rescale, RescaleRelu, RescaleRelu6, RescaleLeakyRelu (inline in codegen's rescaleInline) with the same equations:
 * - linear: q = U − 2^(B−1), U one wire (s + B constraints);
 * - relu: q·[q >= 0], a product with u's top bit (s + B + 1);
 * - relu6: the relu value rl, less relu(rl − C) when the ceiling C = relu6Ceiling(outFracBits) can be reached
 *   (C < 2^(B−1) − 1): rl − C lies in [−2^(B−1), 2^(B−1)) so B bits pin its sign (s + B + 1, plus B + 1 capped);
 * - leakyRelu: q for q >= 0, floor(q / 2^k) = (u >> k) − 2^(B−1−k) below, read from u's bits (k capped at B − 1:
 *   below it every negative q floors to −1); the output is one wire O = out + 2^(B−1−k) >= 0 pinned by
 *   [q >= 0]·(q − shifted) = O − 2^(B−1−k) − shifted (s + B + 1).
 */
export function rescaleGadget(cs: ConstraintSystem, acc: Lc, unit: RescaleUnit): Lc {
  return rescaleGadgetWithSign(cs, acc, unit).out;
}

/**
 * {@link rescaleGadget}, and the proven sign bit [q >= 0] of its range check (the top bit of u = q + 2^(B−1)): the
 * class of a sigmoid binary-classifier head, at no extra constraint.
 */
export function rescaleGadgetWithSign(cs: ConstraintSystem, acc: Lc, unit: RescaleUnit): { out: Lc; sign: Lc } {
  const { shift: s, B, activation } = unit;
  const e = cs.affine(acc, unit.multiplier, pow2(B - 1 + s));
  const { u, bits } = decompose(cs, e, s, B, activation === "linear");
  const q = cs.affine(u, 1n, -pow2(B - 1));
  const sign = bits[B - 1] as Lc;
  return { out: activate(cs, unit, q, bits), sign };
}

function activate(cs: ConstraintSystem, unit: RescaleUnit, q: Lc, bits: readonly Lc[]): Lc {
  const { B, activation } = unit;
  const sign = bits[B - 1] as Lc;
  if (isSmoothActivation(activation)) return piecewiseGadget(cs, q, bits, B, tableOf(unit));
  switch (activation) {
    case "linear":
      return q;
    case "relu":
      return cs.mul(q, sign);
    case "relu6": {
      const rl = cs.mul(q, sign);
      const C = relu6Ceiling(unit.outFracBits);
      if (C >= pow2(B - 1) - 1n) return rl;
      const over = decompose(cs, cs.affine(rl, 1n, pow2(B - 1) - C), 0, B, false);
      const overQ = cs.affine(over.u, 1n, -pow2(B - 1));
      return cs.sub(rl, cs.mul(overQ, over.bits[B - 1] as Lc));
    }
    case "leakyRelu": {
      if (unit.leakShift === undefined) throw new VerinferError("INTERNAL", "a leakyRelu rescale without leakShift");
      const kk = Math.min(unit.leakShift, B - 1);
      const offset = pow2(B - 1 - kk);
      const shifted = cs.lin(
        bits.slice(kk).map((b, i) => [b, pow2(i)] as const),
        -offset,
      );
      const outValue = q.value >= 0n ? q.value : shifted.value;
      const O = cs.wire(outValue + offset);
      cs.enforce(
        sign,
        cs.sub(q, shifted),
        cs.lin(
          [
            [O, 1n],
            [shifted, -1n],
          ],
          -offset,
        ),
      );
      return cs.affine(O, 1n, -offset);
    }
  }
}

/** Constraints of {@link rescaleGadget}. */
export function rescaleConstraints(unit: Omit<RescaleUnit, "multiplier">): number {
  const { shift: s, B } = unit;
  const base = s === 0 && unit.activation === "linear" ? B + 1 : s + B;
  if (isSmoothActivation(unit.activation)) return base + piecewiseConstraints(B, tableOf(unit));
  switch (unit.activation) {
    case "linear":
      return base;
    case "relu":
    case "leakyRelu":
      return base + 1;
    case "relu6":
      return base + 1 + (relu6Ceiling(unit.outFracBits) >= pow2(B - 1) - 1n ? 0 : B + 1);
  }
}

/**
 * The maximum of values as a running maximum in order: m ← m + relu(a − m), each relu from the B bits of
 * a − m + 2^(B−1) (which prove a − m in [−2^(B−1), 2^(B−1)) and pin its sign) and one product — circuits/
 * verinfer.circom's MaxOf(k, B), inline as codegen's maxPool2d: (k − 1)(B + 1) constraints. The running maximum
 * stays a linear combination: the first value plus the non-negative relu wires.
 */
export function maxGadget(cs: ConstraintSystem, values: readonly Lc[], B: number): Lc {
  let best = values[0] as Lc;
  for (const a of values.slice(1)) {
    const d = cs.sub(a, best);
    const { bits } = decompose(cs, cs.affine(d, 1n, pow2(B - 1)), 0, B, false);
    best = cs.add(best, cs.mul(d, bits[B - 1] as Lc));
  }
  return best;
}

/**
 * The index of the largest value, the lowest among equal maxima — circuits/verinfer.circom's ArgMax(n, B): index i
 * replaces the running best when a_i − best − 1 >= 0, its sign pinned by B bits; best and idx move by products with
 * that sign bit (both non-negative wires). (n − 1)(B + 2) − 1 constraints (the first index product is with the
 * constant 0); the index is a linear combination.
 */
export function argmaxGadget(cs: ConstraintSystem, values: readonly Lc[], B: number): Lc {
  let best = values[0] as Lc;
  let idx = cs.constant(0n);
  for (const [i, a] of values.entries()) {
    if (i === 0) continue;
    const { bits } = decompose(cs, cs.affine(cs.sub(a, best), 1n, pow2(B - 1) - 1n), 0, B, false);
    const gt = bits[B - 1] as Lc;
    best = cs.add(best, cs.mul(gt, cs.sub(a, best)));
    idx = cs.add(idx, cs.mul(gt, cs.affine(idx, -1n, BigInt(i))));
  }
  return idx;
}
