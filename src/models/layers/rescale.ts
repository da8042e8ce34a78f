import { z } from "zod";
import { VerinferError } from "../../errors.js";
import { ACTIVATIONS, type Activation, MAX_LEAK_SHIFT } from "../network.js";
import {
  isSmoothActivation,
  type PiecewiseActivation,
  PiecewiseActivationSchema,
  piecewiseBounds,
  piecewiseForward,
} from "./piecewise.js";
import { bigintString, int } from "./schema-parts.js";

/**
 * The rescale (and optional activation) that ends every linear chain:
 * `q_j = floor(multiplier · acc_j / 2^shift)` with q_j proven to lie in [-2^(qBits_j − 1), 2^(qBits_j − 1)), then
 * `y_j = act(q_j)` ({@link activationForward}). `multiplier` is 1 except after an average pooling whose window size
 * is not a power of two: then it is round(2^t / windowSize), an exact integer semantic that approximates the mean.
 * An activation on values already rescaled is a rescale with shift 0.
 */
export interface QuantizedRescale {
  kind: "rescale";
  name: string;
  size: number;
  multiplier: bigint;
  shift: number;
  activation: Activation;
  /** k of a `leakyRelu` whose slope is 2^-k; absent for every other activation. */
  leakShift?: number;
  /** The committed table of a smooth activation ({@link PiecewiseActivation}); absent for every other activation. */
  piecewise?: PiecewiseActivation;
  /** Signed bit width each q_j is range-checked to, from worst-case interval analysis. */
  qBits: number[];
  /** Scale of the output: y ≈ value · 2^outFracBits. */
  outFracBits: number;
}

/** zod schema of a serialized {@link QuantizedRescale}. */
export const QuantizedRescaleSchema = z
  .object({
    kind: z.literal("rescale"),
    name: z.string(),
    size: int.positive(),
    multiplier: bigintString.refine((m) => m >= 1n && m < 1n << 64n, "multiplier must be in [1, 2^64)"),
    shift: int.min(0),
    activation: z.enum(ACTIVATIONS),
    leakShift: int.min(1).max(MAX_LEAK_SHIFT).optional(),
    piecewise: PiecewiseActivationSchema.optional(),
    qBits: z.array(int.min(2).max(250)),
    outFracBits: int,
  })
  .refine(
    (op) => (op.activation === "leakyRelu") === (op.leakShift !== undefined),
    "leakShift is stated exactly when the activation is leakyRelu",
  )
  .refine(
    (op) => isSmoothActivation(op.activation) === (op.piecewise !== undefined),
    "piecewise is stated exactly when the activation is a smooth one",
  )
  .refine(
    (op) => op.piecewise === undefined || op.qBits.every((b) => b >= (op.piecewise as PiecewiseActivation).window),
    "a smooth activation's units are range-checked to at least its window",
  );

/** The activation of a rescale: what {@link activationForward} needs besides the value. */
export type RescaleActivation = Pick<QuantizedRescale, "activation" | "leakShift" | "outFracBits" | "piecewise">;

/**
 * The ceiling of a `relu6` at output scale 2^outFracBits: floor(6 · 2^outFracBits), exactly 6 · 2^f for f >= 0.
 */
export function relu6Ceiling(outFracBits: number): bigint {
  return outFracBits >= 0 ? 6n << BigInt(outFracBits) : 6n >> BigInt(-outFracBits);
}

/**
 * An activation on one rescaled integer q: relu max(q, 0); relu6 min(max(q, 0), {@link relu6Ceiling}); leakyRelu
 * q for q >= 0 and floor(q / 2^leakShift) below; linear q: monotone (non-decreasing) in q, every one of them: the
 * quantizer relies on that to carry bounds and to defer an activation past a max pooling. A smooth activation is
 * its committed table ({@link piecewiseForward}), not monotone in general (swish, gelu).
 */
export function activationForward(op: RescaleActivation, q: bigint): bigint {
  if (isSmoothActivation(op.activation)) {
    if (!op.piecewise) throw new VerinferError("INTERNAL", `a ${op.activation} rescale without its table`);
    return piecewiseForward(op.piecewise, q);
  }
  switch (op.activation) {
    case "linear":
      return q;
    case "relu":
      return q < 0n ? 0n : q;
    case "relu6": {
      const c = relu6Ceiling(op.outFracBits);
      return q < 0n ? 0n : q > c ? c : q;
    }
    case "leakyRelu":
      if (op.leakShift === undefined) throw new VerinferError("INTERNAL", "a leakyRelu rescale without leakShift");
      // BigInt >> is an arithmetic shift: floor division, as the circuit reads it from the bits of q.
      return q < 0n ? q >> BigInt(op.leakShift) : q;
  }
}

/** The integer rescale; throws `INTERNAL` if a value leaves its proven range (a quantizer bug, never expected). */
export function rescaleForward(op: QuantizedRescale, acc: readonly bigint[]): bigint[] {
  const shift = BigInt(op.shift);
  return acc.map((a, j) => {
    // BigInt >> is an arithmetic shift: floor division for negative values too, as the circuit's Rescale.
    const q = (op.multiplier * a) >> shift;
    const half = 1n << BigInt((op.qBits[j] as number) - 1);
    if (q < -half || q >= half) {
      throw new VerinferError("INTERNAL", `layer "${op.name}" unit ${j} left its proven range`);
    }
    return activationForward(op, q);
  });
}

/** Bounds of q (before the activation) over accumulators in [lo, hi]: floor is monotone and multiplier > 0. */
export function rescaleQBounds(
  multiplier: bigint,
  shift: number,
  lo: readonly bigint[],
  hi: readonly bigint[],
): { lo: bigint[]; hi: bigint[] } {
  const s = BigInt(shift);
  return { lo: lo.map((v) => (multiplier * v) >> s), hi: hi.map((v) => (multiplier * v) >> s) };
}

/**
 * The output width of a network whose last rescale is `last`: its widest qBits, or for a sigmoid head (a table's
 * output) the signed width of the table's exact extremes over every q its range check admits — what the output
 * packing needs, and a bound the gadget's pinned output cannot leave.
 */
export function outputWidthOf(last: QuantizedRescale, signHead: boolean): number {
  if (!signHead || !last.piecewise) return Math.max(...last.qBits);
  const B = Math.max(...last.qBits);
  const b = piecewiseBounds(last.piecewise, -(1n << BigInt(B - 1)), (1n << BigInt(B - 1)) - 1n);
  return signedBits(b.lo, b.hi);
}

/** The smallest signed width b >= 2 with [lo, hi] ⊆ [-2^(b-1), 2^(b-1)). */
export function signedBits(lo: bigint, hi: bigint): number {
  let b = 2;
  while (lo < -(1n << BigInt(b - 1)) || hi > (1n << BigInt(b - 1)) - 1n) b++;
  return b;
}
