import { z } from "zod";
import type { LinearTerms } from "./linear.js";
import { int } from "./schema-parts.js";

/**
 * Elementwise sum of k ≥ 2 tensors of `size` values (a residual merge): `out_j = Σ_k in_k[j] · 2^shifts[k]`. The
 * layer reads its inputs concatenated (input k at offset k·size). The left shifts align the inputs' scales exactly
 * (each input is an integer at 2^fracBits_k; all are brought to the finest), so the sum is exact and linear: no
 * constraint. The next rescale brings the sum back to its range.
 */
export interface QuantizedAdd {
  kind: "add";
  name: string;
  size: number;
  /** One left shift per input; the number of inputs. */
  shifts: number[];
}

/** zod schema of a serialized {@link QuantizedAdd}. */
export const QuantizedAddSchema = z.object({
  kind: z.literal("add"),
  name: z.string(),
  size: int.positive(),
  shifts: z.array(int.min(0).max(200)).min(2),
});

/** The terms of an add (weights 2^shift, no bias). */
export function addTerms(op: QuantizedAdd): LinearTerms {
  const weights = op.shifts.map((s) => 1n << BigInt(s));
  return {
    nIn: op.size * op.shifts.length,
    nOut: op.size,
    bias: () => 0n,
    visit(j, term) {
      for (const [k, w] of weights.entries()) term(k * op.size + j, w);
    },
  };
}
