import { z } from "zod";
import type { Shape3 } from "./geometry.js";
import { signedBits } from "./rescale.js";
import { int, pairSchema, shape3Schema } from "./schema-parts.js";
import { visitPool } from "./sum-pool2d.js";

/**
 * Max pooling in integers over windows inside the input, on rescaled values or on pending accumulators (the
 * quantizer pools accumulators before their rescale and ReLU, which commute with max since both are monotone:
 * exact, and only the pooled outputs are rescaled). The circuit takes a running maximum in window order,
 * `m ← m + relu(a − m)`, each step one range check of `diffBits` bits on a − m plus one product:
 * (k − 1)·(diffBits + 1) constraints per output of a k-window.
 */
export interface QuantizedMaxPool2d {
  kind: "maxPool2d";
  name: string;
  inShape: Shape3;
  outShape: Shape3;
  poolSize: [number, number];
  strides: [number, number];
  /** Rows above and columns left of the input that windows start in; padded positions are skipped (−∞). */
  padding?: [number, number];
  /** Signed width of every difference a − m the running maximum meets, from interval analysis. */
  diffBits: number;
}

/** zod schema of a serialized {@link QuantizedMaxPool2d}. */
export const QuantizedMaxPool2dSchema = z.object({
  kind: z.literal("maxPool2d"),
  name: z.string(),
  inShape: shape3Schema,
  outShape: shape3Schema,
  poolSize: pairSchema,
  strides: pairSchema,
  padding: z.tuple([int.min(0), int.min(0)]).optional(),
  diffBits: int.min(2).max(250),
});

/** The window of each output, as input indices in window order. */
export function maxPoolWindows(
  op: Pick<QuantizedMaxPool2d, "inShape" | "outShape" | "poolSize" | "strides" | "padding">,
): number[][] {
  const n = op.outShape[0] * op.outShape[1] * op.outShape[2];
  const windows: number[][] = [];
  for (let j = 0; j < n; j++) {
    const w: number[] = [];
    visitPool(op, j, (i) => w.push(i));
    windows.push(w);
  }
  return windows;
}

/** The integer max pooling. */
export function maxPoolForward(op: QuantizedMaxPool2d, a: readonly bigint[]): bigint[] {
  return maxPoolWindows(op).map((w) => w.map((i) => a[i] as bigint).reduce((m, v) => (v > m ? v : m)));
}

/** Output bounds and the width of every running-maximum difference, over inputs in [lo, hi]. */
export function maxPoolBounds(
  op: Pick<QuantizedMaxPool2d, "inShape" | "outShape" | "poolSize" | "strides" | "padding">,
  lo: readonly bigint[],
  hi: readonly bigint[],
): { lo: bigint[]; hi: bigint[]; diffBits: number } {
  const outLo: bigint[] = [];
  const outHi: bigint[] = [];
  let diffBits = 2;
  for (const w of maxPoolWindows(op)) {
    let mLo = lo[w[0] as number] as bigint;
    let mHi = hi[w[0] as number] as bigint;
    for (const i of w.slice(1)) {
      const aLo = lo[i] as bigint;
      const aHi = hi[i] as bigint;
      diffBits = Math.max(diffBits, signedBits(aLo - mHi, aHi - mLo));
      if (aLo > mLo) mLo = aLo;
      if (aHi > mHi) mHi = aHi;
    }
    outLo.push(mLo);
    outHi.push(mHi);
  }
  return { lo: outLo, hi: outHi, diffBits };
}
