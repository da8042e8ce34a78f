import { z } from "zod";
import type { LinearTerms } from "./linear.js";
import { bigintString, int } from "./schema-parts.js";

/**
 * A dense layer in integers: `acc_j = bias_j + Σ_i weights[j][i] · a_i` (accumulators at scale
 * `inFracBits + weightFracBits`; a later rescale brings them back).
 */
export interface QuantizedDense {
  kind: "dense";
  name: string;
  nIn: number;
  nOut: number;
  weightBits: number;
  /** weights ≈ wq / 2^weightFracBits */
  weightFracBits: number;
  /** Scale of this layer's input. */
  inFracBits: number;
  /** Integer weights, indexed [out][in]. */
  weights: bigint[][];
  /** Integer biases at scale inFracBits + weightFracBits. */
  bias: bigint[];
}

/** The terms of a dense layer. */
export function denseTerms(op: QuantizedDense): LinearTerms {
  return {
    nIn: op.nIn,
    nOut: op.nOut,
    bias: (j) => op.bias[j] as bigint,
    visit(j, term) {
      const row = op.weights[j] as bigint[];
      for (let i = 0; i < op.nIn; i++) term(i, row[i] as bigint);
    },
  };
}

/** zod schema of a serialized {@link QuantizedDense}. */
export const QuantizedDenseSchema = z.object({
  kind: z.literal("dense"),
  name: z.string(),
  nIn: int.positive(),
  nOut: int.positive(),
  weightBits: int.min(2).max(32),
  weightFracBits: int,
  inFracBits: int,
  weights: z.array(z.array(bigintString)),
  bias: z.array(bigintString),
});

/** Float forward of a dense layer (no activation): `z = x · kernel + bias`, kernel `[in][out]`. */
export function floatDense(
  kernel: readonly (readonly number[])[],
  bias: readonly number[],
  x: Float64Array,
): Float64Array {
  const z = Float64Array.from(bias);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] as number;
    if (xi === 0) continue;
    const row = kernel[i] as readonly number[];
    for (let j = 0; j < z.length; j++) z[j] = (z[j] as number) + xi * (row[j] as number);
  }
  return z;
}
