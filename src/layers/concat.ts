import { concatSize, concatTerms, type QuantizedConcat } from "../models/layers/concat.js";
import { linearBounds, linearForward } from "../models/layers/linear.js";
import type { LayerModule } from "./layer-module.js";
import { emitLinear, fieldInts, peakOf } from "./linear-module.js";

/** Concatenation along the last axis: a permutation of its inputs (no constraint). */
export const concatModule: LayerModule<QuantizedConcat> = {
  kind: "concat",
  code: 21n,
  inputSize: concatSize,
  outputSize: concatSize,
  forward: (l, a) => linearForward(concatTerms(l), a),
  bounds(l, input) {
    const out = linearBounds(concatTerms(l), input.lo, input.hi);
    return { ...out, peak: peakOf(out) };
  },
  commitment(l) {
    // The input count first: it fixes how many part sizes follow.
    return { descriptor: [this.code, ...fieldInts([l.outer, l.parts.length, ...l.parts])], constants: [] };
  },
  emit: (cs, l, input) => emitLinear(cs, concatTerms(l), input),
  estimate: () => 0,
  sample: () => ({ kind: "concat", name: "c", outer: 2, parts: [1, 2] }),
};
