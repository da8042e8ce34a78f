// The compiled demo circuit and the JS integer reference agree bit for bit (outputs and commitments), and the
// quantizer's interval analysis really bounds every value integerForward computes.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { commitValues, packValues } from "../../src/attest/commitments.js";
import { computeWitness } from "../../src/circuits/prove-groth16.js";
import { isVerinferError } from "../../src/errors.js";
import type { DenseLayer, DenseNetwork } from "../../src/models/dense-network.js";
import { integerForward } from "../../src/models/integer-forward.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import {
  type QuantizedNetwork,
  quantizedNetworkFromJson,
  quantizedNetworkToJson,
} from "../../src/models/quantized-network.js";
import type { ModelPackage } from "../../src/package/model-package.js";
import { FIELD_PRIME, fromField } from "../../src/util/field.js";
import { demoPackage } from "../fixtures.js";
import { checkR1cs, parseR1cs, type R1cs, wtnsToBigints } from "../r1cs-check.js";

describe("demo circuit vs integerForward", () => {
  let pkg: ModelPackage;
  let wasm: Uint8Array;
  let r1cs: R1cs;

  beforeAll(async () => {
    pkg = await demoPackage();
    wasm = (await pkg.provingArtifacts()).wasm;
    r1cs = parseR1cs(await pkg.artifact("r1cs"));
  });

  it("matches outputs and all three commitments for 200 random inputs in [input.lo, input.hi]", async () => {
    const net = pkg.network;
    const { lo, hi, bits } = net.input;
    const nOut = net.outputShape.reduce((a, b) => a * b, 1);
    const outLo = -(1n << BigInt(net.outputWidth - 1));
    const model = BigInt(pkg.manifest.commitments.model);
    const input = fc.array(fc.bigInt({ min: lo, max: hi }), { minLength: net.inputSize, maxLength: net.inputSize });
    const salt = fc.bigInt({ min: 0n, max: FIELD_PRIME - 1n });
    const corners = [lo, hi].map((v) => new Array<bigint>(net.inputSize).fill(v));
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(input, salt, salt, async (xq, inputSalt, outputSalt) => {
        const w = await wtnsToBigints(await computeWitness(wasm, { input: xq, inputSalt, outputSalt }));
        const expected = integerForward(net, xq).output;
        expect(w.slice(4, 4 + nOut).map(fromField)).toEqual(expected);
        expect(w[1]).toBe(model);
        expect(w[2]).toBe(await commitValues({ values: xq, lo, width: bits, salt: inputSalt }));
        expect(w[3]).toBe(
          await commitValues({ values: expected, lo: outLo, width: net.outputWidth, salt: outputSalt }),
        );
        expect(checkR1cs(r1cs, w)).toEqual({ ok: true, firstFailing: -1 });
        checked++;
      }),
      {
        numRuns: 200,
        examples: [
          [corners[0] as bigint[], 0n, 0n],
          [corners[1] as bigint[], FIELD_PRIME - 1n, 1n],
        ],
      },
    );
    expect(checked).toBeGreaterThanOrEqual(200);
  });

  it("has the public signals the manifest and the codegen promise (1 + 3 commitments + outputs)", () => {
    const nOut = pkg.network.outputShape.reduce((a, b) => a * b, 1);
    expect(r1cs.nOutputs).toBe(3 + nOut);
    expect(r1cs.nPubInputs).toBe(0);
    expect(r1cs.nOutputs + r1cs.nPubInputs).toBe(pkg.manifest.circuit.publicSignals);
    expect(r1cs.constraints.length).toBe(pkg.manifest.circuit.constraints);
  });
});

/** A small random float network with calibration samples and quantization options. */
const smallNet = fc
  .record({
    nIn: fc.integer({ min: 1, max: 4 }),
    layers: fc.array(
      fc.record({
        units: fc.integer({ min: 1, max: 4 }),
        activation: fc.constantFrom("relu" as const, "linear" as const),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .chain(({ nIn, layers }) => {
    const weight = fc.oneof(
      { weight: 1, arbitrary: fc.constant(0) },
      { weight: 8, arbitrary: fc.double({ min: -4, max: 4, noNaN: true }) },
    );
    let prev = nIn;
    const denseLayers = layers.map(({ units, activation }, l) => {
      const rows = prev;
      prev = units;
      return fc.record({
        name: fc.constant(`dense_${l}`),
        units: fc.constant(units),
        activation: fc.constant(activation),
        kernel: fc.array(fc.array(weight, { minLength: units, maxLength: units }), {
          minLength: rows,
          maxLength: rows,
        }),
        bias: fc.array(weight, { minLength: units, maxLength: units }),
      }) as fc.Arbitrary<DenseLayer>;
    });
    const sample = fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: nIn, maxLength: nIn });
    return fc.record({
      net: fc.tuple(...denseLayers).map((ls): DenseNetwork => ({ inputShape: [nIn], inputSize: nIn, layers: ls })),
      calibration: fc.array(sample, { minLength: 1, maxLength: 5 }),
      inputBits: fc.integer({ min: 2, max: 12 }), // 1 bit with signed inputs: see the INVALID_OPTIONS test below
      weightBits: fc.integer({ min: 2, max: 12 }),
      activationBits: fc.integer({ min: 2, max: 24 }),
    });
  });

/** Every corner of the box [lo, hi]^n. */
function corners(n: number, lo: bigint, hi: bigint): bigint[][] {
  return Array.from({ length: 2 ** n }, (_, mask) => Array.from({ length: n }, (_, i) => ((mask >> i) & 1 ? hi : lo)));
}

describe("quantizeNetwork's range guarantee", () => {
  it("integerForward never leaves a proven range at any corner of the input box, nor inside it", () => {
    let quantized = 0;
    fc.assert(
      fc.property(smallNet, fc.array(fc.array(fc.nat(), { minLength: 4, maxLength: 4 }), { maxLength: 8 }), (p, rs) => {
        const { net, calibration, ...bits } = p;
        let qnet: QuantizedNetwork;
        try {
          qnet = quantizeNetwork(net, { calibration, ...bits });
        } catch (e) {
          if (isVerinferError(e, "QUANTIZATION_OVERFLOW")) return; // a legitimate refusal, not a broken promise
          throw e;
        }
        quantized++;
        const { lo, hi } = qnet.input;
        const interior = rs.map((r) => r.slice(0, net.inputSize).map((v) => lo + (BigInt(v) % (hi - lo + 1n))));
        for (const xq of [...corners(net.inputSize, lo, hi), ...interior]) {
          // throws VerinferError INTERNAL if a quotient leaves [-2^(qBits-1), 2^(qBits-1))
          const { output } = integerForward(qnet, xq);
          const half = 1n << BigInt(qnet.outputWidth - 1);
          for (const y of output) expect(y >= -half && y < half).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
    expect(quantized).toBeGreaterThan(250);
  });
});

describe("quantizeNetwork edge cases", () => {
  const oneLayer = (w: number): DenseNetwork => ({
    inputShape: [1],
    inputSize: 1,
    layers: [{ name: "d", units: 1, activation: "linear", kernel: [[w]], bias: [0] }],
  });

  // A signed 1-bit input would be lo = -1, hi = 0: no room for any positive value, so no scale exists.
  it("refuses 1-bit signed inputs with INVALID_OPTIONS", () => {
    let error: unknown;
    try {
      quantizeNetwork(oneLayer(0.5), { calibration: [[-0.5], [0.5]], inputBits: 1 });
    } catch (e) {
      error = e;
    }
    expect(isVerinferError(error, "INVALID_OPTIONS")).toBe(true);
  });

  // quantizeNetwork allows qBits + shift up to 250 inside the network and outputs up to 128 bits (what a receipt
  // and an output commitment hold); the schema must read back everything it produces.
  it("only produces networks that QuantizedNetworkSchema reads back, and refuses outputs wider than 128 bits", () => {
    const chain = (n: number): DenseNetwork => ({
      inputShape: [1],
      inputSize: 1,
      layers: Array.from({ length: n }, (_, l) => ({
        name: `d${l}`,
        units: 1,
        activation: "linear" as const,
        kernel: [[0.75]],
        bias: [0],
      })),
    });
    let widest = 0;
    let refused = 0;
    for (let n = 1; n <= 11; n++) {
      let qnet: ReturnType<typeof quantizeNetwork>;
      try {
        qnet = quantizeNetwork(chain(n), { calibration: [[0]], inputRange: [0, 1], inputBits: 1, weightBits: 24 });
      } catch (error) {
        expect(isVerinferError(error, "QUANTIZATION_OVERFLOW")).toBe(true);
        refused++;
        continue;
      }
      expect(qnet.outputWidth).toBeLessThanOrEqual(128);
      widest = Math.max(widest, qnet.outputWidth);
      expect(() => quantizedNetworkFromJson(quantizedNetworkToJson(qnet))).not.toThrow();
    }
    expect(widest).toBeGreaterThan(64);
    expect(refused).toBeGreaterThan(0);
  });
});

describe("packValues", () => {
  it("rejects a value of 2^width or more and a negative one", () => {
    expect(packValues([0n, 255n], 8)).toEqual([255n << 8n]);
    expect(() => packValues([0n, 256n], 8)).toThrow(RangeError);
    expect(() => packValues([1n << 253n], 253)).toThrow(RangeError);
    expect(() => packValues([-1n, 0n], 8)).toThrow(RangeError);
    expect(() => packValues([0n, 0n, -(1n << 100n)], 100)).toThrow(RangeError);
  });

  it("makes commitValues reject values outside [lo, lo + 2^width)", async () => {
    await expect(commitValues({ values: [-129n], lo: -128n, width: 8, salt: 1n })).rejects.toThrow(RangeError);
    await expect(commitValues({ values: [128n], lo: -128n, width: 8, salt: 1n })).rejects.toThrow(RangeError);
    await expect(commitValues({ values: [-128n, 127n], lo: -128n, width: 8, salt: 1n })).resolves.toBeTypeOf("bigint");
  });
});
