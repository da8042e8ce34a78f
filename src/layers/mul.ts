import type { Lc } from "../circuits/direct/constraint-system.js";
import { mulBounds, mulForward, type QuantizedMul } from "../models/layers/mul.js";
import type { LayerModule } from "./layer-module.js";
import { fieldInts, peakOf } from "./linear-module.js";

/** Elementwise products of two tensors: one constraint `a·b = out` per value, which pins each output. */
export const mulModule: LayerModule<QuantizedMul> = {
  kind: "mul",
  code: 22n,
  inputSize: (l) => 2 * l.size,
  outputSize: (l) => l.size,
  forward: mulForward,
  bounds(l, input) {
    const out = mulBounds(l, input.lo, input.hi);
    return { ...out, peak: peakOf(out) };
  },
  commitment(l) {
    return { descriptor: [this.code, ...fieldInts([l.size])], constants: [] };
  },
  emit: (cs, l, input) =>
    Array.from({ length: l.size }, (_v, j) => {
      const [a, b] = [input[j] as Lc, input[l.size + j] as Lc];
      // A wire even when an input is a constant (cs.mul would fold it): the count is then exactly `size`.
      const w = cs.wire(a.value * b.value);
      cs.enforce(a, b, w);
      return w;
    }),
  estimate: (l) => l.size,
  sample: () => ({ kind: "mul", name: "g", size: 2 }),
};
