import { rescaleConstraints, rescaleGadget } from "../circuits/direct/gadgets.js";
import { piecewiseBounds } from "../models/layers/piecewise.js";
import { activationForward, type QuantizedRescale, rescaleForward, rescaleQBounds } from "../models/layers/rescale.js";
import type { LayerModule } from "./layer-module.js";
import { biasField, fieldInts, peakOf } from "./linear-module.js";

/** Activation codes in a rescale's descriptor (0 and 1 as in verinfer's first, relu-only networks). */
const ACTIVATION_CODES: Record<QuantizedRescale["activation"], number> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  leakyRelu: 3,
  // Smooth activations: their committed table (the descriptor states window, segment bits and the relu part).
  sigmoid: 4,
  tanh: 5,
  softplus: 6,
  swish: 7,
  gelu: 8,
  gelu_new: 9,
  hardSigmoid: 10,
  hardSwish: 11,
  exp: 12,
};

/** The circuit's parameters of unit j of a rescale layer. */
export const rescaleUnit = (l: QuantizedRescale, j: number) => ({
  multiplier: l.multiplier,
  shift: l.shift,
  B: l.qBits[j] as number,
  activation: l.activation,
  leakShift: l.leakShift,
  piecewise: l.piecewise,
  outFracBits: l.outFracBits,
});

/** Rescales with their activation: `act(floor(m·acc / 2^shift))`, quotient and remainder proven by bits. */
export const rescaleModule: LayerModule<QuantizedRescale> = {
  kind: "rescale",
  code: 4n,
  inputSize: (l) => l.size,
  outputSize: (l) => l.size,
  forward: rescaleForward,
  bounds(l, input) {
    const q = rescaleQBounds(l.multiplier, l.shift, input.lo, input.hi);
    let peak = 0n;
    for (const [j, B] of l.qBits.entries()) {
      const m = peakOf({ lo: [input.lo[j] as bigint], hi: [input.hi[j] as bigint] }) * l.multiplier;
      const p = m + (1n << BigInt(B + l.shift));
      if (p > peak) peak = p;
    }
    const { piecewise } = l;
    if (piecewise) {
      // Not monotone (swish, gelu): the table's exact extremes over each unit's range. Inside the gadget nothing
      // exceeds three table points at the output scale plus the relu part.
      const b = q.lo.map((v, j) => piecewiseBounds(piecewise, v, q.hi[j] as bigint));
      const S = 1n << BigInt(piecewise.window - piecewise.segmentBits);
      const inner =
        3n * S * peakOf({ lo: piecewise.table, hi: [] }) +
        (piecewise.reluShift === undefined ? 0n : 1n << BigInt(Math.max(...l.qBits) - 1 + piecewise.reluShift));
      return { lo: b.map((x) => x.lo), hi: b.map((x) => x.hi), peak: inner > peak ? inner : peak };
    }
    return {
      lo: q.lo.map((v) => activationForward(l, v)),
      hi: q.hi.map((v) => activationForward(l, v)),
      peak,
    };
  },
  commitment(l) {
    return {
      descriptor: [
        this.code,
        BigInt(l.size),
        l.multiplier,
        // The activation code, then (a leakyRelu only) its shift: the code fixes how many fields follow.
        ...fieldInts([l.shift, ACTIVATION_CODES[l.activation], ...(l.leakShift === undefined ? [] : [l.leakShift])]),
        ...fieldInts([l.outFracBits]),
        ...fieldInts(l.qBits),
        // A smooth activation (its code says so): window, segment bits, relu shift + 1 (0: none); then its table.
        ...(l.piecewise
          ? fieldInts([l.piecewise.window, l.piecewise.segmentBits, (l.piecewise.reluShift ?? -1) + 1])
          : []),
      ],
      constants: l.piecewise ? l.piecewise.table.map(biasField) : [],
    };
  },
  emit: (cs, l, input) => input.map((acc, j) => rescaleGadget(cs, acc, rescaleUnit(l, j))),
  estimate: (l) => l.qBits.reduce((n, _B, j) => n + rescaleConstraints(rescaleUnit(l, j)), 0),
  sample: () => ({
    kind: "rescale",
    name: "r",
    size: 2,
    multiplier: 3n,
    shift: 4,
    activation: "leakyRelu",
    leakShift: 2,
    qBits: [6, 7],
    outFracBits: 3,
  }),
};
