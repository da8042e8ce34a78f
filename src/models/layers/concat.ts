import { z } from "zod";
import type { LinearTerms } from "./linear.js";
import { int } from "./schema-parts.js";

/**
 * Concatenation along the last axis (channels of a channels-last image, or features): input k holds `outer`
 * positions of `parts[k]` values each, and output position p holds every input's values at p, input by input. The
 * layer reads its inputs concatenated (input 0 first). A permutation: no constraint. Its inputs share one scale
 * (the quantizer rescales the finer ones to the coarsest before the concat).
 */
export interface QuantizedConcat {
  kind: "concat";
  name: string;
  /** Positions (the product of every axis but the last). */
  outer: number;
  /** Size of the last axis of each input; the number of inputs. */
  parts: number[];
}

/** zod schema of a serialized {@link QuantizedConcat}. */
export const QuantizedConcatSchema = z.object({
  kind: z.literal("concat"),
  name: z.string(),
  outer: int.positive(),
  parts: z.array(int.positive()).min(2),
});

/** Number of values a concat writes (and reads). */
export function concatSize(op: QuantizedConcat): number {
  return op.outer * op.parts.reduce((a, b) => a + b, 0);
}

/** The terms of a concat: each output is one input value (weight 1, no bias). */
export function concatTerms(op: QuantizedConcat): LinearTerms {
  const width = op.parts.reduce((a, b) => a + b, 0);
  // Where input k starts in the concatenated input, and where its values start along the last axis.
  const base: number[] = [];
  const offset: number[] = [];
  let b = 0;
  let o = 0;
  for (const c of op.parts) {
    base.push(b);
    offset.push(o);
    b += op.outer * c;
    o += c;
  }
  return {
    nIn: concatSize(op),
    nOut: concatSize(op),
    bias: () => 0n,
    visit(j, term) {
      const p = Math.floor(j / width);
      let c = j % width;
      let k = 0;
      while (c >= (op.parts[k] as number)) {
        c -= op.parts[k] as number;
        k++;
      }
      term((base[k] as number) + p * (op.parts[k] as number) + c, 1n);
    },
  };
}
