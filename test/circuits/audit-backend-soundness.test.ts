// Audit of the direct backend (issue 22), circuit soundness. Instead of single-wire mutations, an exhaustive
// solver (test/audit-backend-solver.ts) enumerates EVERY witness of a tiny circuit over the BN254 field with the
// private inputs fixed: a sound gadget has exactly one, whose public outputs are the integer semantics; an input
// outside its range has none. The solver is itself tested on circuits that are wrong on purpose.
import * as circomlibjs from "circomlibjs";
import { describe, expect, it } from "vitest";
import { commitValues } from "../../src/attest/commitments.js";
import { modelCommitment } from "../../src/attest/model-commitment.js";
import { buildModelCircuit } from "../../src/circuits/direct/build-model-circuit.js";
import { packedCommitmentGadget } from "../../src/circuits/direct/commitment-gadgets.js";
import { ConstraintSystem, type Lc } from "../../src/circuits/direct/constraint-system.js";
import {
  argmaxGadget,
  maxGadget,
  type RescaleUnit,
  rangeBits,
  rescaleGadget,
} from "../../src/circuits/direct/gadgets.js";
import { poseidonChainGadget, poseidonGadget } from "../../src/circuits/direct/poseidon-gadget.js";
import { writeR1cs } from "../../src/circuits/direct/write-r1cs.js";
import { LAYER_MODULES } from "../../src/layers/registry.js";
import { integerForward } from "../../src/models/integer-forward.js";
import { argmaxBits, argmaxForward } from "../../src/models/layers/argmax.js";
import { maxPoolBounds } from "../../src/models/layers/max-pool2d.js";
import {
  activationForward,
  type QuantizedRescale,
  rescaleQBounds,
  signedBits,
} from "../../src/models/layers/rescale.js";
import type { Network } from "../../src/models/network.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import type { QuantizedLayer, QuantizedNetwork } from "../../src/models/quantized-network.js";
import { FIELD_PRIME, toField } from "../../src/util/field.js";
import { publicVectors, solveAll } from "../audit-backend-solver.js";
import { checkR1cs, constraintsByWire, parseR1cs, type R1cs } from "../r1cs-check.js";

interface Gadget {
  r1cs: R1cs;
  witness: bigint[];
  /** The private inputs' wires with their values: what the solver holds fixed. */
  fixed: Map<number, bigint>;
}

/** A circuit of one gadget: private inputs `inputs` (values), the gadget's outputs public. */
function gadget(inputs: readonly bigint[], nOut: number, body: (cs: ConstraintSystem, ins: Lc[]) => Lc[]): Gadget {
  const cs = new ConstraintSystem({ track: true, nPublic: nOut });
  const ins = cs.privateInputs(inputs);
  for (const [i, o] of body(cs, ins).entries()) cs.setPublic(i, o);
  const r1cs = parseR1cs(writeR1cs(cs));
  const witness = cs.witness();
  const fixed = new Map(inputs.map((v, i) => [1 + nOut + i, toField(v)] as const));
  return { r1cs, witness, fixed };
}

/** The same circuit's R1CS (built from honest values) with other private input values held fixed. */
function withInputs(g: Gadget, values: readonly bigint[]): Map<number, bigint> {
  const first = 1 + g.r1cs.nOutputs;
  return new Map(values.map((v, i) => [first + i, toField(v)] as const));
}

/** Every witness of the gadget is the honest one. */
function expectUnique(g: Gadget, label: string): void {
  const s = solveAll(g.r1cs, g.fixed);
  expect(s.stuck, `${label}: wires the constraints leave free`).toBeUndefined();
  expect(s.witnesses.length, `${label}: number of witnesses`).toBe(1);
  expect(s.witnesses[0], label).toEqual(g.witness);
}

describe("audit: the exhaustive solver finds what it should (a checker that cannot fail is a defect)", () => {
  it("finds both witnesses of a product with an unpinned sign bit", () => {
    const g = gadget([5n], 1, (cs, [x]) => [cs.mul(x as Lc, cs.bit(1n))]);
    const s = solveAll(g.r1cs, g.fixed);
    expect(publicVectors(g.r1cs, s.witnesses).sort()).toEqual(["0", "5"]);
  });

  it("reports a wire that no constraint reads", () => {
    const g = gadget([5n], 1, (cs, [x]) => {
      cs.wire(7n);
      return [cs.mul(x as Lc, x as Lc)];
    });
    expect(solveAll(g.r1cs, g.fixed).stuck?.length).toBe(1);
  });

  it("finds the field-wrapping witness of a range check whose width reaches the field (no uniqueness past 2^253)", () => {
    // 0 <= x < 2^254 is no range check at all: x = 3 has the bits of 3 and the bits of 3 + p (< 2^254).
    const cs = new ConstraintSystem({ track: true, nPublic: 0 });
    const [x] = cs.privateInputs([3n]);
    const bits = Array.from({ length: 254 }, (_, i) => cs.bit(i < 2 ? 1n : 0n));
    cs.assertEqual(x as Lc, cs.lin(bits.map((b, i) => [b, 1n << BigInt(i)] as const)));
    const r1cs = parseR1cs(writeR1cs(cs));
    // Fixing the low bits as the second decomposition has them makes the search small: 3 + p.
    const wrap = 3n + FIELD_PRIME;
    const fixed = new Map<number, bigint>([[1, 3n]]);
    for (let i = 0; i < 250; i++) fixed.set(2 + i, (wrap >> BigInt(i)) & 1n);
    expect(solveAll(r1cs, fixed).witnesses.length).toBe(1);
  });
});

describe("audit: range checks", () => {
  it("0 <= x < 2^3: one witness for each x in range, none outside (8, p − 1, 2^253)", () => {
    for (let x = 0n; x < 8n; x++) {
      expectUnique(
        gadget([x], 0, (cs, [v]) => {
          rangeBits(cs, v as Lc, 3);
          return [];
        }),
        `x = ${x}`,
      );
    }
    const g = gadget([5n], 0, (cs, [v]) => {
      rangeBits(cs, v as Lc, 3);
      return [];
    });
    for (const x of [8n, FIELD_PRIME - 1n, 1n << 253n, -3n]) {
      expect(solveAll(g.r1cs, withInputs(g, [x])).witnesses.length, `x = ${x}`).toBe(0);
    }
  });
});

const ACTS: Array<Pick<RescaleUnit, "activation" | "leakShift" | "outFracBits">> = [
  { activation: "linear", outFracBits: 2 },
  { activation: "relu", outFracBits: 2 },
  { activation: "relu6", outFracBits: 0 }, // ceiling 6 < 2^(B−1) − 1 = 15: clamps
  { activation: "relu6", outFracBits: 4 }, // ceiling 96: never reached
  { activation: "leakyRelu", leakShift: 1, outFracBits: 2 },
  { activation: "leakyRelu", leakShift: 7, outFracBits: 2 }, // k > B − 1
];

describe("audit: rescale with every activation — exactly one witness, the integer semantics", () => {
  const B = 5;
  for (const act of ACTS) {
    for (const shift of [0, 2]) {
      const unit: RescaleUnit = { multiplier: 3n, shift, B, ...act };
      const label = `${act.activation}${act.leakShift ?? ""}@${act.outFracBits}, shift ${shift}`;
      it(label, () => {
        const half = 1n << BigInt(B - 1 + shift);
        const lo = -(half / 3n);
        const hi = (half - 1n) / 3n;
        const body = (cs: ConstraintSystem, [a]: Lc[]) => [rescaleGadget(cs, a as Lc, unit)];
        for (const acc of [lo, lo + 1n, -1n, 0n, 1n, 2n, 5n, hi - 1n, hi]) {
          const g = gadget([acc], 1, body);
          const q = (3n * acc) >> BigInt(shift);
          expect(g.witness[1]).toBe(toField(activationForward(unit, q)));
          expectUnique(g, `${label} acc ${acc}`);
        }
        // An accumulator whose quotient leaves the proven range has no witness at all (no wrap into range).
        const g = gadget([0n], 1, body);
        for (const acc of [lo - 1n, hi + 1n, FIELD_PRIME - 1n - hi]) {
          expect(solveAll(g.r1cs, withInputs(g, [acc])).witnesses.length, `${label} acc ${acc}`).toBe(0);
        }
      });
    }
  }
});

describe("audit: max and argmax", () => {
  it("the maximum of 2 to 4 values (ties, negatives, the range's edges) has exactly one witness", () => {
    const B = 4; // differences in [−8, 8)
    for (const w of [
      [3n, 3n],
      [-4n, 3n],
      [3n, -4n, 2n],
      [1n, 1n, 1n, 0n],
      [-4n, -4n, 3n, 3n],
      [0n, -3n, 2n, 2n],
    ]) {
      const g = gadget(w, 1, (cs, ins) => [maxGadget(cs, ins, B)]);
      expect(g.witness[1]).toBe(toField(w.reduce((m, v) => (v > m ? v : m))));
      expectUnique(g, `max(${w})`);
    }
    // A difference outside B bits: no witness (never a wrapped "maximum").
    const g = gadget([0n, 0n], 1, (cs, ins) => [maxGadget(cs, ins, B)]);
    expect(solveAll(g.r1cs, withInputs(g, [-4n, 4n])).witnesses.length).toBe(0);
  });

  it("argmax: exactly one witness, the lowest index among equal maxima", () => {
    const B = 5;
    for (const a of [
      [3n, 3n, 1n],
      [1n, 3n, 3n],
      [2n, 2n, 2n],
      [-7n, 7n, 7n, -8n],
      [0n, 0n],
      [5n, -2n],
    ]) {
      const g = gadget(a, 1, (cs, ins) => [argmaxGadget(cs, ins, B)]);
      expect(g.witness[1]).toBe(BigInt(argmaxForward(a)));
      expectUnique(g, `argmax(${a})`);
    }
  });
});

describe("audit: Poseidon written directly", () => {
  it("equals circomlibjs (wasm) and circomlibjs's reference Poseidon on full-width random inputs, widths 1..16", async () => {
    const wasm = await circomlibjs.buildPoseidon();
    // circomlibjs's reference implementation (its own, unoptimized constants file); absent from verinfer's typings.
    const ref = await (
      circomlibjs as unknown as { buildPoseidonReference(): ReturnType<typeof circomlibjs.buildPoseidon> }
    ).buildPoseidonReference();
    const rnd = () => {
      let v = 0n;
      for (let i = 0; i < 4; i++)
        v = (v << 64n) | BigInt.asUintN(64, BigInt(Math.floor(Math.random() * 2 ** 53)) << 11n);
      return v % FIELD_PRIME;
    };
    for (let n = 1; n <= 16; n++) {
      const xs = Array.from({ length: n }, (_, i) => (i === 0 ? FIELD_PRIME - 1n : i === 1 ? 0n : rnd()));
      const g = gadget(xs, 1, (cs, ins) => [poseidonGadget(cs, ins)]);
      expect(g.witness[1], `n = ${n}`).toBe(wasm.F.toObject(wasm(xs)));
      expect(g.witness[1], `n = ${n}`).toBe(ref.F.toObject(ref(xs)));
      expect(checkR1cs(g.r1cs, g.witness).ok).toBe(true);
    }
  });

  it("every S-box wire is pinned: one witness for 1, 2 and 5 inputs, and for a chain over 17 elements", () => {
    for (const n of [1, 2, 5]) {
      const xs = Array.from({ length: n }, (_, i) => BigInt(i) * 0x1234567n + FIELD_PRIME - 5n);
      expectUnique(
        gadget(xs, 1, (cs, ins) => [poseidonGadget(cs, ins)]),
        `Poseidon(${n})`,
      );
    }
    const xs = Array.from({ length: 17 }, (_, i) => BigInt(i + 1));
    expectUnique(
      gadget(xs, 1, (cs, ins) => [poseidonChainGadget(cs, ins)]),
      "chain of 17",
    );
  });

  it("a packed commitment over range-checked values has one witness, equal to commitValues", async () => {
    const values = [3n, -2n, 0n, 7n, -8n];
    const lo = -8n;
    const width = 4;
    const g = gadget([...values.map((v) => v - lo), 99n], 1, (cs, ins) => {
      const vs = ins.slice(0, values.length);
      for (const v of vs) rangeBits(cs, v, width);
      return [packedCommitmentGadget(cs, { values: vs, width, lo, salt: ins[values.length] as Lc })];
    });
    expect(g.witness[1]).toBe(await commitValues({ values, lo, width, salt: 99n }));
    expectUnique(g, "packed commitment");
  });
});

/** conv 1×1 (relu) → 2×2 max pooling → flatten → dense 3 → standalone leakyRelu → softmax head. */
const TINY: Network = {
  inputShape: [2, 2, 1],
  inputSize: 4,
  layers: [
    {
      kind: "conv2d",
      name: "conv",
      filters: 2,
      kernelSize: [1, 1],
      strides: [1, 1],
      padding: "valid",
      activation: "relu",
      kernel: [[[[0.9, -0.6]]]],
      bias: [0.1, 0.3],
    },
    { kind: "maxPool2d", name: "max", poolSize: [2, 2], strides: [2, 2], padding: "valid" },
    { kind: "reshape", name: "flatten", shape: [2] },
    {
      name: "logits",
      units: 3,
      activation: "linear",
      kernel: [
        [0.5, -0.7, 0.2],
        [-0.4, 0.6, 0.8],
      ],
      bias: [0.05, -0.1, 0],
    },
    { kind: "activation", name: "leaky", activation: "leakyRelu", alpha: 0.5 },
  ],
  head: "softmax",
};

describe("audit: a whole tiny network circuit (commitments, conv, max pooling, dense, leakyRelu, argmax)", () => {
  it("has exactly one witness per input, its public signals in circom's order and meaning; none for inputs out of range", async () => {
    const qnet: QuantizedNetwork = quantizeNetwork(TINY, {
      calibration: [
        [0, 0.5, 1, 0.25],
        [1, 0.2, 0, 0.7],
      ],
      inputBits: 2,
      weightBits: 3,
      activationBits: 4,
    });
    const mc = await modelCommitment(qnet);
    const cs = buildModelCircuit({ network: qnet, modelCommitment: mc, track: true });
    const r1cs = parseR1cs(writeR1cs(cs));
    const nOut = integerForward(qnet, Array(4).fill(qnet.input.lo)).output.length;
    expect(r1cs.nOutputs).toBe(3 + nOut + 1);
    expect(r1cs.nPrvInputs).toBe(qnet.inputSize + 2);
    // Every wire and every public signal is read by some constraint.
    const byWire = constraintsByWire(r1cs);
    expect(byWire.flatMap((cs, w) => (w > 0 && cs.length === 0 ? [w] : []))).toEqual([]);

    const first = 1 + r1cs.nOutputs;
    const salts = { inputSalt: 1234567n, outputSalt: 7654321n };
    const span = 1n << BigInt(qnet.input.bits);
    for (const seed of [0n, 5n]) {
      const input = Array.from({ length: 4 }, (_, i) => qnet.input.lo + ((seed + 3n * BigInt(i)) % span));
      const w = buildModelCircuit({
        network: qnet,
        modelCommitment: mc,
        track: false,
        inputs: { input, ...salts },
      }).witness();
      const ref = integerForward(qnet, input);
      const half = 1n << BigInt(qnet.outputWidth - 1);
      expect(w.slice(1, first)).toEqual([
        mc,
        await commitValues({ values: input, lo: qnet.input.lo, width: qnet.input.bits, salt: salts.inputSalt }),
        await commitValues({ values: ref.output, lo: -half, width: qnet.outputWidth, salt: salts.outputSalt }),
        ...ref.output.map(toField),
        BigInt(ref.class as number),
      ]);
      const fixed = new Map<number, bigint>([
        ...input.map((v, i) => [first + i, v - qnet.input.lo] as const),
        [first + 4, salts.inputSalt],
        [first + 5, salts.outputSalt],
      ]);
      const s = solveAll(r1cs, fixed);
      expect(s.stuck).toBeUndefined();
      expect(s.witnesses.length, `input ${input}`).toBe(1);
      expect(s.witnesses[0]).toEqual(w);
      // The model commitment is a constant of the circuit: a witness stating another one fails.
      const forged = w.slice();
      forged[1] = mc + 1n;
      expect(checkR1cs(r1cs, forged).ok).toBe(false);
    }
    // A private input outside [lo, hi] (shifted: outside [0, 2^bits)) has no witness at all.
    for (const bad of [span, FIELD_PRIME - 1n]) {
      const fixed = new Map<number, bigint>([
        [first, bad],
        [first + 1, 0n],
        [first + 2, 1n],
        [first + 3, 2n],
        [first + 4, 1n],
        [first + 5, 2n],
      ]);
      expect(solveAll(r1cs, fixed).witnesses.length, `shifted input ${bad}`).toBe(0);
    }
  }, 300_000);
});

/** Every witness of a network's circuit, for each input: exactly one, the honest one, in circom's signal order. */
async function expectNetworkSound(qnet: QuantizedNetwork, inputs: bigint[][], label: string): Promise<void> {
  const mc = await modelCommitment(qnet);
  const r1cs = parseR1cs(writeR1cs(buildModelCircuit({ network: qnet, modelCommitment: mc, track: true })));
  const byWire = constraintsByWire(r1cs);
  expect(
    byWire.flatMap((c, w) => (w > 0 && c.length === 0 ? [w] : [])),
    `${label}: wires in no constraint`,
  ).toEqual([]);
  const first = 1 + r1cs.nOutputs;
  const salts = { inputSalt: 42n, outputSalt: 43n };
  for (const input of inputs) {
    const w = buildModelCircuit({
      network: qnet,
      modelCommitment: mc,
      track: false,
      inputs: { input, ...salts },
    }).witness();
    const ref = integerForward(qnet, input);
    const half = 1n << BigInt(qnet.outputWidth - 1);
    expect(w.slice(1, first), `${label} ${input}`).toEqual([
      mc,
      await commitValues({ values: input, lo: qnet.input.lo, width: qnet.input.bits, salt: salts.inputSalt }),
      await commitValues({ values: ref.output, lo: -half, width: qnet.outputWidth, salt: salts.outputSalt }),
      ...ref.output.map(toField),
      ...(qnet.head ? [BigInt(ref.class as number)] : []),
    ]);
    const fixed = new Map<number, bigint>([
      ...input.map((v, i) => [first + i, v - qnet.input.lo] as const),
      [first + input.length, salts.inputSalt],
      [first + input.length + 1, salts.outputSalt],
    ]);
    const s = solveAll(r1cs, fixed);
    expect(s.stuck, `${label} ${input}: free wires`).toBeUndefined();
    expect(s.witnesses.length, `${label} ${input}: witnesses`).toBe(1);
    expect(s.witnesses[0], `${label} ${input}`).toEqual(w);
  }
}

/**
 * A hand-made network: dense (integer weights) → one rescale → optional max pooling over pairs → optional argmax
 * head, with every width (qBits, diffBits, head bits) the tightest the modules' interval analysis allows.
 */
function handNetwork(p: {
  inputBits: number;
  lo: bigint;
  weights: bigint[][];
  bias: bigint[];
  rescale: Pick<QuantizedRescale, "multiplier" | "shift" | "activation" | "leakShift" | "outFracBits">;
  maxPairs?: boolean;
  head?: boolean;
}): QuantizedNetwork {
  const nIn = (p.weights[0] as bigint[]).length;
  const nOut = p.weights.length;
  const input = { bits: p.inputBits, fracBits: 0, lo: p.lo, hi: p.lo + (1n << BigInt(p.inputBits)) - 1n };
  const dense: QuantizedLayer = {
    kind: "dense",
    name: "d",
    nIn,
    nOut,
    weightBits: 4,
    weightFracBits: 0,
    inFracBits: 0,
    weights: p.weights,
    bias: p.bias,
  };
  const inB = { lo: Array(nIn).fill(input.lo), hi: Array(nIn).fill(input.hi) };
  const acc = LAYER_MODULES.dense.bounds(dense as never, inB);
  const q = rescaleQBounds(p.rescale.multiplier, p.rescale.shift, acc.lo, acc.hi);
  const rescale: QuantizedRescale = {
    kind: "rescale",
    name: "r",
    size: nOut,
    ...p.rescale,
    qBits: q.lo.map((l, j) => signedBits(l, q.hi[j] as bigint)),
  };
  if (rescale.leakShift === undefined) delete rescale.leakShift;
  let out = LAYER_MODULES.rescale.bounds(rescale, acc);
  const layers: QuantizedLayer[] = [dense, rescale];
  if (p.maxPairs) {
    const shape = {
      inShape: [1, nOut, 1] as [number, number, number],
      outShape: [1, nOut / 2, 1] as [number, number, number],
      poolSize: [1, 2] as [number, number],
      strides: [1, 2] as [number, number],
    };
    const mp = maxPoolBounds(shape, out.lo, out.hi);
    layers.push({ kind: "maxPool2d", name: "m", ...shape, diffBits: mp.diffBits });
    out = { ...mp, peak: 0n };
  }
  return {
    inputShape: [nIn],
    inputSize: nIn,
    input,
    layers,
    outputShape: [out.lo.length],
    outputFracBits: p.rescale.outFracBits,
    outputWidth: Math.max(...rescale.qBits),
    ...(p.head ? { head: { kind: "argmax" as const, bits: argmaxBits(out.lo, out.hi) } } : {}),
  };
}

describe("audit: hand-made networks whose outputs come from every kind of last gadget", () => {
  it("relu6 (clamping) then max pooling as the outputs, with a head: one witness per input", async () => {
    const qnet = handNetwork({
      inputBits: 2,
      lo: -2n,
      weights: [
        [3n, -2n, 1n, 4n],
        [-3n, 2n, 2n, 1n],
        [1n, 1n, 1n, 1n],
        [4n, 3n, -1n, -4n],
      ],
      bias: [1n, 0n, 2n, -1n],
      rescale: { multiplier: 1n, shift: 1, activation: "relu6", outFracBits: 0 },
      maxPairs: true,
      head: true,
    });
    const r = qnet.layers[1] as QuantizedRescale;
    expect(6n < (1n << BigInt(Math.max(...r.qBits) - 1)) - 1n).toBe(true); // the clamp is in the circuit
    await expectNetworkSound(
      qnet,
      [
        [-2n, -2n, -2n, -2n],
        [1n, 1n, 1n, 1n],
        [1n, -2n, 0n, 1n],
        [-1n, 1n, -2n, 0n],
      ],
      "relu6+max",
    );
  }, 300_000);

  it("a linear rescale (shift 2, multiplier 3: the quotient wire is the output) with a head", async () => {
    const qnet = handNetwork({
      inputBits: 2,
      lo: 0n,
      weights: [
        [3n, -2n, 1n],
        [-1n, 2n, 2n],
      ],
      bias: [1n, -3n],
      rescale: { multiplier: 3n, shift: 2, activation: "linear", outFracBits: 0 },
      head: true,
    });
    await expectNetworkSound(
      qnet,
      [
        [0n, 0n, 0n],
        [3n, 3n, 3n],
        [2n, 0n, 1n],
        [0n, 3n, 1n],
      ],
      "linear",
    );
  }, 300_000);

  it("leakyRelu outputs, no head; and one relu6 output with a head (its constant class 0)", async () => {
    const leaky = handNetwork({
      inputBits: 3,
      lo: -4n,
      weights: [
        [2n, -1n],
        [-2n, 3n],
      ],
      bias: [0n, 1n],
      rescale: { multiplier: 1n, shift: 1, activation: "leakyRelu", leakShift: 1, outFracBits: 0 },
    });
    await expectNetworkSound(
      leaky,
      [
        [-4n, -4n],
        [3n, -4n],
        [-4n, 3n],
        [0n, 1n],
      ],
      "leaky",
    );
    const one = handNetwork({
      inputBits: 2,
      lo: -2n,
      weights: [[4n, 3n]],
      bias: [2n],
      rescale: { multiplier: 1n, shift: 0, activation: "relu6", outFracBits: 0 },
      head: true,
    });
    await expectNetworkSound(
      one,
      [
        [-2n, -2n],
        [1n, 1n],
        [1n, -1n],
      ],
      "one output",
    );
  }, 300_000);
});
