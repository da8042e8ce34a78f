import { z } from "zod";
import { hwcCoords, hwcIndex, poolIsPadded, type Shape3, visitWindow } from "./geometry.js";
import type { LinearTerms } from "./linear.js";
import { int, pairSchema, shape3Schema } from "./schema-parts.js";

/**
 * Sum pooling, channels-last: `out[oy][ox][c] = g_j · Σ_{py,px} a[oy·sh + py − pt][ox·sw + px − pl][c]` over the
 * window's positions inside the input (padded positions skipped, as zeros). Average pooling is this sum with its
 * 1/divisor folded into the next rescale, so in the circuit it is a linear combination and costs nothing. Without
 * padding, or with `countIncludePad`, g_j = 1 and the divisor is ph·pw; with padding that does not count, the
 * divisor is L = lcm of the windows' input counts n_j and g_j = L / n_j (exact integers: see {@link sumPoolScale}).
 */
export interface QuantizedSumPool2d {
  kind: "sumPool2d";
  name: string;
  inShape: Shape3;
  outShape: Shape3;
  poolSize: [number, number];
  strides: [number, number];
  /** Rows above and columns left of the input that windows start in (absent: none). */
  padding?: [number, number];
  /** With `padding`: padded positions count in the divisor (absent/false: only input positions do). */
  countIncludePad?: boolean;
}

/** zod schema of a serialized {@link QuantizedSumPool2d}. */
export const QuantizedSumPool2dSchema = z.object({
  kind: z.literal("sumPool2d"),
  name: z.string(),
  inShape: shape3Schema,
  outShape: shape3Schema,
  poolSize: pairSchema,
  strides: pairSchema,
  padding: z.tuple([int.min(0), int.min(0)]).optional(),
  countIncludePad: z.boolean().optional(),
});

/** Calls `at(i)` for each input index in the window of output j of a pooling layer (row-major over the window). */
export function visitPool(
  op: Pick<QuantizedSumPool2d, "inShape" | "outShape" | "poolSize" | "strides" | "padding">,
  j: number,
  at: (i: number) => void,
): void {
  const [oy, ox, c] = hwcCoords(op.outShape, j);
  const pad = op.padding ?? [0, 0];
  visitWindow(op.inShape, oy, ox, op.poolSize, op.strides, pad, (iy, ix) => at(hwcIndex(op.inShape, iy, ix, c)));
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

/**
 * The divisor of an average pooling read as this sum pooling, and each output's weight g_j (see
 * {@link QuantizedSumPool2d}): ph·pw and all 1, or with padding that does not count, L = lcm(n_j) and L / n_j.
 */
export function sumPoolScale(op: QuantizedSumPool2d): { divisor: bigint; weights: bigint[] } {
  const n = op.outShape[0] * op.outShape[1] * op.outShape[2];
  const k = BigInt(op.poolSize[0] * op.poolSize[1]);
  if (!poolIsPadded(op) || op.countIncludePad) return { divisor: k, weights: new Array<bigint>(n).fill(1n) };
  const counts: bigint[] = [];
  for (let j = 0; j < n; j++) {
    let m = 0n;
    visitPool(op, j, () => {
      m++;
    });
    counts.push(m);
  }
  const divisor = counts.reduce((l, m) => (m === 0n ? l : (l / gcd(l, m)) * m), 1n);
  return { divisor, weights: counts.map((m) => (m === 0n ? 0n : divisor / m)) };
}

/** The terms of a sum pooling (weights g_j, see {@link sumPoolScale}). */
export function sumPool2dTerms(op: QuantizedSumPool2d): LinearTerms {
  const weights = poolIsPadded(op) && !op.countIncludePad ? sumPoolScale(op).weights : undefined;
  return {
    nIn: op.inShape[0] * op.inShape[1] * op.inShape[2],
    nOut: op.outShape[0] * op.outShape[1] * op.outShape[2],
    bias: () => 0n,
    visit: (j, term) => {
      const g = weights ? (weights[j] as bigint) : 1n;
      visitPool(op, j, (i) => term(i, g));
    },
  };
}
