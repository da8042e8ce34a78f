import type { Lc } from "../circuits/direct/constraint-system.js";
import { maxGadget } from "../circuits/direct/gadgets.js";
import { poolIsPadded } from "../models/layers/geometry.js";
import { maxPoolBounds, maxPoolForward, maxPoolWindows, type QuantizedMaxPool2d } from "../models/layers/max-pool2d.js";
import type { LayerModule } from "./layer-module.js";
import { fieldInts, peakOf } from "./linear-module.js";

const size = (s: readonly number[]) => (s[0] as number) * (s[1] as number) * (s[2] as number);

/** The descriptor code of a max pooling whose windows reach into padding. */
export const PADDED_MAX_POOL_CODE = 42n;

/**
 * Max pooling: a running maximum per window (see `maxGadget`), (k − 1)(diffBits + 1) constraints per output of a
 * k-window. The differences it proves lie within ±(input peak)·2, the field check's peak.
 */
export const maxPool2dModule: LayerModule<QuantizedMaxPool2d> = {
  kind: "maxPool2d",
  code: 5n,
  inputSize: (l) => size(l.inShape),
  outputSize: (l) => size(l.outShape),
  forward: maxPoolForward,
  bounds(l, input) {
    const out = maxPoolBounds(l, input.lo, input.hi);
    return { lo: out.lo, hi: out.hi, peak: 2n * peakOf(input) + (1n << BigInt(l.diffBits)) };
  },
  commitment(l) {
    const fields = [...l.inShape, ...l.outShape, ...l.poolSize, ...l.strides, l.diffBits];
    // Padded (windows reaching outside the input, positions skipped): its own code and the padding after.
    if (poolIsPadded(l))
      return { descriptor: [PADDED_MAX_POOL_CODE, ...fieldInts([...fields, ...(l.padding ?? [0, 0])])], constants: [] };
    return { descriptor: [this.code, ...fieldInts(fields)], constants: [] };
  },
  emit: (cs, l, input) =>
    maxPoolWindows(l).map((w) =>
      maxGadget(
        cs,
        w.map((i) => input[i] as Lc),
        l.diffBits,
      ),
    ),
  estimate: (l) =>
    poolIsPadded(l)
      ? maxPoolWindows(l).reduce((n, w) => n + (w.length - 1) * (l.diffBits + 1), 0)
      : size(l.outShape) * (l.poolSize[0] * l.poolSize[1] - 1) * (l.diffBits + 1),
  sample: () => ({
    kind: "maxPool2d",
    name: "m",
    inShape: [4, 4, 1],
    outShape: [2, 2, 1],
    poolSize: [2, 2],
    strides: [2, 2],
    diffBits: 6,
  }),
};
