import { linearBounds, linearForward } from "../models/layers/linear.js";
import { type QuantizedSumPool2d, sumPool2dTerms } from "../models/layers/sum-pool2d.js";
import type { LayerModule } from "./layer-module.js";
import { emitLinear, fieldInts, peakOf } from "./linear-module.js";

const size = (s: readonly number[]) => (s[0] as number) * (s[1] as number) * (s[2] as number);

/** Sum pooling (average pooling before its rescale): linear combinations (no constraint). */
export const sumPool2dModule: LayerModule<QuantizedSumPool2d> = {
  kind: "sumPool2d",
  code: 3n,
  inputSize: (l) => size(l.inShape),
  outputSize: (l) => size(l.outShape),
  forward: (l, a) => linearForward(sumPool2dTerms(l), a),
  bounds(l, input) {
    const out = linearBounds(sumPool2dTerms(l), input.lo, input.hi);
    return { ...out, peak: peakOf(out) };
  },
  commitment(l) {
    return {
      descriptor: [this.code, ...fieldInts([...l.inShape, ...l.outShape, ...l.poolSize, ...l.strides])],
      constants: [],
    };
  },
  emit: (cs, l, input) => emitLinear(cs, sumPool2dTerms(l), input),
  estimate: () => 0,
  sample: () => ({
    kind: "sumPool2d",
    name: "p",
    inShape: [4, 4, 1],
    outShape: [2, 2, 1],
    poolSize: [2, 2],
    strides: [2, 2],
  }),
};
