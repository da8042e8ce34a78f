// Smooth activations (sigmoid, tanh, softplus, swish, gelu, gelu_new, hardSigmoid) proven as committed
// piecewise-linear tables read from the rescale's own bits: the gadget equals the integer semantics on every input
// of its range, every wire is pinned, forgeries of a wrong answer that keep the true input fail, the table and its
// parameters are committed, and the integer function stays within its error bound of the float one.
import { describe, expect, it } from "vitest";
import { modelCommitment } from "../../src/attest/model-commitment.js";
import { circuitSource } from "../../src/circuits/circuit-source.js";
import { buildModelCircuit, estimateConstraints } from "../../src/circuits/direct/build-model-circuit.js";
import { ConstraintSystem, type Lc } from "../../src/circuits/direct/constraint-system.js";
import { type RescaleUnit, rescaleConstraints, rescaleGadget } from "../../src/circuits/direct/gadgets.js";
import { writeR1cs } from "../../src/circuits/direct/write-r1cs.js";
import { isVerinferError } from "../../src/errors.js";
import { LAYER_MODULES } from "../../src/layers/registry.js";
import { integerForward } from "../../src/models/integer-forward.js";
import {
  type PiecewiseActivation,
  piecewiseBounds,
  piecewiseForward,
  SMOOTH_ACTIVATIONS,
  type SmoothParams,
  smoothFunction,
  TABLED_ACTIVATIONS,
  type TabledActivation,
  tablePiecewise,
} from "../../src/models/layers/piecewise.js";
import type { QuantizedRescale } from "../../src/models/layers/rescale.js";
import type { Layer, Network } from "../../src/models/network.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import {
  type QuantizedLayer,
  quantizedNetworkFromJson,
  quantizedNetworkToJson,
} from "../../src/models/quantized-network.js";
import { toField } from "../../src/util/field.js";
import { errorOf } from "../fixtures.js";
import { checkR1cs, constraintsByWire, parseR1cs, type R1cs, violatedConstraints } from "../r1cs-check.js";

function unitCircuit(acc: bigint, unit: RescaleUnit): { r1cs: R1cs; witness: bigint[]; out: bigint } {
  const cs = new ConstraintSystem({ track: true, nPublic: 1 });
  const [a] = cs.privateInputs([acc]);
  cs.setPublic(0, rescaleGadget(cs, a as Lc, unit));
  const bytes = writeR1cs(cs);
  const witness = cs.witness();
  return { r1cs: parseR1cs(bytes), witness, out: witness[1] as bigint };
}

/** Every wire but the constant and the input, changed alone (to w + 1, 0 or 1), breaks a constraint. */
function expectEveryWirePinned(r1cs: R1cs, witness: readonly bigint[]): void {
  const byWire = constraintsByWire(r1cs);
  const input = 1 + r1cs.nOutputs;
  for (let w = 1; w < witness.length; w++) {
    if (w === input) continue;
    for (const v of new Set([toField((witness[w] as bigint) + 1n), 0n, 1n])) {
      if (v === witness[w]) continue;
      const forged = witness.slice();
      forged[w] = v;
      expect(violatedConstraints(r1cs, forged, byWire[w] ?? []).length, `wire ${w} → ${v}`).toBeGreaterThan(0);
    }
  }
}

// Small tables (inputs at 2^-1: windows of 4–5 bits), units 2 bits wider than the window so saturation is proven.
const F = 1;
const SHIFT = 1;

describe("smooth activations as piecewise tables", () => {
  // Layout 2 (what quantization writes now) with saturation by running products (2 extra bits) and by the zero test
  // (4); layout 1 (packages compiled before it) with 2.
  // At inputs 2^-1 the tables have 2^4 segments (1 multiplexed bit); at 2^-2, 2^5 as at default bits (2).
  const cases = [
    ...TABLED_ACTIVATIONS.flatMap((name) => [
      { name, layout: 2 as const, extra: 2, f: F },
      { name, layout: 2 as const, extra: 4, f: F },
      { name, layout: 1 as const, extra: 2, f: F },
    ]),
    { name: "sigmoid" as const, layout: 2 as const, extra: 3, f: 2 },
    { name: "gelu" as const, layout: 2 as const, extra: 3, f: 2 },
    // PyTorch's Hardsigmoid (slope 1/6).
    { name: "hardSigmoid" as const, layout: 2 as const, extra: 3, f: 2, smooth: { alpha: 1 / 6 } },
  ];
  for (const { name, layout, extra, f, smooth } of cases as ((typeof cases)[number] & { smooth?: SmoothParams })[]) {
    it(`${name}${smooth ? " (α 1/6)" : ""} at 2^-${f}, layout ${layout}, ${extra} bits beyond the window: the gadget equals the integer semantics on every input; every wire pinned; forgeries fail`, () => {
      const tabled = tablePiecewise({ name, inFracBits: f, ...(smooth ? { smooth } : {}) });
      const { outFracBits } = tabled;
      const { layout: _l, ...first } = tabled.piecewise;
      const piecewise: PiecewiseActivation = layout === 1 ? first : tabled.piecewise;
      expect(tabled.piecewise.layout).toBe(2);
      const B = piecewise.window + extra;
      const unit: RescaleUnit = { multiplier: 1n, shift: SHIFT, B, activation: name, piecewise, outFracBits };
      const half = 1n << BigInt(B - 1 + SHIFT);
      const outs = new Map<bigint, bigint>();
      for (let acc = -half; acc < half; acc++) {
        const c = unitCircuit(acc, unit);
        const q = acc >> BigInt(SHIFT);
        expect(c.out).toBe(toField(piecewiseForward(piecewise, q)));
        expect(checkR1cs(c.r1cs, c.witness).ok).toBe(true);
        expect(c.r1cs.constraints.length).toBe(rescaleConstraints(unit));
        outs.set(acc, c.out);
      }
      // Saturated below and above, both window edges, inside: every wire pinned, every wrong answer's witness fails.
      const qHalf = 1n << BigInt(piecewise.window - 1);
      const qMax = 1n << BigInt(B - 1);
      for (const q of [
        -qMax,
        -(qHalf * 2n),
        -qHalf - 1n,
        -qHalf,
        -1n,
        0n,
        3n,
        qHalf - 1n,
        qHalf,
        qHalf * 2n - 1n,
        qMax - 1n,
      ]) {
        const acc = q << BigInt(SHIFT);
        const c = unitCircuit(acc, unit);
        expectEveryWirePinned(c.r1cs, c.witness);
        for (let other = -half; other < half; other += extra > 2 ? 13n : 3n) {
          if (outs.get(other) === c.out) continue;
          const forged = unitCircuit(other, unit).witness;
          forged[2] = toField(acc);
          expect(checkR1cs(c.r1cs, forged).ok).toBe(false);
        }
      }
    });
  }

  it("layout 2 costs fewer constraints than layout 1 at the default tables, the same integer function", () => {
    for (const name of SMOOTH_ACTIVATIONS) {
      const { piecewise, outFracBits } = tablePiecewise({ name, inFracBits: 11 });
      const { layout: _l, ...first } = piecewise;
      const unit = { shift: 8, B: 20, outFracBits, activation: name };
      expect(rescaleConstraints({ ...unit, piecewise }), name).toBeLessThan(
        rescaleConstraints({ ...unit, piecewise: first }),
      );
      // Not committed: the same model id in either layout.
      const layer: QuantizedRescale = {
        kind: "rescale",
        name: "a",
        size: 1,
        multiplier: 1n,
        shift: 8,
        activation: name,
        piecewise,
        qBits: [20],
        outFracBits,
      };
      expect(LAYER_MODULES.rescale.commitment(layer)).toEqual(
        LAYER_MODULES.rescale.commitment({ ...layer, piecewise: first }),
      );
    }
  });

  it("bounds are the exact extremes of the table over a range", () => {
    const { piecewise } = tablePiecewise({ name: "swish", inFracBits: 2 });
    for (const [lo, hi] of [
      [-40n, 40n],
      [-9n, -2n],
      [3n, 17n],
    ] as const) {
      const ys: bigint[] = [];
      for (let q = lo; q <= hi; q++) ys.push(piecewiseForward(piecewise, q));
      const b = piecewiseBounds(piecewise, lo, hi);
      expect(b.lo).toBe(ys.reduce((a, v) => (v < a ? v : a)));
      expect(b.hi).toBe(ys.reduce((a, v) => (v > a ? v : a)));
    }
  });

  it("commits the table and every parameter: any number changed changes the rescale's commitment", () => {
    const { piecewise, outFracBits } = tablePiecewise({ name: "gelu", inFracBits: 1 });
    const layer: QuantizedRescale = {
      kind: "rescale",
      name: "g",
      size: 1,
      multiplier: 1n,
      shift: 2,
      activation: "gelu",
      piecewise,
      qBits: [piecewise.window + 1],
      outFracBits,
    };
    const commit = (l: QuantizedRescale) =>
      JSON.stringify(LAYER_MODULES.rescale.commitment(l), (_k, v) => (typeof v === "bigint" ? v.toString() : v));
    const base = commit(layer);
    const variants: PiecewiseActivation[] = [
      { ...piecewise, window: piecewise.window + 1 },
      { ...piecewise, segmentBits: piecewise.segmentBits - 1 },
      { ...piecewise, reluShift: (piecewise.reluShift as number) + 1 },
      ...piecewise.table.map((_t, i) => ({
        ...piecewise,
        table: piecewise.table.map((v, j) => (j === i ? v + 1n : v)),
      })),
    ];
    for (const p of variants) expect(commit({ ...layer, piecewise: p })).not.toBe(base);
    const { reluShift: _r, ...noRelu } = piecewise;
    expect(commit({ ...layer, piecewise: noRelu })).not.toBe(base);
    expect(commit({ ...layer, activation: "swish" })).not.toBe(base);
  });
});

/**
 * max |float − proven| over the window and beyond (an exp: over its window, |x| < 8, beyond which it saturates), at
 * inputs 2^-f apart, in output units.
 */
function maxError(name: TabledActivation, f: number, precision: "default" | "high", smooth?: SmoothParams): number {
  const { piecewise, outFracBits } = tablePiecewise({ name, inFracBits: f, precision, ...(smooth ? { smooth } : {}) });
  let worst = 0;
  const span = 2 ** (piecewise.window + (name === "exp" ? -1 : 1));
  const fn = smoothFunction(name, smooth);
  for (let q = -span; q < span; q++) {
    const x = q / 2 ** f;
    const y = Number(piecewiseForward(piecewise, BigInt(q))) / 2 ** outFracBits;
    worst = Math.max(worst, Math.abs(y - fn(x)));
  }
  return worst;
}

/** The target: 1/256 of the output range (bounded functions), of the range over |x| <= 8 for the relu-like ones. */
const OUTPUT_RANGE: Record<TabledActivation, number> = {
  sigmoid: 1,
  tanh: 2,
  hardSigmoid: 1,
  softplus: 8,
  swish: 8.28,
  gelu: 8.17,
  gelu_new: 8.17,
  hardSwish: 8.375,
  exp: Math.exp(8),
};

describe("error against the float function", () => {
  it("stays within 1/256 of the output range at 11 fractional input bits (activationBits 16 on |x| < 8)", () => {
    for (const name of TABLED_ACTIVATIONS)
      expect(maxError(name, 11, "default"), name).toBeLessThanOrEqual(OUTPUT_RANGE[name] / 256);
    expect(maxError("hardSigmoid", 11, "default", { alpha: 1 / 6 })).toBeLessThanOrEqual(1 / 256);
  });
  it("stays within 2^-12 with the high precision setting (an exp: 2^-12 of e^x at the window's top)", () => {
    for (const name of TABLED_ACTIVATIONS)
      expect(maxError(name, 11, "high"), name).toBeLessThanOrEqual(2 ** -12 * (name === "exp" ? Math.exp(8) : 1));
    expect(maxError("hardSigmoid", 11, "high", { alpha: 1 / 6 })).toBeLessThanOrEqual(2 ** -12);
  });
  it("a hardSigmoid's kinks land on segment ends for tfjs's and PyTorch's slopes, and its parameters are in the table", () => {
    const keras = tablePiecewise({ name: "hardSigmoid", inFracBits: 11 }).piecewise;
    const torch = tablePiecewise({ name: "hardSigmoid", inFracBits: 11, smooth: { alpha: 1 / 6 } }).piecewise;
    expect(torch.table).not.toEqual(keras.table);
    expect(maxError("hardSigmoid", 11, "default", { alpha: 1 / 6 })).toBeLessThan(2 ** -15);
    // An unusual slope: more segments until the kink error is small.
    const odd = tablePiecewise({ name: "hardSigmoid", inFracBits: 11, smooth: { alpha: 0.3, beta: 0.45 } }).piecewise;
    expect(odd.segmentBits).toBeGreaterThan(keras.segmentBits);
    expect(maxError("hardSigmoid", 11, "default", { alpha: 0.3, beta: 0.45 })).toBeLessThanOrEqual(1 / 256);
  });
});

describe("networks with each smooth activation through the direct backend", () => {
  it("dense → activation → dense: the witness satisfies the R1CS, its outputs are integerForward's, every wire pinned", async () => {
    const kinds: { name: TabledActivation; alpha?: number; beta?: number }[] = [
      ...TABLED_ACTIVATIONS.map((name) => ({ name })),
      { name: "hardSigmoid", alpha: 1 / 6, beta: 0.5 },
    ];
    for (const { name, ...params } of kinds) {
      const net: Network = {
        inputShape: [3],
        inputSize: 3,
        layers: [
          {
            name: "a",
            units: 3,
            activation: "linear",
            kernel: [
              [1, -0.5, 2],
              [0.25, 1, -1],
              [-2, 0.5, 1],
            ],
            bias: [0.1, -0.2, 0],
          },
          { kind: "activation", name: name, activation: name, ...params },
          {
            name: "b",
            units: 2,
            activation: "linear",
            kernel: [
              [1, -1],
              [0.5, 2],
              [-1, 1],
            ],
            bias: [0, 0.5],
          },
        ],
      };
      const calibration = [
        [1, -1, 0.5],
        [-2, 1.5, 1],
        [0.3, 0.2, -1.8],
      ];
      const qnet = quantizeNetwork(net, { calibration, inputBits: 4, weightBits: 4, activationBits: 7 });
      expect(qnet.layers.some((l) => l.kind === "rescale" && l.activation === name)).toBe(true);
      // A package stores the network as JSON and parses it back strictly (the table included).
      expect(quantizedNetworkFromJson(quantizedNetworkToJson(qnet))).toEqual(qnet);
      const mc = await modelCommitment(qnet);
      const r1cs = parseR1cs(writeR1cs(buildModelCircuit({ network: qnet, modelCommitment: mc, track: true })));
      expect(r1cs.constraints.length, name).toBe(estimateConstraints(qnet));
      const byWire = constraintsByWire(r1cs);
      for (const input of [calibration[0], calibration[1], [2, 2, -2]].map((x) => quantizeInput(qnet, x))) {
        const w = buildModelCircuit({
          network: qnet,
          modelCommitment: mc,
          track: false,
          inputs: { input, inputSalt: 3n, outputSalt: 5n },
        }).witness();
        expect(checkR1cs(r1cs, w).ok, name).toBe(true);
        const ref = integerForward(qnet, input);
        expect(w.slice(4, 4 + ref.output.length)).toEqual(ref.output.map(toField));
        for (let i = 1; i < w.length; i++) {
          const forged = w.slice();
          forged[i] = toField((w[i] as bigint) + 1n);
          expect(violatedConstraints(r1cs, forged, byWire[i] ?? []).length, `${name}: wire ${i}`).toBeGreaterThan(0);
        }
      }
    }
  });

  it("refuses a network that ends in a smooth activation, and the circom backend, with UNSUPPORTED_LAYER", async () => {
    const net: Network = {
      inputShape: [2],
      inputSize: 2,
      layers: [
        { name: "a", units: 1, activation: "linear", kernel: [[1], [-1]], bias: [0] },
        // A sigmoid on one logit is a binary classifier's head (test/models/sigmoid-head.test.ts); a tanh is not.
        { kind: "activation", name: "p", activation: "tanh" },
      ],
    };
    const e = await errorOf(Promise.resolve().then(() => quantizeNetwork(net, { calibration: [[1, 0]] })));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    const { piecewise, outFracBits } = tablePiecewise({ name: "tanh", inFracBits: 2 });
    const qnet = quantizeNetwork(
      {
        ...net,
        layers: [
          { ...(net.layers[0] as Layer), units: 1 } as Layer,
          { kind: "activation", name: "t", activation: "relu" },
        ],
      },
      { calibration: [[1, 0]] },
    );
    const smooth = {
      ...qnet,
      layers: [
        qnet.layers[0] as QuantizedLayer,
        {
          kind: "rescale",
          name: "t",
          size: 1,
          multiplier: 1n,
          shift: 0,
          activation: "tanh",
          piecewise,
          qBits: [piecewise.window],
          outFracBits,
        } as QuantizedLayer,
      ],
    };
    const c = await errorOf(
      Promise.resolve().then(() => circuitSource({ network: smooth, modelCommitment: 1n, backend: "circom" })),
    );
    expect(isVerinferError(c, "UNSUPPORTED_LAYER")).toBe(true);
  });
});
