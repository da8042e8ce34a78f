import { z } from "zod";
import { VerinferError } from "../../errors.js";
import { ACTIVATIONS, type Activation } from "../network.js";
import { bigintString, int } from "./schema-parts.js";

/**
 * The rescale (and optional ReLU) that ends every linear chain:
 * `q_j = floor(multiplier · acc_j / 2^shift)`, `y_j = relu ? max(q_j, 0) : q_j`, with q_j proven to lie in
 * [-2^(qBits_j − 1), 2^(qBits_j − 1)). `multiplier` is 1 except after an average pooling whose window size is
 * not a power of two: then it is round(2^t / windowSize), an exact integer semantic that approximates the mean.
 * A ReLU on values already rescaled is a rescale with shift 0.
 */
export interface QuantizedRescale {
  kind: "rescale";
  name: string;
  size: number;
  multiplier: bigint;
  shift: number;
  activation: Activation;
  /** Signed bit width each q_j is range-checked to, from worst-case interval analysis. */
  qBits: number[];
  /** Scale of the output: y ≈ value · 2^outFracBits. */
  outFracBits: number;
}

/** zod schema of a serialized {@link QuantizedRescale}. */
export const QuantizedRescaleSchema = z.object({
  kind: z.literal("rescale"),
  name: z.string(),
  size: int.positive(),
  multiplier: bigintString.refine((m) => m >= 1n && m < 1n << 64n, "multiplier must be in [1, 2^64)"),
  shift: int.min(0),
  activation: z.enum(ACTIVATIONS),
  qBits: z.array(int.min(2).max(250)),
  outFracBits: int,
});

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
    return op.activation === "relu" && q < 0n ? 0n : q;
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

/** The smallest signed width b >= 2 with [lo, hi] ⊆ [-2^(b-1), 2^(b-1)). */
export function signedBits(lo: bigint, hi: bigint): number {
  let b = 2;
  while (lo < -(1n << BigInt(b - 1)) || hi > (1n << BigInt(b - 1)) - 1n) b++;
  return b;
}
