import { describe, expect, it } from "vitest";
import type { DenseNetwork } from "../../src/models/dense-network.js";
import { integerForward } from "../../src/models/integer-forward.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { verifiableInferBatch } from "../../src/pipeline/verifiable-infer.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { TEST_CACHE } from "../fixtures.js";

// Inputs in [-1, 1] exercise the signed input range (lo = -2^(bits-1)), negative accumulators in both layers,
// and a linear output layer whose outputs are negative field elements in the public signals.
const net: DenseNetwork = {
  inputShape: [2, 3],
  inputSize: 6,
  layers: [
    {
      name: "hidden",
      units: 4,
      activation: "relu",
      kernel: [
        [0.5, -0.25, 0.75, -1],
        [-0.3, 0.9, 0.1, 0.2],
        [0.05, -0.6, -0.4, 0.33],
        [1.2, 0.0, -0.8, 0.5],
        [-0.7, 0.45, 0.2, -0.1],
        [0.25, 0.25, -0.25, 0.6],
      ],
      bias: [0.1, -0.2, 0.05, 0],
    },
    {
      name: "out",
      units: 3,
      activation: "linear",
      kernel: [
        [1, -1, 0.5],
        [-0.5, 0.8, -1.1],
        [0.3, 0.3, -0.9],
        [-1.2, 0.4, 0.7],
      ],
      bias: [-0.3, 0.2, 0.0],
    },
  ],
};

const calibration = [
  [-1, -1, -1, -1, -1, -1],
  [1, 1, 1, 1, 1, 1],
  [0.5, -0.5, 0.25, -0.25, 0.9, -0.9],
];

describe("a model with signed inputs and a linear output layer", () => {
  it("proves nested-shape inputs with negative values and outputs, and every receipt verifies", async () => {
    const pkg = await compileModel(net, { calibration, cacheDir: TEST_CACHE, quiet: true });
    expect(pkg.network.input.lo).toBe(-128n);
    // circom --inspect finds nothing to flag in the generated circuit or the gadgets it uses.
    expect(pkg.manifest.circuit.inspectWarnings).toEqual([]);
    const inputs = [
      [
        [-1, -0.5, 0],
        [0.5, 1, -0.75],
      ],
      [
        [0.9, -0.9, 0.1],
        [-0.2, 0.3, -1],
      ],
    ];
    const results = await verifiableInferBatch(pkg, inputs);
    for (const [b, { receipt }] of results.entries()) {
      const expected = integerForward(pkg.network, quantizeInput(pkg.network, inputs[b])).output;
      expect(receipt.output.quantized).toEqual(expected.map(String));
      expect(receipt.input.shape).toEqual([2, 3]);
      expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
    }
    const all = results.flatMap((r) => r.receipt.output.quantized.map(BigInt));
    expect(all.some((q) => q < 0n)).toBe(true);
    expect(results[0]?.receipt.output.maxAbsError).toBeLessThan(0.05);
  });
});
