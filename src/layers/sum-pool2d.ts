import { poolIsPadded } from "../models/layers/geometry.js";
import { linearBounds, linearForward } from "../models/layers/linear.js";
import { type QuantizedSumPool2d, sumPool2dTerms } from "../models/layers/sum-pool2d.js";
import type { LayerModule } from "./layer-module.js";
import { emitLinear, fieldInts, peakOf } from "./linear-module.js";

const size = (s: readonly number[]) => (s[0] as number) * (s[1] as number) * (s[2] as number);

/** The descriptor code of a sum pooling whose windows reach into padding (see {@link sumPool2dModule}). */
export const PADDED_SUM_POOL_CODE = 41n;

/**
 * Sum pooling (average pooling before its rescale): linear combinations (no constraint). A padded one (windows
 * reaching outside the input) commits under {@link PADDED_SUM_POOL_CODE} with its padding and count flag.
 */
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
    const fields = [...l.inShape, ...l.outShape, ...l.poolSize, ...l.strides];
    // A padded pooling has its own code and two more fields (padding) and the count flag: today's descriptor of an
    // unpadded one is unchanged, and the two forms parse apart.
    if (!poolIsPadded(l)) return { descriptor: [this.code, ...fieldInts(fields)], constants: [] };
    const pad = l.padding ?? [0, 0];
    return {
      descriptor: [PADDED_SUM_POOL_CODE, ...fieldInts([...fields, ...pad, l.countIncludePad ? 1 : 0])],
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
