import { addTerms, type QuantizedAdd } from "../models/layers/add.js";
import { linearBounds, linearForward } from "../models/layers/linear.js";
import type { LayerModule } from "./layer-module.js";
import { emitLinear, fieldInts, peakOf } from "./linear-module.js";

/** Residual merges: `Σ_k in_k · 2^shift_k`, a linear combination (no constraint). */
export const addModule: LayerModule<QuantizedAdd> = {
  kind: "add",
  code: 20n,
  inputSize: (l) => l.size * l.shifts.length,
  outputSize: (l) => l.size,
  forward: (l, a) => linearForward(addTerms(l), a),
  bounds(l, input) {
    const out = linearBounds(addTerms(l), input.lo, input.hi);
    return { ...out, peak: peakOf(out) };
  },
  commitment(l) {
    // The input count first: it fixes how many shifts follow.
    return { descriptor: [this.code, ...fieldInts([l.size, l.shifts.length, ...l.shifts])], constants: [] };
  },
  emit: (cs, l, input) => emitLinear(cs, addTerms(l), input),
  estimate: () => 0,
  sample: () => ({ kind: "add", name: "a", size: 2, shifts: [0, 3] }),
};
