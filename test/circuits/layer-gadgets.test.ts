// Soundness tests of the gadgets convolutional networks add to circuits/verinfer.circom: MaxOf (max pooling) and
// ArgMax (the proven class of a softmax head). Honest witnesses satisfy the R1CS; a wrong output — alone, or
// with every signal inside the gadget recomputed the way an honest witness generator would for that output —
// violates it.
import { rm } from "node:fs/promises";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelCommitment } from "../../src/attest/model-commitment.js";
import { generateCircuit } from "../../src/circuits/codegen.js";
import { integerForward } from "../../src/models/integer-forward.js";
import { argmaxBits, argmaxForward } from "../../src/models/layers/argmax.js";
import type { Network } from "../../src/models/network.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import { fromField } from "../../src/util/field.js";
import {
  bitsOf,
  calculateWitness,
  checkR1cs,
  compileTestCircuit,
  compileWithSymbols,
  constraintsByWire,
  snarkjsCheck,
  type TestCircuit,
  violatedConstraints,
  witnessCalculator,
} from "../r1cs-check.js";

// Inputs in [-8, 7]: differences of two lie in [-15, 15] (5 signed bits); argmax differences minus one in
// [-16, 14] (6 bits).
const LO = -8n;
const HI = 7n;
const K = 3;
const MAX_BITS = 5;
const N = 4;
const ARGMAX_BITS = argmaxBits(new Array(N).fill(LO), new Array(N).fill(HI));

let maxOf: TestCircuit;
let argmax: TestCircuit;

beforeAll(async () => {
  [maxOf, argmax] = await Promise.all([
    compileTestCircuit(`template T() {
    signal input in[${K}];
    signal output out;
    component g = MaxOf(${K}, ${MAX_BITS});
    g.in <== in;
    out <== g.out;
}
component main {public [in]} = T();`),
    compileTestCircuit(`template T() {
    signal input in[${N}];
    signal output out;
    component g = ArgMax(${N}, ${ARGMAX_BITS});
    g.in <== in;
    out <== g.out;
}
component main {public [in]} = T();`),
  ]);
});

afterAll(async () => {
  const curve = await snarkjs.curves.getCurveFromName("bn128");
  await curve.terminate();
  await Promise.all([maxOf, argmax].map((c) => rm(c.workDir, { recursive: true, force: true })));
});

/** Every vector of n values in [LO, HI] with stride `step` (a grid that keeps the test fast). */
function grid(n: number, step: bigint): bigint[][] {
  let out: bigint[][] = [[]];
  for (let i = 0; i < n; i++) {
    const next: bigint[][] = [];
    for (const v of out) for (let x = LO; x <= HI; x += step) next.push([...v, x]);
    out = next;
  }
  return out;
}

/** Sets only the signals the circuit has (names a --O2 build folded away are implied by the others). */
function forge(c: TestCircuit, w: readonly bigint[], values: Record<string, bigint>): bigint[] {
  return c.overwrite(w, Object.fromEntries(Object.entries(values).filter(([name]) => c.signals.has(name))));
}

/** Signals of a Rescale(0, b) at `prefix` whose quotient is q (as an honest generator computes them for q). */
function rescale0(prefix: string, q: bigint, b: number): Record<string, bigint> {
  const bits = bitsOf(q + (1n << BigInt(b - 1)), b);
  const values: Record<string, bigint> = { [`${prefix}.out`]: q, [`${prefix}.qBits.in`]: q + (1n << BigInt(b - 1)) };
  bits.forEach((bit, i) => {
    values[`${prefix}.qBits.out[${i}]`] = bit;
  });
  values[`${prefix}.nonNegative`] = bits[b - 1] as bigint;
  return values;
}

describe("MaxOf(k, B)", () => {
  it("computes the maximum of every input vector in range (snarkjs agrees on a sample)", async () => {
    const calc = await witnessCalculator(maxOf.wasm);
    let n = 0;
    for (const v of grid(K, 1n)) {
      const w = await calc({ in: v });
      expect(w[maxOf.wire("main.out")]).toBe(toFieldSigned(v.reduce((m, x) => (x > m ? x : m))));
      expect(checkR1cs(maxOf.r1csParsed, w).ok).toBe(true);
      if (n++ % 401 === 0) expect(await snarkjsCheck(maxOf.r1cs, w)).toBe(true);
    }
  });

  it("rejects any other output: alone, or with the last step's ReLU recomputed for it", async () => {
    const calc = await witnessCalculator(maxOf.wasm);
    for (const v of grid(K, 3n)) {
      const w = await calc({ in: v });
      const max = v.reduce((m, x) => (x > m ? x : m));
      const run1 = (v[0] as bigint) > (v[1] as bigint) ? (v[0] as bigint) : (v[1] as bigint);
      for (const claim of [...v, max + 1n, max - 1n, LO, HI].filter((x) => x !== max)) {
        const out = {
          "main.out": claim,
          "main.g.out": claim,
          [`main.g.run[${K - 1}]`]: claim,
          "main.g.step[1].out": claim,
        };
        const reluOut = claim - run1;
        const alone = forge(maxOf, w, { ...out, "main.g.step[1].d.out": reluOut });
        expect(checkR1cs(maxOf.r1csParsed, alone).ok, `[${v}] claims ${claim}`).toBe(false);
        // The ReLU's quotient and sign recomputed as if a − m were claim − m: its input, fixed by the inputs, disagrees.
        const recomputed = forge(maxOf, w, {
          ...out,
          "main.g.step[1].d.out": reluOut,
          ...rescale0("main.g.step[1].d.rs", reluOut, MAX_BITS),
        });
        expect(checkR1cs(maxOf.r1csParsed, recomputed).ok, `[${v}] claims ${claim}, recomputed`).toBe(false);
      }
    }
  });
});

function toFieldSigned(v: bigint): bigint {
  return v < 0n ? v + 21888242871839275222246405745257275088548364400416034343698204186575808495617n : v;
}

describe("ArgMax(n, B)", () => {
  it("outputs the index of the maximum, the lowest one among ties", async () => {
    const calc = await witnessCalculator(argmax.wasm);
    let ties = 0;
    for (const v of grid(N, 3n)) {
      const w = await calc({ in: v });
      const expected = argmaxForward(v);
      expect(w[argmax.wire("main.out")]).toBe(BigInt(expected));
      const max = v[expected] as bigint;
      if (v.filter((x) => x === max).length > 1) ties++;
      expect(checkR1cs(argmax.r1csParsed, w).ok).toBe(true);
    }
    expect(ties).toBeGreaterThan(10);
    expect(await snarkjsCheck(argmax.r1cs, await calc({ in: [3n, 7n, 7n, -8n] }))).toBe(true);
  });

  it("rejects every other class: alone, or with the running index and best recomputed for it", async () => {
    const calc = await witnessCalculator(argmax.wasm);
    for (const v of grid(N, 5n)) {
      const w = await calc({ in: v });
      const expected = argmaxForward(v);
      for (let claim = 0; claim < N; claim++) {
        if (claim === expected) continue;
        const out = { "main.out": BigInt(claim), "main.g.out": BigInt(claim), [`main.g.idx[${N - 1}]`]: BigInt(claim) };
        expect(checkR1cs(argmax.r1csParsed, forge(argmax, w, out)).ok, `[${v}] claims ${claim}`).toBe(false);
        // A forger who also flips the last comparison so that index `claim` seems to win it.
        const flipped: Record<string, bigint> = { ...out };
        const gt = `main.g.gt[${N - 2}]`;
        const honestBit = BigInt(w[argmax.wire(`${gt}.nonNegative`)] ?? 0n);
        flipped[`${gt}.nonNegative`] = 1n - honestBit;
        expect(checkR1cs(argmax.r1csParsed, forge(argmax, w, flipped)).ok, `[${v}] claims ${claim}, flipped`).toBe(
          false,
        );
      }
    }
  });
});

// Max pooling as codegen writes it (inline, see src/circuits/layer-templates.ts maxPool2d): a generated circuit of
// conv 1×1 → max pool 2×2 → dense, whose window values are conv accumulators (linear combinations, no signals).
describe("max pooling in a generated circuit (inline MaxOf)", () => {
  const net: Network = {
    inputShape: [2, 2, 1],
    inputSize: 4,
    layers: [
      {
        kind: "conv2d",
        name: "c",
        filters: 1,
        kernelSize: [1, 1],
        strides: [1, 1],
        padding: "valid",
        activation: "linear",
        kernel: [[[[0.75]]]],
        bias: [0.125],
      },
      { kind: "maxPool2d", name: "p", poolSize: [2, 2], strides: [2, 2], padding: "valid" },
      { kind: "reshape", name: "f", shape: [1] },
      { name: "d", units: 1, activation: "linear", kernel: [[1.5]], bias: [0] },
    ],
  };
  const qnet = quantizeNetwork(net, { calibration: [[0, 0.25, 0.5, 1]] });
  const pool = qnet.layers[1];
  let circuit: TestCircuit;

  beforeAll(async () => {
    circuit = await compileWithSymbols(
      generateCircuit({ network: qnet, modelCommitment: await modelCommitment(qnet) }),
    );
  });
  afterAll(async () => {
    await rm(circuit.workDir, { recursive: true, force: true });
  });

  /** The honest witness of quantized input x, the window's accumulators and its maximum. */
  async function honest(x: bigint[]) {
    const w = await calculateWitness(circuit.wasm, { in: x, inputSalt: 5n, outputSalt: 7n });
    const acc = integerForward(qnet, x).layerOutputs[0] as bigint[];
    return { w, acc, max: (integerForward(qnet, x).layerOutputs[1] as bigint[])[0] as bigint };
  }

  /** The constraints of the max pooling itself: those that reference its bit or running-maximum wires. */
  function poolConstraints(): Set<number> {
    const byWire = constraintsByWire(circuit.r1csParsed);
    const out = new Set<number>();
    for (const [name, wire] of circuit.wires) {
      if (/^main\.layer0\.(mb|md)\[/.test(name)) for (const c of byWire[wire] ?? []) out.add(c);
    }
    return out;
  }

  it("is a max pooling of conv accumulators, whose honest witnesses satisfy the R1CS", async () => {
    expect(pool?.kind).toBe("maxPool2d");
    expect(qnet.layers[0]?.kind).toBe("conv2d");
    for (const x of [
      [0n, 1n, 2n, 3n],
      [3n, 2n, 1n, 0n],
      [qnet.input.hi, qnet.input.lo, qnet.input.hi, qnet.input.lo],
    ]) {
      const { w, max } = await honest(x);
      expect(checkR1cs(circuit.r1csParsed, w).ok).toBe(true);
      expect(fromField(w[circuit.wire("main.layer0.out[0]")] as bigint)).toBe(max);
    }
  });

  it("rejects any other maximum: alone, or with the last step's sign bit flipped and the output following it", async () => {
    const own = poolConstraints();
    const B = (pool as { diffBits: number }).diffBits;
    const x = [qnet.input.lo + 3n, qnet.input.lo + 9n, qnet.input.lo + 1n, qnet.input.lo + 5n];
    const { w, acc, max } = await honest(x);
    let tried = 0;
    for (const claim of [...acc, max + 1n, max - 1n].filter((v) => v !== max)) {
      const alone = circuit.overwrite(w, { "main.layer0.out[0]": claim });
      expect(violatedConstraints(circuit.r1csParsed, alone, own).length, `claims ${claim}`).toBeGreaterThan(0);
      tried++;
    }
    // The last step compares a_3 with the running maximum m of a_0..a_2: flip its sign bit (bits recomputed from
    // e = a_3 - m + 2^(B-1) with the top bit flipped) and let the output follow the flipped choice.
    const m = acc.slice(0, 3).reduce((a, b) => (b > a ? b : a));
    const a3 = acc[3] as bigint;
    const e = a3 - m + (1n << BigInt(B - 1));
    const flipped = e ^ (1n << BigInt(B - 1));
    const bits = bitsOf(flipped, B);
    const forged: Record<string, bigint> = { "main.layer0.out[0]": a3 >= m ? m : a3 };
    for (let b = 1; b < B; b++) forged[`main.layer0.mb[0][2][${b - 1}]`] = bits[b] as bigint;
    const m2 = circuit.overwrite(w, forged);
    expect(violatedConstraints(circuit.r1csParsed, m2, own).length).toBeGreaterThan(0);
    expect(tried).toBeGreaterThan(2);
  });
});
