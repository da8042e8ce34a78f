import { packValues } from "../attest/commitments.js";
import { denseTerms, type QuantizedDense } from "../models/layers/dense.js";
import { linearBounds, linearForward } from "../models/layers/linear.js";
import type { LayerModule } from "./layer-module.js";
import { biasField, emitLinear, fieldInts, peakOf } from "./linear-module.js";

/** Dense layers: `acc_j = bias_j + Σ_i W[j][i]·a_i`, a linear combination (no constraint). */
export const denseModule: LayerModule<QuantizedDense> = {
  kind: "dense",
  code: 1n,
  inputSize: (l) => l.nIn,
  outputSize: (l) => l.nOut,
  forward: (l, a) => linearForward(denseTerms(l), a),
  bounds(l, input) {
    const out = linearBounds(denseTerms(l), input.lo, input.hi);
    return { ...out, peak: peakOf(out) };
  },
  commitment(l) {
    const offset = 1n << BigInt(l.weightBits - 1);
    return {
      descriptor: [this.code, ...fieldInts([l.nIn, l.nOut, l.weightBits, l.weightFracBits, l.inFracBits])],
      constants: [
        ...packValues(
          l.weights.flat().map((w) => w + offset),
          l.weightBits,
        ),
        ...l.bias.map(biasField),
      ],
    };
  },
  emit: (cs, l, input) => emitLinear(cs, denseTerms(l), input),
  estimate: () => 0,
  sample: () => ({
    kind: "dense",
    name: "d",
    nIn: 2,
    nOut: 2,
    weightBits: 4,
    weightFracBits: 2,
    inFracBits: 3,
    weights: [
      [1n, -2n],
      [3n, 0n],
    ],
    bias: [5n, -1n],
  }),
};
