// Review of issue 21's kinds in the direct backend, as an attacker: a network must have one spelling per model
// commitment, every gadget of the new kinds (embedding lookups, gating products, merges, smooth activations,
// padded pools) must have exactly one witness per input — the integer semantics — and the integer reference must
// agree with the circuit at the extremes of the input range.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { commitValues } from "../../src/attest/commitments.js";
import { modelCommitment, modelIdFromCommitment } from "../../src/attest/model-commitment.js";
import { buildModelCircuit } from "../../src/circuits/direct/build-model-circuit.js";
import { ConstraintSystem, type Lc } from "../../src/circuits/direct/constraint-system.js";
import { type RescaleUnit, rescaleGadget } from "../../src/circuits/direct/gadgets.js";
import { directWitnessOfModel, writeWitnessProgram } from "../../src/circuits/direct/witness-program.js";
import { writeR1cs } from "../../src/circuits/direct/write-r1cs.js";
import { isVerinferError } from "../../src/errors.js";
import { addModule } from "../../src/layers/add.js";
import { concatModule } from "../../src/layers/concat.js";
import { embeddingModule } from "../../src/layers/embedding.js";
import { maxPool2dModule } from "../../src/layers/max-pool2d.js";
import { mulModule } from "../../src/layers/mul.js";
import { moduleOf } from "../../src/layers/registry.js";
import { integerForward } from "../../src/models/integer-forward.js";
import { embeddingForward } from "../../src/models/layers/embedding.js";
import { maxPoolForward, type QuantizedMaxPool2d } from "../../src/models/layers/max-pool2d.js";
import { mulForward } from "../../src/models/layers/mul.js";
import {
  piecewiseBounds,
  piecewiseForward,
  SMOOTH_ACTIVATIONS,
  tablePiecewise,
} from "../../src/models/layers/piecewise.js";
import type { Network } from "../../src/models/network.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import {
  type QuantizedLayer,
  type QuantizedNetwork,
  QuantizedNetworkSchema,
  quantizedNetworkFromJson,
  quantizedNetworkToJson,
} from "../../src/models/quantized-network.js";
import { FIELD_PRIME, toField } from "../../src/util/field.js";
import { solveAll } from "../audit-backend-solver.js";
import { checkR1cs, parseR1cs, type R1cs } from "../r1cs-check.js";

/** What a function threw (the test fails when it returns). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

/** 2 → dense → sigmoid → dense → linear: a network with a smooth activation inside it. */
function smoothNetwork(): QuantizedNetwork {
  const net: Network = {
    inputShape: [2],
    inputSize: 2,
    layers: [
      {
        name: "a",
        units: 2,
        activation: "linear",
        kernel: [
          [1, 0.5],
          [-1, 2],
        ],
        bias: [0, 0.1],
      },
      { kind: "activation", name: "s", activation: "sigmoid" },
      { name: "b", units: 1, activation: "linear", kernel: [[1], [-1]], bias: [0] },
    ],
  };
  return quantizeNetwork(net, {
    calibration: [
      [1, 0],
      [-1, 1],
    ],
    inputBits: 3,
    weightBits: 4,
    activationBits: 5,
  });
}

describe("model commitment: one spelling per network", () => {
  it("refuses an input offset outside [-2^127, 2^127): lo and lo + p would share a model id", async () => {
    const net = smoothNetwork();
    const far: QuantizedNetwork = {
      ...net,
      input: { ...net.input, lo: net.input.lo + FIELD_PRIME, hi: net.input.hi + FIELD_PRIME },
    };
    // The attack: the offset is hashed as a field element, so both spellings commit alike.
    const e1 = thrown(() => quantizedNetworkFromJson(quantizedNetworkToJson(far)));
    expect(e1).toBeInstanceOf(Error);
    const e2 = await modelCommitment(far).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isVerinferError(e2, "INVALID_MODEL")).toBe(true);
    expect(await modelCommitment(net)).toBeTypeOf("bigint");
  });

  it("refuses a network whose outputs are a smooth activation's: its output packing would not be binding", async () => {
    const full = smoothNetwork();
    // The network cut after its sigmoid: schema-shaped (outputs from a rescale, width its qBits), but a sigmoid's
    // outputs are table values at another scale, far outside the qBits the output packing relies on.
    const sig = full.layers[1];
    if (sig?.kind !== "rescale" || !sig.piecewise) throw new Error("expected the sigmoid rescale");
    const cut: QuantizedNetwork = {
      ...full,
      layers: full.layers.slice(0, 2),
      outputShape: [2],
      outputFracBits: sig.outFracBits,
      outputWidth: Math.max(...sig.qBits),
    };
    // The attack this refusal prevents: the circuit's output commitment opens to an in-range vector that is not
    // the proven output (a value past its slot carries into the next one).
    const mc = await modelCommitment(full);
    const half = 1n << BigInt(cut.outputWidth - 1);
    const slot = 1n << BigInt(cut.outputWidth);
    let shown = false;
    for (let a = full.input.lo; a <= full.input.hi && !shown; a++) {
      for (let b = full.input.lo; b <= full.input.hi && !shown; b++) {
        const w = buildModelCircuit({
          network: cut,
          modelCommitment: mc,
          track: false,
          checked: true,
          inputs: { input: [a, b], inputSalt: 3n, outputSalt: 5n },
        }).witness();
        const out = w.slice(4, 6) as [bigint, bigint];
        // Both outputs in one packed element: P = (y0 + half) + (y1 + half)·2^width.
        const packed = out[0] + half + (out[1] + half) * slot;
        const forged = [(packed % slot) - half, packed / slot - half];
        if (out[0] + half < slot || forged.some((v) => v < -half || v >= half)) continue;
        expect(await commitValues({ values: forged, lo: -half, width: cut.outputWidth, salt: 5n })).toBe(w[3]);
        expect(forged).not.toEqual(out);
        shown = true;
      }
    }
    expect(shown).toBe(true);
    // Refused at the boundary (a package's network, a witness program's) and by the backend.
    expect(thrown(() => quantizedNetworkFromJson(quantizedNetworkToJson(cut)))).toBeInstanceOf(Error);
    const e = thrown(() => buildModelCircuit({ network: cut, modelCommitment: mc, track: true }));
    expect(isVerinferError(e, "INVALID_MODEL")).toBe(true);
  });
});

describe("weights the commitment cannot pack are refused at the boundary", () => {
  it("a dense or conv weight outside its weightBits signed bits: INVALID_MODEL, not an untyped RangeError", async () => {
    const net = smoothNetwork();
    const dense = net.layers[0];
    if (dense?.kind !== "dense") throw new Error("expected a dense layer first");
    const half = 1n << BigInt(dense.weightBits - 1);
    for (const w of [half, -half - 1n]) {
      const bad: QuantizedNetwork = {
        ...net,
        layers: [{ ...dense, weights: [[w, 0n], ...dense.weights.slice(1)] }, ...net.layers.slice(1)],
      };
      expect(thrown(() => quantizedNetworkFromJson(quantizedNetworkToJson(bad)))).toBeInstanceOf(Error);
      const e = thrown(() => buildModelCircuit({ network: bad, modelCommitment: 1n, track: true }));
      expect(isVerinferError(e, "INVALID_MODEL"), String(e)).toBe(true);
    }
    const conv: QuantizedNetwork = {
      inputShape: [2, 2, 1],
      inputSize: 4,
      input: { bits: 3, fracBits: 0, lo: -4n, hi: 3n },
      layers: [
        {
          kind: "conv2d",
          name: "c",
          inShape: [2, 2, 1],
          outShape: [1, 1, 1],
          kernelSize: [2, 2],
          strides: [1, 1],
          padding: [0, 0],
          weightBits: 3,
          weightFracBits: 0,
          inFracBits: 0,
          weights: [[1n, 2n, 3n, 4n]],
          bias: [0n],
        },
        {
          kind: "rescale",
          name: "r",
          size: 1,
          multiplier: 1n,
          shift: 0,
          activation: "linear",
          qBits: [8],
          outFracBits: 0,
        },
      ],
      outputShape: [1],
      outputFracBits: 0,
      outputWidth: 8,
    };
    expect(() => buildModelCircuit({ network: conv, modelCommitment: 1n, track: true })).toThrow(
      expect.objectContaining({ code: "INVALID_MODEL" }),
    );
  });
});

interface Gadget {
  r1cs: R1cs;
  witness: bigint[];
  /** The private inputs' wires with their values: what the solver holds fixed. */
  fixed: Map<number, bigint>;
}

/** A circuit of one gadget: private inputs `inputs`, the gadget's outputs public. */
function gadget(inputs: readonly bigint[], body: (cs: ConstraintSystem, ins: Lc[]) => Lc[]): Gadget {
  const probe = new ConstraintSystem({ track: false, nPublic: 0 });
  const nOut = body(probe, probe.privateInputs(inputs)).length;
  const cs = new ConstraintSystem({ track: true, nPublic: nOut });
  const ins = cs.privateInputs(inputs);
  for (const [i, o] of body(cs, ins).entries()) cs.setPublic(i, o);
  const r1cs = parseR1cs(writeR1cs(cs));
  return { r1cs, witness: cs.witness(), fixed: new Map(inputs.map((v, i) => [1 + nOut + i, toField(v)] as const)) };
}

/** The same circuit with other private input values held fixed. */
function withInputs(g: Gadget, values: readonly bigint[]): Map<number, bigint> {
  const first = 1 + g.r1cs.nOutputs;
  return new Map(values.map((v, i) => [first + i, toField(v)] as const));
}

/** Every witness of the gadget (over the whole field, inputs fixed) is the honest one. */
function expectUnique(g: Gadget, label: string): void {
  const s = solveAll(g.r1cs, g.fixed);
  expect(s.stuck, `${label}: wires the constraints leave free`).toBeUndefined();
  expect(s.witnesses.length, `${label}: number of witnesses`).toBe(1);
  expect(s.witnesses[0], label).toEqual(g.witness);
}

describe("every witness of the new kinds' gadgets is the integer semantics (exhaustive solver)", () => {
  it("embedding: one witness per in-vocabulary id pair, none for an id past the vocabulary or negative", () => {
    const layer = embeddingModule.sample();
    const body = (cs: ConstraintSystem, ins: Lc[]) => embeddingModule.emit(cs, layer, ins);
    for (let a = 0n; a < BigInt(layer.vocab); a++) {
      for (let b = 0n; b < BigInt(layer.vocab); b++) {
        const g = gadget([a, b], body);
        expect(g.witness.slice(1, 1 + g.r1cs.nOutputs)).toEqual(embeddingForward(layer, [a, b]).map(toField));
        expectUnique(g, `ids ${a}, ${b}`);
      }
    }
    const g = gadget([0n, 0n], body);
    for (const id of [BigInt(layer.vocab), BigInt(layer.vocab) + 1n, -1n, FIELD_PRIME - 1n, 1n << 200n]) {
      expect(solveAll(g.r1cs, withInputs(g, [id, 0n])).witnesses.length, `id ${id}`).toBe(0);
    }
  });

  it("embedding of a one-word vocabulary: the id is pinned to 0", () => {
    const layer = { ...embeddingModule.sample(), vocab: 1, table: [[3n, -1n]] };
    const body = (cs: ConstraintSystem, ins: Lc[]) => embeddingModule.emit(cs, layer, ins);
    const g = gadget([0n, 0n], body);
    expectUnique(g, "id 0");
    expect(solveAll(g.r1cs, withInputs(g, [1n, 0n])).witnesses.length).toBe(0);
  });

  it("gating product, residual add with shifts, concat: one witness each", () => {
    const mul = { ...mulModule.sample(), size: 2 };
    const add = addModule.sample();
    const cat = concatModule.sample();
    for (const v of [
      [0n, -7n, 5n, 3n],
      [-8n, 7n, -8n, -1n],
      [1n, 1n, 0n, 0n],
    ]) {
      const g = gadget(v, (cs, ins) => mulModule.emit(cs, mul, ins));
      expect(g.witness.slice(1, 3)).toEqual(mulForward(mul, v).map(toField));
      expectUnique(g, `mul ${v}`);
      const h = gadget(v, (cs, ins) => addModule.emit(cs, add, ins).map((o) => cs.mul(o, cs.one)));
      expectUnique(h, `add ${v}`);
    }
    const c = gadget([1n, 2n, 3n, 4n, 5n, 6n], (cs, ins) => concatModule.emit(cs, cat, ins));
    expect(c.witness.slice(1, 7)).toEqual(concatModule.forward(cat, [1n, 2n, 3n, 4n, 5n, 6n]).map(toField));
    expectUnique(c, "concat");
  });

  for (const name of SMOOTH_ACTIVATIONS) {
    it(`${name}: one witness at the saturated tails, the window's edges and inside; none past the range`, () => {
      const { piecewise, outFracBits } = tablePiecewise({ name, inFracBits: 0 });
      const B = piecewise.window + 2;
      const unit: RescaleUnit = { multiplier: 1n, shift: 1, B, activation: name, piecewise, outFracBits };
      const body = (cs: ConstraintSystem, [a]: Lc[]) => [rescaleGadget(cs, a as Lc, unit)];
      const qHalf = 1n << BigInt(piecewise.window - 1);
      const bHalf = 1n << BigInt(B - 1);
      for (const q of [-bHalf, -qHalf - 1n, -qHalf, -1n, 0n, 1n, qHalf - 1n, qHalf, bHalf - 1n]) {
        const acc = 2n * q + (q & 1n);
        const g = gadget([acc], body);
        expect(g.witness[1]).toBe(toField(piecewiseForward(piecewise, acc >> 1n)));
        expectUnique(g, `${name} acc ${acc}`);
      }
      const g = gadget([0n], body);
      for (const acc of [-2n * bHalf - 1n, 2n * bHalf, FIELD_PRIME - 1n - 2n * bHalf]) {
        expect(solveAll(g.r1cs, withInputs(g, [acc])).witnesses.length, `${name} acc ${acc}`).toBe(0);
      }
    });
  }

  it("relu6 at coarse output scales (ceiling 6 >> k: 3, 1, 0): one witness, the clamp", () => {
    for (const outFracBits of [-1, -2, -3]) {
      const unit: RescaleUnit = { multiplier: 1n, shift: 1, B: 4, activation: "relu6", outFracBits };
      const C = 6n >> BigInt(-outFracBits);
      for (const acc of [-16n, -1n, 0n, 1n, 2n, 5n, 7n, 15n]) {
        const g = gadget([acc], (cs, [a]) => [rescaleGadget(cs, a as Lc, unit)]);
        const q = acc >> 1n;
        expect(g.witness[1]).toBe(toField(q < 0n ? 0n : q > C ? C : q));
        expectUnique(g, `relu6 ceiling ${C}, acc ${acc}`);
      }
    }
  });

  it("padded max pooling (windows cut by the padding): one witness, the maximum over the real positions only", () => {
    const layer: QuantizedMaxPool2d = {
      kind: "maxPool2d",
      name: "m",
      inShape: [2, 3, 1],
      outShape: [2, 2, 1],
      poolSize: [2, 2],
      strides: [1, 2],
      padding: [1, 1],
      diffBits: 5,
    };
    for (const v of [
      [-8n, -8n, -8n, -8n, -8n, -8n],
      [-3n, 7n, -8n, 0n, 2n, 7n],
      [5n, -1n, -2n, -6n, 4n, 4n],
    ]) {
      const g = gadget(v, (cs, ins) => maxPool2dModule.emit(cs, layer, ins));
      expect(g.witness.slice(1, 5)).toEqual(maxPoolForward(layer, v).map(toField));
      expectUnique(g, `max pool ${v}`);
    }
  });
});

/** Deterministic pseudo-random weights in [-1, 1]. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  };
}

const kernel = (kh: number, kw: number, c: number, f: number, r: () => number) =>
  Array.from({ length: kh }, () =>
    Array.from({ length: kw }, () => Array.from({ length: c }, () => Array.from({ length: f }, r))),
  );
const matrix = (n: number, m: number, r: () => number) => Array.from({ length: n }, () => Array.from({ length: m }, r));

/**
 * Every issue-21 kind on one wiring: a padded conv with GELU, a padded stride-2 max pooling, a strided branch from the
 * input, a residual add, SiLU, a padded average pooling that does not count its padding, a concat, a tanh-gated
 * product, a softmax head.
 */
function everythingNetwork(): Network {
  const r = rng(11);
  return {
    inputShape: [4, 4, 1],
    inputSize: 16,
    layers: [
      {
        kind: "conv2d",
        name: "a",
        filters: 2,
        kernelSize: [3, 3],
        strides: [1, 1],
        padding: "same",
        activation: "linear",
        kernel: kernel(3, 3, 1, 2, r),
        bias: [0.1, -0.1],
      }, // 1: [4,4,2]
      { kind: "activation", name: "gelu", activation: "gelu" }, // 2
      { kind: "maxPool2d", name: "mp", poolSize: [3, 3], strides: [2, 2], padding: "same" }, // 3: [2,2,2]
      {
        kind: "conv2d",
        name: "b",
        filters: 2,
        kernelSize: [2, 2],
        strides: [2, 2],
        padding: "valid",
        activation: "linear",
        kernel: kernel(2, 2, 1, 2, r),
        bias: [0, 0.2],
        inputs: [0],
      }, // 4: [2,2,2]
      { kind: "add", name: "res", inputs: [3, 4] }, // 5
      { kind: "activation", name: "silu", activation: "swish" }, // 6
      { kind: "avgPool2d", name: "ap", poolSize: [2, 2], strides: [1, 1], padding: "same" }, // 7: [2,2,2]
      { kind: "concat", name: "cat", inputs: [7, 4] }, // 8: [2,2,4]
      { kind: "reshape", name: "flat", shape: [16] }, // 9
      { name: "v", units: 3, activation: "linear", kernel: matrix(16, 3, r), bias: [0, 0.1, -0.1] }, // 10
      { name: "g", units: 3, activation: "linear", kernel: matrix(16, 3, r), bias: [0.2, 0, 0], inputs: [9] }, // 11
      { kind: "activation", name: "tanh", activation: "tanh" }, // 12
      { kind: "mul", name: "gate", inputs: [10, 12] }, // 13
      { name: "out", units: 2, activation: "linear", kernel: matrix(3, 2, r), bias: [0, 0] }, // 14
    ],
    head: "softmax",
  };
}

describe("public outputs that are one value twice", () => {
  it("a padded max pooling whose two windows hold the same one position: both outputs pinned, one witness", () => {
    const pool: QuantizedMaxPool2d = {
      kind: "maxPool2d",
      name: "m",
      inShape: [1, 1, 1],
      outShape: [1, 2, 1],
      poolSize: [1, 2],
      strides: [1, 1],
      padding: [0, 1],
      diffBits: 4,
    };
    expect(maxPoolForward(pool, [5n])).toEqual([5n, 5n]);
    const unit: RescaleUnit = { multiplier: 1n, shift: 1, B: 5, activation: "relu", outFracBits: 0 };
    for (const acc of [-7n, 0n, 11n]) {
      const g = gadget([acc], (cs, [a]) => maxPool2dModule.emit(cs, pool, [rescaleGadget(cs, a as Lc, unit)]));
      expect(g.witness.slice(1, 3)).toEqual(maxPoolForward(pool, [acc < 0n ? 0n : acc >> 1n]));
      expectUnique(g, `acc ${acc}`);
    }
  });
});

describe("integerForward and the circuit agree at the extremes of the input range (fast-check)", () => {
  it("a network of every new kind: the witness of every input satisfies the R1CS, its outputs integerForward's", async () => {
    const float = everythingNetwork();
    const r = rng(5);
    const calibration = Array.from({ length: 6 }, () => Array.from({ length: 16 }, () => (r() + 1) / 2));
    const qnet = quantizeNetwork(float, { calibration, inputBits: 4, weightBits: 5, activationBits: 8 });
    const kinds = new Set(qnet.layers.map((l) => (l.kind === "rescale" ? l.activation : l.kind)));
    for (const k of ["gelu", "swish", "tanh", "maxPool2d", "sumPool2d", "add", "concat", "mul"]) {
      expect(kinds.has(k as never), k).toBe(true);
    }
    expect(qnet.layers.some((l) => (l.kind === "maxPool2d" || l.kind === "sumPool2d") && l.padding)).toBe(true);
    const mc = await modelCommitment(qnet);
    const r1cs = parseR1cs(writeR1cs(buildModelCircuit({ network: qnet, modelCommitment: mc, track: true })));
    const { lo, hi } = qnet.input;
    const value = fc.oneof(fc.constantFrom(lo, hi, lo + 1n, hi - 1n, 0n), fc.bigInt({ min: lo, max: hi }));
    const witnessOf = (input: bigint[]) =>
      buildModelCircuit({
        network: qnet,
        modelCommitment: mc,
        track: false,
        checked: true,
        inputs: { input, inputSalt: 1n, outputSalt: 2n },
      }).witness();
    const check = (input: bigint[]) => {
      const w = witnessOf(input);
      expect(checkR1cs(r1cs, w).ok).toBe(true);
      const ref = integerForward(qnet, input);
      expect(w.slice(4, 4 + ref.output.length + 1)).toEqual([...ref.output.map(toField), BigInt(ref.class ?? -1)]);
    };
    // The corners first (every input at lo, at hi, alternating), then random mixes of extremes.
    check(new Array<bigint>(16).fill(lo));
    check(new Array<bigint>(16).fill(hi));
    check(Array.from({ length: 16 }, (_, i) => (i % 2 ? hi : lo)));
    fc.assert(fc.property(fc.array(value, { minLength: 16, maxLength: 16 }), check), { numRuns: 40, seed: 21 });
  });
});

describe("a witness program is bound to its model's wiring", () => {
  it("a program of the same graph with a merge's inputs swapped is refused under the first one's id (ARTIFACT_CORRUPT)", async () => {
    const r = rng(5);
    const calibration = Array.from({ length: 4 }, () => Array.from({ length: 16 }, () => (r() + 1) / 2));
    const a = quantizeNetwork(everythingNetwork(), { calibration, inputBits: 4, weightBits: 5, activationBits: 8 });
    const at = a.layers.findIndex((l) => l.kind === "concat");
    const cat = a.layers[at];
    if (cat?.kind !== "concat" || !cat.inputs || cat.parts[0] !== cat.parts[1])
      throw new Error("expected a square concat");
    const b: QuantizedNetwork = {
      ...a,
      layers: a.layers.map((l, i) => (i === at ? { ...cat, inputs: [...(cat.inputs as number[])].reverse() } : l)),
    };
    const [ca, cb] = [await modelCommitment(a), await modelCommitment(b)];
    expect(ca).not.toBe(cb);
    const idA = modelIdFromCommitment(ca);
    for (const program of [
      writeWitnessProgram({ network: b, modelCommitment: cb }),
      writeWitnessProgram({ network: b, modelCommitment: ca }),
    ]) {
      const e = await directWitnessOfModel(program, idA).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(isVerinferError(e, "ARTIFACT_CORRUPT")).toBe(true);
    }
    await expect(
      directWitnessOfModel(writeWitnessProgram({ network: a, modelCommitment: ca }), idA),
    ).resolves.toBeTypeOf("function");
  });
});

describe("an embedding network at the vocabulary's edges", () => {
  it("ids 0 and V − 1 prove integerForward's outputs; an id in the input range but past the vocabulary is refused by both", async () => {
    const r = rng(3);
    const V = 5;
    const float: Network = {
      inputShape: [4],
      inputSize: 4,
      layers: [
        { kind: "embedding", name: "emb", inputDim: V, outputDim: 3, table: matrix(V, 3, r) },
        {
          kind: "conv2d",
          name: "c",
          filters: 2,
          kernelSize: [1, 2],
          strides: [1, 1],
          padding: "same",
          activation: "relu",
          kernel: kernel(1, 2, 3, 2, r),
          bias: [0, 0.1],
        },
        { kind: "globalAvgPool2d", name: "gap" },
        { name: "out", units: 2, activation: "linear", kernel: matrix(2, 2, r), bias: [0, 0] },
      ],
    };
    const calibration = [
      [0, 1, 2, 3],
      [4, 4, 0, 1],
    ];
    const qnet = quantizeNetwork(float, { calibration, weightBits: 5, activationBits: 8 });
    expect(qnet.input.hi).toBeGreaterThanOrEqual(BigInt(V));
    const mc = await modelCommitment(qnet);
    const r1cs = parseR1cs(writeR1cs(buildModelCircuit({ network: qnet, modelCommitment: mc, track: true })));
    const witnessOf = (input: bigint[]) =>
      buildModelCircuit({
        network: qnet,
        modelCommitment: mc,
        track: false,
        checked: true,
        inputs: { input, inputSalt: 1n, outputSalt: 2n },
      }).witness();
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0n, BigInt(V - 1), 1n), { minLength: 4, maxLength: 4 }), (ids) => {
        const w = witnessOf(ids);
        expect(checkR1cs(r1cs, w).ok).toBe(true);
        const ref = integerForward(qnet, ids);
        expect(w.slice(4, 4 + ref.output.length)).toEqual(ref.output.map(toField));
      }),
      { numRuns: 20, seed: 4 },
    );
    for (const id of [BigInt(V), qnet.input.hi]) {
      expect(thrown(() => integerForward(qnet, [0n, id, 0n, 0n]))).toSatisfy((e) =>
        isVerinferError(e, "INVALID_INPUT"),
      );
      expect(thrown(() => witnessOf([0n, 0n, 0n, id]))).toSatisfy((e) => isVerinferError(e, "INVALID_INPUT"));
    }
  });
});

describe("smooth activations' bounds (what the next layer's range checks and the field check are sized from)", () => {
  it("are the exact extremes of the table over any range of inputs, every activation (fast-check)", () => {
    const tables = SMOOTH_ACTIVATIONS.map((name) => tablePiecewise({ name, inFracBits: 2 }).piecewise);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: tables.length - 1 }),
        fc.integer({ min: -80, max: 80 }),
        fc.integer({ min: 0, max: 60 }),
        (t, lo, span) => {
          const p = tables[t] as (typeof tables)[number];
          const ys: bigint[] = [];
          for (let q = lo; q <= lo + span; q++) ys.push(piecewiseForward(p, BigInt(q)));
          const b = piecewiseBounds(p, BigInt(lo), BigInt(lo + span));
          expect(b.lo).toBe(ys.reduce((a, v) => (v < a ? v : a)));
          expect(b.hi).toBe(ys.reduce((a, v) => (v > a ? v : a)));
        },
      ),
      { numRuns: 300, seed: 8 },
    );
  });
});

/** What a layer computes, as bytes: its R1CS over fixed private inputs, and its integer outputs on them. */
function semantics(layer: QuantizedLayer, input: readonly bigint[]): string {
  const mod = moduleOf(layer);
  const cs = new ConstraintSystem({ track: true, nPublic: 0 });
  const out = mod.emit(cs, layer, cs.privateInputs(input));
  // Each output pinned to a constraint of its own, so that the R1CS holds the outputs' linear combinations too.
  for (const o of out) cs.enforce(o, cs.one, o);
  return `${Buffer.from(writeR1cs(cs)).toString("hex")}|${mod.forward(layer, input).join(",")}`;
}

/** Layers of one kind with equal commitments compute the same thing: constraints and integer outputs. */
function expectCommitmentsSeparate(variants: readonly QuantizedLayer[], input: (l: QuantizedLayer) => bigint[]): void {
  const json = (c: unknown) => JSON.stringify(c, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  const byCommitment = new Map<string, { semantics: string; layer: QuantizedLayer }>();
  let valid = 0;
  for (const layer of variants) {
    const probe = {
      inputShape: [1],
      inputSize: moduleOf(layer).inputSize(layer),
      input: { bits: 4, fracBits: 0, lo: -8n, hi: 7n },
      layers: [layer],
    };
    // Only layers the schema lets through (windows that fit their input).
    const issues = QuantizedNetworkSchema.safeParse(quantizedNetworkToJson(probe as never));
    if (!issues.success && issues.error.issues.some((i) => i.path[0] === "layers" && i.path.length === 2)) continue;
    valid++;
    const key = json(moduleOf(layer).commitment(layer));
    const s = semantics(layer, input(layer));
    const seen = byCommitment.get(key);
    if (seen) expect(s, `${json(layer)} and ${json(seen.layer)} share a commitment`).toBe(seen.semantics);
    else byCommitment.set(key, { semantics: s, layer });
  }
  expect(valid).toBeGreaterThan(4);
}

describe("every number a pooling or rescale computes with is committed (optional fields and flags included)", () => {
  const inputOf = (l: QuantizedLayer) =>
    Array.from({ length: moduleOf(l).inputSize(l) }, (_, i) => BigInt(((i * 7) % 13) - 6));
  const pads: Array<[number, number] | undefined> = [undefined, [0, 0], [1, 0], [0, 1], [1, 1]];
  const outs: Array<[number, number, number]> = [
    [1, 1, 1],
    [2, 2, 1],
    [1, 2, 1],
    [2, 1, 1],
  ];

  it("sum pooling: padded or not, its padding and whether padding counts", () => {
    const variants: QuantizedLayer[] = [];
    for (const padding of pads)
      for (const outShape of outs)
        for (const count of [undefined, false, true])
          for (const strides of [
            [2, 2],
            [1, 2],
          ] as Array<[number, number]>)
            variants.push({
              kind: "sumPool2d",
              name: "p",
              inShape: [3, 3, 1],
              outShape,
              poolSize: [2, 2],
              strides,
              ...(padding ? { padding } : {}),
              ...(count === undefined ? {} : { countIncludePad: count }),
            });
    expectCommitmentsSeparate(variants, inputOf);
  });

  it("max pooling: padded or not, its padding", () => {
    const variants: QuantizedLayer[] = [];
    for (const padding of pads)
      for (const outShape of outs)
        for (const diffBits of [5, 6])
          variants.push({
            kind: "maxPool2d",
            name: "m",
            inShape: [3, 3, 1],
            outShape,
            poolSize: [2, 2],
            strides: [2, 2],
            diffBits,
            ...(padding ? { padding } : {}),
          });
    expectCommitmentsSeparate(variants, inputOf);
  });

  it("rescale: every activation, its shift, its table and relu part", () => {
    const variants: QuantizedLayer[] = [];
    const base = { kind: "rescale" as const, name: "r", size: 2, multiplier: 3n, shift: 1, qBits: [6, 6] };
    for (const outFracBits of [0, 1, 3]) {
      for (const activation of ["linear", "relu", "relu6"] as const)
        variants.push({ ...base, activation, outFracBits });
      for (const leakShift of [1, 2, 5, 7]) variants.push({ ...base, activation: "leakyRelu", leakShift, outFracBits });
    }
    for (const name of SMOOTH_ACTIVATIONS) {
      const { piecewise, outFracBits } = tablePiecewise({ name, inFracBits: 1 });
      const { reluShift: _r, ...bounded } = piecewise;
      for (const p of [piecewise, bounded, { ...piecewise, table: piecewise.table.map((t, i) => (i ? t : t + 1n)) }])
        variants.push({ ...base, qBits: [p.window, p.window + 1], activation: name, piecewise: p, outFracBits });
    }
    expectCommitmentsSeparate(variants, () => [-5n, 10n]);
  });
});
