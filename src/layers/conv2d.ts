import { packValues } from "../attest/commitments.js";
import { conv2dTerms, type QuantizedConv2d } from "../models/layers/conv2d.js";
import { linearBounds, linearForward } from "../models/layers/linear.js";
import type { LayerModule } from "./layer-module.js";
import { biasField, emitLinear, fieldInts, peakOf } from "./linear-module.js";

const size = (s: readonly number[]) => (s[0] as number) * (s[1] as number) * (s[2] as number);

/** 2-D convolutions, channels-last, zero padding: linear combinations (no constraint). */
export const conv2dModule: LayerModule<QuantizedConv2d> = {
  kind: "conv2d",
  code: 2n,
  inputSize: (l) => size(l.inShape),
  outputSize: (l) => size(l.outShape),
  forward: (l, a) => linearForward(conv2dTerms(l), a),
  bounds(l, input) {
    const out = linearBounds(conv2dTerms(l), input.lo, input.hi);
    return { ...out, peak: peakOf(out) };
  },
  commitment(l) {
    const offset = 1n << BigInt(l.weightBits - 1);
    return {
      descriptor: [
        this.code,
        ...fieldInts([...l.inShape, ...l.outShape, ...l.kernelSize, ...l.strides, ...l.padding]),
        ...fieldInts([l.weightBits, l.weightFracBits, l.inFracBits]),
      ],
      constants: [
        ...packValues(
          l.weights.flat().map((w) => w + offset),
          l.weightBits,
        ),
        ...l.bias.map(biasField),
      ],
    };
  },
  emit: (cs, l, input) => emitLinear(cs, conv2dTerms(l), input),
  estimate: () => 0,
  sample: () => ({
    kind: "conv2d",
    name: "c",
    inShape: [3, 3, 1],
    outShape: [2, 2, 2],
    kernelSize: [2, 2],
    strides: [1, 1],
    padding: [0, 0],
    weightBits: 4,
    weightFracBits: 2,
    inFracBits: 3,
    weights: [
      [1n, -2n, 0n, 3n],
      [2n, 1n, -1n, -3n],
    ],
    bias: [1n, -2n],
  }),
};
