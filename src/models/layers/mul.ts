import { z } from "zod";
import { int } from "./schema-parts.js";

/**
 * Elementwise product of two tensors of `size` values (gating, `x * sigmoid(x)`-style): `out_j = a_j · b_j`, at
 * the sum of the inputs' scales. The layer reads its inputs concatenated (a, then b). One constraint per value; the
 * next rescale brings the products back to their range.
 */
export interface QuantizedMul {
  kind: "mul";
  name: string;
  size: number;
}

/** zod schema of a serialized {@link QuantizedMul}. */
export const QuantizedMulSchema = z.object({ kind: z.literal("mul"), name: z.string(), size: int.positive() });

/** The integer semantics of a mul. */
export function mulForward(op: QuantizedMul, input: readonly bigint[]): bigint[] {
  return Array.from({ length: op.size }, (_v, j) => (input[j] as bigint) * (input[op.size + j] as bigint));
}

/** Exact bounds of products over inputs within [lo, hi] (the extremes of a product lie at corners). */
export function mulBounds(
  op: QuantizedMul,
  lo: readonly bigint[],
  hi: readonly bigint[],
): { lo: bigint[]; hi: bigint[] } {
  const outLo: bigint[] = [];
  const outHi: bigint[] = [];
  for (let j = 0; j < op.size; j++) {
    const a = [lo[j] as bigint, hi[j] as bigint];
    const b = [lo[op.size + j] as bigint, hi[op.size + j] as bigint];
    const corners = a.flatMap((x) => b.map((y) => x * y));
    outLo.push(corners.reduce((m, v) => (v < m ? v : m)));
    outHi.push(corners.reduce((m, v) => (v > m ? v : m)));
  }
  return { lo: outLo, hi: outHi };
}
