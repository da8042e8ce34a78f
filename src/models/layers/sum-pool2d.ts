import { z } from "zod";
import { hwcCoords, hwcIndex, type Shape3, visitWindow } from "./geometry.js";
import type { LinearTerms } from "./linear.js";
import { pairSchema, shape3Schema } from "./schema-parts.js";

/**
 * Sum pooling, channels-last: `out[oy][ox][c] = Σ_{py,px} a[oy·sh + py][ox·sw + px][c]` over windows that lie
 * inside the input. Average pooling is this sum with its 1/(ph·pw) folded into the next rescale, so in the
 * circuit it is a linear combination and costs nothing.
 */
export interface QuantizedSumPool2d {
  kind: "sumPool2d";
  name: string;
  inShape: Shape3;
  outShape: Shape3;
  poolSize: [number, number];
  strides: [number, number];
}

/** zod schema of a serialized {@link QuantizedSumPool2d}. */
export const QuantizedSumPool2dSchema = z.object({
  kind: z.literal("sumPool2d"),
  name: z.string(),
  inShape: shape3Schema,
  outShape: shape3Schema,
  poolSize: pairSchema,
  strides: pairSchema,
});

/** Calls `at(i)` for each input index in the window of output j of a pooling layer (row-major over the window). */
export function visitPool(
  op: Pick<QuantizedSumPool2d, "inShape" | "outShape" | "poolSize" | "strides">,
  j: number,
  at: (i: number) => void,
): void {
  const [oy, ox, c] = hwcCoords(op.outShape, j);
  visitWindow(op.inShape, oy, ox, op.poolSize, op.strides, [0, 0], (iy, ix) => at(hwcIndex(op.inShape, iy, ix, c)));
}

/** The terms of a sum pooling (every weight 1). */
export function sumPool2dTerms(op: QuantizedSumPool2d): LinearTerms {
  return {
    nIn: op.inShape[0] * op.inShape[1] * op.inShape[2],
    nOut: op.outShape[0] * op.outShape[1] * op.outShape[2],
    bias: () => 0n,
    visit: (j, term) => visitPool(op, j, (i) => term(i, 1n)),
  };
}
