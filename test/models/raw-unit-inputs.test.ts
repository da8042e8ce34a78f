import { describe, expect, it } from "vitest";
import { quantizationHash } from "../../src/attest/attest-data.js";
import { modelCommitment } from "../../src/attest/model-commitment.js";
import { isVerinferError } from "../../src/errors.js";
import { dequantizeOutput, integerForward } from "../../src/models/integer-forward.js";
import { fidelityWarnings, measureFidelity } from "../../src/models/measure-fidelity.js";
import type { DenseNetwork } from "../../src/models/network.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import { quantizedNetworkFromJson, quantizedNetworkToJson } from "../../src/models/quantized-network.js";
import { runFloat } from "../../src/models/run-float.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { reexecute } from "../../src/pipeline/reexecute.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { errorOf, TEST_CACHE, tinyCalibration, tinyNetwork } from "../fixtures.js";

/**
 * A house-price regressor on raw units, as tabular models are often trained: square feet (500–3,500), a 0/1
 * "has garage" flag, rooms (1–6) and a 0–1 condition score, price in thousands. The hidden layer's square-feet
 * column is ~1e-3 next to the flag's ~10: one shared input scale (2^-3 for 8 bits over 3,500) rounds the flag and
 * the score to 0, and one shared weight scale per layer rounds the square-feet weights to 0.
 */
const houses: DenseNetwork = {
  inputShape: [4],
  inputSize: 4,
  layers: [
    {
      name: "hidden",
      units: 3,
      activation: "relu",
      kernel: [
        [0.0012, 0.0008, -0.0005],
        [9, -4, 6],
        [1.5, 2.5, 0.5],
        [20, 5, -12],
      ],
      bias: [1, 2, 8],
    },
    { name: "price", units: 1, activation: "linear", kernel: [[40], [25], [30]], bias: [50] },
  ],
};

/** Deterministic houses: a small linear congruential generator, so the test needs no seed library. */
function sampleHouses(n: number, seed: number): number[][] {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  return Array.from({ length: n }, () => [
    Math.round(500 + 3000 * next()),
    next() < 0.5 ? 0 : 1,
    1 + Math.floor(6 * next()),
    Math.round(100 * next()) / 100,
  ]);
}

describe("raw-unit tabular inputs", () => {
  // The training set's extremes belong in the calibration: each feature's scale covers its calibrated range.
  const calibration = [...sampleHouses(128, 1), [500, 0, 1, 0], [3500, 1, 6, 1]];
  const test = sampleHouses(64, 2);

  it("proves a regressor on features of very different magnitudes within 2% of its output range", async () => {
    const network = quantizeNetwork(houses, { calibration });
    const { outputs } = await runFloat({ model: houses, inputs: test, inputShape: [4] });
    const float = outputs.map((o) => o[0] as number);
    const proven = test.map(
      (x) => dequantizeOutput(network, integerForward(network, quantizeInput(network, x)).output)[0] as number,
    );
    const range = Math.max(...float) - Math.min(...float);
    const worst = Math.max(...proven.map((p, k) => Math.abs(p - (float[k] as number))));
    expect(range).toBeGreaterThan(50);
    expect(worst).toBeLessThan(0.02 * range);
  });

  it("gives each feature its own input scale, bound by the model commitment", async () => {
    const network = quantizeNetwork(houses, { calibration });
    const f = network.input.featureFracBits as number[];
    expect(f).toHaveLength(4);
    // Square feet at a coarse scale, the flag and the score at fine ones.
    expect(f[0]).toBeLessThan(0);
    expect(f[1]).toBeGreaterThan(4);
    expect(f[3]).toBeGreaterThan(4);
    const shifted = {
      ...network,
      input: {
        ...network.input,
        featureFracBits: [f[0] as number, f[1] as number, f[2] as number, (f[3] as number) - 1],
      },
    };
    expect(await modelCommitment(shifted)).not.toBe(await modelCommitment(network));
    const shared = quantizeNetwork(houses, { calibration, inputScales: "shared" });
    expect(shared.input.featureFracBits).toBeUndefined();
    // A data node's attestation names the scales too: the same integers under other scales are other data.
    const { featureFracBits: _dropped, ...plain } = network.input;
    expect(quantizationHash(network)).not.toBe(quantizationHash({ ...network, input: plain }));
    expect(quantizationHash(network)).not.toBe(quantizationHash(shifted));
  });

  it("keeps one shared input scale (and the model id) for inputs in one unit", async () => {
    const network = quantizeNetwork(tinyNetwork, { calibration: tinyCalibration });
    expect(network.input.featureFracBits).toBeUndefined();
    const shared = quantizeNetwork(tinyNetwork, { calibration: tinyCalibration, inputScales: "shared" });
    expect(await modelCommitment(shared)).toBe(await modelCommitment(network));
  });

  it("makes the damage of a shared scale visible: per-output error against the output range, no argmax", async () => {
    const network = quantizeNetwork(houses, { calibration, inputScales: "shared" });
    const f = await measureFidelity({ float: houses, network, samples: test });
    expect(f?.argmaxAgreement).toBeUndefined();
    expect(f?.maxRelativeError).toBeGreaterThan(0.05);
    const warnings = fidelityWarnings(network, f);
    expect(warnings.some((w) => w.includes("output range"))).toBe(true);
    expect(warnings.some((w) => w.includes("argmax"))).toBe(false);
    const good = quantizeNetwork(houses, { calibration });
    const g = await measureFidelity({ float: houses, network: good, samples: test });
    expect(g?.maxRelativeError).toBeLessThan(0.02);
    expect(fidelityWarnings(good, g)).toEqual([]);
  });

  it("proves a raw-unit input end to end, and a receipt that states other feature scales does not verify", async () => {
    const pkg = await compileModel(houses, { calibration, cacheDir: TEST_CACHE, quiet: true });
    expect(pkg.manifest.quantization.input.featureFracBits).toEqual(pkg.network.input.featureFracBits);
    expect(pkg.manifest.fidelity?.argmaxAgreement).toBeUndefined();
    expect(pkg.manifest.fidelity?.maxRelativeError).toBeLessThan(0.02);
    const house = [2150, 1, 4, 0.75];
    const { receipt, salts } = await verifiableInfer(pkg, house);
    const xq = quantizeInput(pkg.network, house);
    expect(receipt.output.quantized).toEqual(integerForward(pkg.network, xq).output.map(String));
    // The flag and the score reach the circuit: a house without a garage proves another price.
    const { receipt: noGarage } = await verifiableInfer(pkg, [2150, 0, 4, 0.75]);
    expect(noGarage.output.quantized).not.toEqual(receipt.output.quantized);
    expect(receipt.input.quantization.featureFracBits).toEqual(pkg.network.input.featureFracBits);
    expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
    expect(await reexecute(receipt, { modelPackage: pkg, input: house, salts })).toMatchObject({
      valid: true,
    });
    // Claiming the square feet were read at a finer scale (the same integers, another meaning) breaks the model
    // commitment the proof binds; so does dropping the per-feature scales.
    const f = receipt.input.quantization.featureFracBits as number[];
    const finer = structuredClone(receipt);
    finer.input.quantization.featureFracBits = [(f[0] as number) + 1, ...f.slice(1)];
    finer.input.quantization.fracBits = Math.min(...(finer.input.quantization.featureFracBits as number[]));
    const bad = await verifyReceipt(finer, { modelPackage: pkg });
    expect(bad.valid).toBe(false);
    expect(bad.reason).toMatch(/commitment/);
    const shared = structuredClone(receipt);
    delete shared.input.quantization.featureFracBits;
    expect((await verifyReceipt(shared, { modelPackage: pkg })).reason).toMatch(/commitment/);
    // One spelling per input format: equal per-feature scales are the shared fracBits, refused as a second form.
    const equal = structuredClone(receipt);
    equal.input.quantization.featureFracBits = f.map(() => equal.input.quantization.fracBits);
    const second = await errorOf(verifyReceipt(equal, { modelPackage: pkg }));
    expect(isVerinferError(second, "MALFORMED_RECEIPT")).toBe(true);
    expect((second as Error).message).toMatch(/equal scales/);
  });

  it("refuses per-feature scales where the first layer is not dense, and a network stating too few", () => {
    const conv = {
      inputShape: [2, 2, 1],
      inputSize: 4,
      layers: [
        {
          kind: "conv2d" as const,
          name: "c",
          filters: 1,
          kernelSize: [1, 1] as [number, number],
          strides: [1, 1] as [number, number],
          padding: "valid" as const,
          activation: "linear" as const,
          kernel: [[[[1]]]],
          bias: [0],
        },
      ],
    };
    let error: unknown;
    try {
      quantizeNetwork(conv, { calibration: [[1000, 1, 0, 0.5]], inputScales: "perFeature" });
    } catch (e) {
      error = e;
    }
    expect(isVerinferError(error, "INVALID_OPTIONS")).toBe(true);
    expect(quantizeNetwork(conv, { calibration: [[1000, 1, 0, 0.5]] }).input.featureFracBits).toBeUndefined();
    const json = quantizedNetworkToJson(quantizeNetwork(houses, { calibration })) as {
      input: { featureFracBits: number[] };
    };
    json.input.featureFracBits = json.input.featureFracBits.slice(1);
    expect(() => quantizedNetworkFromJson(json)).toThrow(/one scale per input value/);
  });

  it("has one spelling per input format: equal per-feature scales are refused by the network schema", () => {
    const json = quantizedNetworkToJson(quantizeNetwork(houses, { calibration })) as {
      input: { fracBits: number; featureFracBits: number[] };
    };
    json.input.featureFracBits = json.input.featureFracBits.map(() => json.input.fracBits);
    expect(() => quantizedNetworkFromJson(json)).toThrow(/equal per-feature scales/);
  });
});
