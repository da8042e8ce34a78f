// Random small networks through the direct backend (issue 22): for ≥ 50 random networks holding every layer kind
// (conv2d, max pooling, a standalone activation, average pooling, dense, and rescales with every activation), the
// written R1CS is satisfied by the written witness, its public signals are integerForward's outputs and class and
// the commitments commitValues computes, the constraint estimate is an upper bound (exact but for products with constants, which fold), and every single-wire mutation of the
// honest witness breaks a constraint. A few networks also go through circom (the test oracle): same public signals
// on the same inputs, constraint counts printed side by side.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { commitValues } from "../../src/attest/commitments.js";
import { modelCommitment } from "../../src/attest/model-commitment.js";
import { generateCircuit } from "../../src/circuits/codegen.js";
import { compileCircuit } from "../../src/circuits/compile-circuit.js";
import { buildModelCircuit, estimateConstraints } from "../../src/circuits/direct/build-model-circuit.js";
import { writeR1cs } from "../../src/circuits/direct/write-r1cs.js";
import { writeWtns } from "../../src/circuits/direct/write-wtns.js";
import { computeWitness } from "../../src/circuits/prove-groth16.js";
import { isVerinferError } from "../../src/errors.js";
import { integerForward } from "../../src/models/integer-forward.js";
import type { ActivationLayer, Layer, LayerActivation, Network } from "../../src/models/network.js";
import { networkShapes } from "../../src/models/network.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import type { QuantizedNetwork } from "../../src/models/quantized-network.js";
import { toField } from "../../src/util/field.js";
import {
  checkR1cs,
  constraintsByWire,
  parseR1cs,
  snarkjsCheck,
  violatedConstraints,
  wtnsToBigints,
} from "../r1cs-check.js";

const weight = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 8, arbitrary: fc.double({ min: -2, max: 2, noNaN: true }) },
);
const arr = <T>(a: fc.Arbitrary<T>, n: number) => fc.array(a, { minLength: n, maxLength: n });

const STANDALONE: Record<string, Omit<ActivationLayer, "kind" | "name">> = {
  relu: { activation: "relu" },
  relu6: { activation: "relu6" },
  leaky1: { activation: "leakyRelu", alpha: 0.5 },
  leaky3: { activation: "leakyRelu", alpha: 0.125 },
};

/**
 * conv (relu, relu6, linear) → 2×2 max pooling → standalone activation → average pooling (2×2 or global) →
 * flatten → dense (linear, relu, relu6) and maybe a softmax head, on a 5–6 × 5–6 × 1–2 input.
 */
const network = fc
  .record({
    h: fc.integer({ min: 5, max: 6 }),
    w: fc.integer({ min: 5, max: 6 }),
    c: fc.integer({ min: 1, max: 2 }),
    filters: fc.integer({ min: 1, max: 2 }),
    k: fc.integer({ min: 1, max: 2 }),
    padding: fc.constantFrom<"valid" | "same">("valid", "same"),
    convAct: fc.constantFrom<LayerActivation>("relu", "linear", "relu6"),
    act: fc.constantFrom(...Object.keys(STANDALONE)),
    global: fc.boolean(),
    units: fc.integer({ min: 1, max: 3 }),
    denseAct: fc.constantFrom<LayerActivation>("linear", "relu", "relu6"),
    softmax: fc.boolean(),
  })
  .chain((p) =>
    fc
      .record({ kernel: arr(arr(arr(arr(weight, p.filters), p.c), p.k), p.k), bias: arr(weight, p.filters) })
      .chain(({ kernel, bias }) => {
        const layers: Layer[] = [
          {
            kind: "conv2d",
            name: "conv",
            filters: p.filters,
            kernelSize: [p.k, p.k],
            strides: [1, 1],
            padding: p.padding,
            activation: p.convAct,
            kernel,
            bias,
          },
          { kind: "maxPool2d", name: "max", poolSize: [2, 2], strides: [2, 2], padding: "valid" },
          { kind: "activation", name: "act", ...(STANDALONE[p.act] as Omit<ActivationLayer, "kind" | "name">) },
          p.global
            ? { kind: "globalAvgPool2d", name: "avg" }
            : { kind: "avgPool2d", name: "avg", poolSize: [1, 2], strides: [1, 2], padding: "valid" },
        ];
        const shape = networkShapes({ inputShape: [p.h, p.w, p.c], inputSize: p.h * p.w * p.c, layers }).at(
          -1,
        ) as number[];
        const n = shape.reduce((a, b) => a * b, 1);
        if (shape.length > 1) layers.push({ kind: "reshape", name: "flatten", shape: [n] });
        return fc
          .record({ kernel: arr(arr(weight, p.units), n), bias: arr(weight, p.units) })
          .chain(({ kernel: k2, bias: b2 }) => {
            const net: Network = {
              inputShape: [p.h, p.w, p.c],
              inputSize: p.h * p.w * p.c,
              layers: [...layers, { name: "logits", units: p.units, activation: p.denseAct, kernel: k2, bias: b2 }],
              ...(p.softmax ? { head: "softmax" as const } : {}),
            };
            const sample = arr(fc.double({ min: 0, max: 1, noNaN: true }), net.inputSize);
            return fc.record({
              net: fc.constant(net),
              calibration: fc.array(sample, { minLength: 1, maxLength: 3 }),
              inputBits: fc.integer({ min: 2, max: 8 }),
              weightBits: fc.integer({ min: 2, max: 8 }),
              activationBits: fc.integer({ min: 3, max: 12 }),
              seed: fc.nat(),
            });
          });
      }),
  );

function quantized(p: {
  net: Network;
  calibration: number[][];
  inputBits: number;
  weightBits: number;
  activationBits: number;
}): QuantizedNetwork | undefined {
  const { net, calibration, ...bits } = p;
  try {
    return quantizeNetwork(net, { calibration, ...bits });
  } catch (e) {
    if (isVerinferError(e, "QUANTIZATION_OVERFLOW")) return undefined;
    throw e;
  }
}

function inputsOf(qnet: QuantizedNetwork, seed: number): bigint[][] {
  const { lo, hi } = qnet.input;
  const span = hi - lo + 1n;
  return [
    new Array<bigint>(qnet.inputSize).fill(hi),
    Array.from({ length: qnet.inputSize }, (_, i) => lo + ((BigInt(seed) * 7919n + BigInt(i) * 104729n) % span)),
  ];
}

const DRAWN = fc.sample(network, { numRuns: 64, seed: 22 });

describe("random networks through the direct backend", () => {
  it("≥ 50 networks of every kind: witness satisfies the R1CS, equals integerForward, every wire is pinned", async () => {
    const kinds = new Map<string, number>();
    const activations = new Set<string>();
    let checked = 0;
    let exact = 0;
    for (const [n, p] of DRAWN.entries()) {
      const qnet = quantized(p);
      if (!qnet) continue;
      checked++;
      for (const k of new Set(qnet.layers.map((l) => l.kind))) kinds.set(k, (kinds.get(k) ?? 0) + 1);
      for (const l of qnet.layers) if (l.kind === "rescale") activations.add(l.activation);
      const mc = await modelCommitment(qnet);
      const cs = buildModelCircuit({ network: qnet, modelCommitment: mc, track: true });
      const bytes = writeR1cs(cs);
      const r1cs = parseR1cs(bytes);
      // Exact, except that a product with a constant (a weight row of zeros makes a constant accumulator) is folded.
      expect(r1cs.constraints.length, `network ${n}`).toBeLessThanOrEqual(estimateConstraints(qnet));
      if (r1cs.constraints.length === estimateConstraints(qnet)) exact++;
      const byWire = constraintsByWire(r1cs);
      for (const [t, input] of inputsOf(qnet, p.seed).entries()) {
        const salts = { inputSalt: BigInt(p.seed) + 11n, outputSalt: BigInt(n) * 3n + 5n };
        const witnessCs = buildModelCircuit({
          network: qnet,
          modelCommitment: mc,
          track: false,
          inputs: { input, ...salts },
        });
        const w = witnessCs.witness();
        expect(checkR1cs(r1cs, w).ok, `network ${n} input ${t}`).toBe(true);
        const ref = integerForward(qnet, input);
        const nOut = ref.output.length;
        const half = 1n << BigInt(qnet.outputWidth - 1);
        expect(w.slice(1, 4 + nOut + (qnet.head ? 1 : 0))).toEqual([
          mc,
          await commitValues({ values: input, lo: qnet.input.lo, width: qnet.input.bits, salt: salts.inputSalt }),
          await commitValues({ values: ref.output, lo: -half, width: qnet.outputWidth, salt: salts.outputSalt }),
          ...ref.output.map(toField),
          ...(qnet.head ? [BigInt(ref.class as number)] : []),
        ]);
        if (t > 0) continue;
        // Witness shaping (issue 22 item 3): no private input or internal wire holds a negative integer (it would
        // be the full-width scalar p − |x| in the MSMs); only public outputs may be signed.
        const firstPrivate = 1 + witnessCs.nPublic;
        const negative = witnessCs.values.findIndex((v, i) => i >= firstPrivate && v < 0n);
        expect(negative, `network ${n}: wire ${negative} holds a negative value`).toBe(-1);
        if (n < 3) expect(await snarkjsCheck(bytes, w)).toBe(true);
        expect(await wtnsToBigints(writeWtns(w))).toEqual(w);
        // Every wire but the constant, alone, +1: some constraint that reads it must fail.
        for (let i = 1; i < w.length; i++) {
          const forged = w.slice();
          forged[i] = toField((w[i] as bigint) + 1n);
          if (violatedConstraints(r1cs, forged, byWire[i] ?? []).length === 0) {
            throw new Error(`network ${n}: wire ${i} of ${w.length} changed alone satisfies the R1CS`);
          }
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(50);
    console.log(`${checked} networks, estimate exact on ${exact} (the others hold constant accumulators)`);
    for (const kind of ["dense", "conv2d", "sumPool2d", "maxPool2d", "rescale"]) {
      expect(kinds.get(kind) ?? 0, kind).toBeGreaterThanOrEqual(50);
    }
    expect([...activations].sort()).toEqual(["leakyRelu", "linear", "relu", "relu6"]);
  }, 600_000);
});

describe("the circom oracle", () => {
  it("computes the same public signals as the direct backend on the same inputs", async () => {
    const rows: string[] = [];
    let compared = 0;
    for (const [n, p] of DRAWN.entries()) {
      if (compared >= 3) break;
      const qnet = quantized(p);
      if (!qnet) continue;
      compared++;
      const mc = await modelCommitment(qnet);
      const workDir = await mkdtemp(path.join(os.tmpdir(), "verinfer-oracle-"));
      try {
        const compiled = await compileCircuit({
          source: generateCircuit({ network: qnet, modelCommitment: mc }),
          workDir,
        });
        const direct = parseR1cs(writeR1cs(buildModelCircuit({ network: qnet, modelCommitment: mc, track: true })));
        const circom = parseR1cs(compiled.r1cs);
        rows.push(`network ${n}: circom ${circom.constraints.length} constraints, direct ${direct.constraints.length}`);
        expect(direct.nOutputs).toBe(circom.nOutputs);
        expect(direct.constraints.length).toBeLessThanOrEqual(circom.constraints.length);
        for (const input of inputsOf(qnet, p.seed)) {
          const inputs = { input, inputSalt: 3n, outputSalt: 4n };
          const oracle = await wtnsToBigints(await computeWitness(compiled.wasm, inputs));
          const w = buildModelCircuit({ network: qnet, modelCommitment: mc, track: false, inputs }).witness();
          expect(w.slice(1, 1 + direct.nOutputs)).toEqual(oracle.slice(1, 1 + circom.nOutputs));
        }
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    }
    console.log(`direct backend vs circom oracle:\n${rows.join("\n")}`);
    expect(compared).toBe(3);
  }, 600_000);
});
