import { z } from "zod";
import { hwcCoords, hwcIndex, type Shape3, visitWindow } from "./geometry.js";
import type { LinearTerms } from "./linear.js";
import { bigintString, int, pairSchema, shape3Schema } from "./schema-parts.js";

/**
 * A 2-D convolution in integers, channels-last:
 * `acc[oy][ox][co] = bias[co] + Σ_{ky,kx,ci} weights[co][(ky·kw + kx)·C + ci] · a[oy·sh + ky − pt][ox·sw + kx − pl][ci]`,
 * where positions outside the input are zeros (padding) and (pt, pl) = `padding` (top, left).
 */
export interface QuantizedConv2d {
  kind: "conv2d";
  name: string;
  inShape: Shape3;
  outShape: Shape3;
  kernelSize: [number, number];
  strides: [number, number];
  /** Zero rows above and columns left of the input ("same" padding's top/left split). */
  padding: [number, number];
  weightBits: number;
  weightFracBits: number;
  inFracBits: number;
  /** Integer weights, indexed [outChannel][(ky · kw + kx) · inChannels + ci]. */
  weights: bigint[][];
  /** Integer biases at scale inFracBits + weightFracBits. */
  bias: bigint[];
}

/** zod schema of a serialized {@link QuantizedConv2d}. */
export const QuantizedConv2dSchema = z.object({
  kind: z.literal("conv2d"),
  name: z.string(),
  inShape: shape3Schema,
  outShape: shape3Schema,
  kernelSize: pairSchema,
  strides: pairSchema,
  padding: z.tuple([int.min(0), int.min(0)]),
  weightBits: int.min(2).max(32),
  weightFracBits: int,
  inFracBits: int,
  weights: z.array(z.array(bigintString)),
  bias: z.array(bigintString),
});

/** Calls `term(inputIndex, kernelIndex)` for every input an output of a convolution reads (padding skipped). */
export function visitConv(
  op: Pick<QuantizedConv2d, "inShape" | "outShape" | "kernelSize" | "strides" | "padding">,
  j: number,
  term: (i: number, k: number) => void,
): void {
  const [oy, ox] = hwcCoords(op.outShape, j);
  const c = op.inShape[2];
  const kw = op.kernelSize[1];
  visitWindow(op.inShape, oy, ox, op.kernelSize, op.strides, op.padding, (iy, ix, ky, kx) => {
    const base = hwcIndex(op.inShape, iy, ix, 0);
    const kBase = (ky * kw + kx) * c;
    for (let ci = 0; ci < c; ci++) term(base + ci, kBase + ci);
  });
}

/** The terms of a convolution. */
export function conv2dTerms(op: QuantizedConv2d): LinearTerms {
  const nOutC = op.outShape[2];
  return {
    nIn: op.inShape[0] * op.inShape[1] * op.inShape[2],
    nOut: op.outShape[0] * op.outShape[1] * nOutC,
    bias: (j) => op.bias[j % nOutC] as bigint,
    visit(j, term) {
      const row = op.weights[j % nOutC] as bigint[];
      visitConv(op, j, (i, k) => term(i, row[k] as bigint));
    },
  };
}

/** Float forward of a convolution (no activation); `kernel` flat as {@link QuantizedConv2d.weights}. */
export function floatConv2d(
  op: Pick<QuantizedConv2d, "inShape" | "outShape" | "kernelSize" | "strides" | "padding">,
  kernel: readonly (readonly number[])[],
  bias: readonly number[],
  x: Float64Array,
): Float64Array {
  const nOutC = op.outShape[2];
  const z = new Float64Array(op.outShape[0] * op.outShape[1] * nOutC);
  for (let j = 0; j < z.length; j++) {
    const row = kernel[j % nOutC] as readonly number[];
    let acc = bias[j % nOutC] as number;
    visitConv(op, j, (i, k) => {
      acc += (x[i] as number) * (row[k] as number);
    });
    z[j] = acc;
  }
  return z;
}

/** A Keras kernel `[kh][kw][cin][cout]` as rows per output channel, in {@link QuantizedConv2d.weights} order. */
export function convKernelRows(kernel: readonly (readonly (readonly (readonly number[])[])[])[]): number[][] {
  const kh = kernel.length;
  const kw = kernel[0]?.length ?? 0;
  const cin = kernel[0]?.[0]?.length ?? 0;
  const cout = kernel[0]?.[0]?.[0]?.length ?? 0;
  const rows: number[][] = [];
  for (let co = 0; co < cout; co++) {
    const row: number[] = [];
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        for (let ci = 0; ci < cin; ci++) row.push(kernel[ky]?.[kx]?.[ci]?.[co] as number);
      }
    }
    rows.push(row);
  }
  return rows;
}
