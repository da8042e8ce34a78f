// A softmax CNN from compile to verified receipt: the proof states the logits and the proven class, the receipt's
// class must be that public signal and the argmax of the proven logits, and its float probabilities are reported
// as unverified.
import { describe, expect, it } from "vitest";
import { compileModel, verifiableInfer, verifyReceipt } from "../../src/index.js";
import type { Network } from "../../src/models/network.js";
import { asZk, TEST_CACHE } from "../fixtures.js";

/** 4×4×1 → conv 2×2 ×2 relu → max pool 2 → flatten → dense 3, softmax. */
const softmaxCnn: Network = {
  inputShape: [4, 4, 1],
  inputSize: 16,
  head: "softmax",
  layers: [
    {
      kind: "conv2d",
      name: "conv",
      filters: 2,
      kernelSize: [2, 2],
      strides: [1, 1],
      padding: "same",
      activation: "relu",
      kernel: [
        [[[0.5, -0.25]], [[0.25, 0.5]]],
        [[[-0.5, 0.75]], [[1, -0.125]]],
      ],
      bias: [0.05, -0.1],
    },
    { kind: "maxPool2d", name: "pool", poolSize: [2, 2], strides: [2, 2], padding: "valid" },
    { kind: "reshape", name: "flatten", shape: [8] },
    {
      name: "logits",
      units: 3,
      activation: "linear",
      kernel: [
        [0.3, -0.6, 0.2],
        [-0.4, 0.8, -0.1],
        [0.7, 0.1, -0.9],
        [0.2, -0.3, 0.5],
        [-0.2, 0.4, 0.6],
        [0.9, -0.5, 0.1],
        [-0.7, 0.3, 0.3],
        [0.1, 0.2, -0.4],
      ],
      bias: [0, 0.2, -0.1],
    },
  ],
};
const calibration = [new Array(16).fill(0), new Array(16).fill(1), Array.from({ length: 16 }, (_, i) => (i % 5) / 4)];

describe("a softmax CNN's zk receipt", () => {
  it("states the proven class as the last public signal, and verifies", async () => {
    const pkg = await compileModel(softmaxCnn, { calibration, cacheDir: TEST_CACHE, quiet: true });
    expect(pkg.manifest.architecture.head).toBe("softmax");
    expect(pkg.manifest.architecture.layers.map((l) => l.kind)).toEqual([
      "conv2d",
      "maxPool2d",
      "rescale",
      "dense",
      "rescale",
    ]);
    const { receipt } = await verifiableInfer(
      pkg,
      Array.from({ length: 16 }, (_, i) => ((i * 7) % 16) / 16),
    );
    const zk = asZk(receipt);
    const n = zk.output.quantized.length;
    expect(zk.proof.publicSignals).toHaveLength(3 + n + 1);
    const logits = zk.output.quantized.map(BigInt);
    const best = logits.reduce((b, v, j) => (v > (logits[b] as bigint) ? j : b), 0);
    expect(zk.output.class).toBe(best);
    expect(zk.proof.publicSignals[3 + n]).toBe(String(best));
    const probabilities = zk.output.probabilities as number[];
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const result = await verifyReceipt(zk, { modelPackage: pkg });
    expect(result).toMatchObject({ valid: true });
    expect(result.unverified.map((u) => u.field)).toContain("output.probabilities");
    console.log(`softmax CNN: ${pkg.manifest.circuit.constraints} constraints`);

    // Another class, with or without the public signal changed along, is refused.
    const other = (best + 1) % n;
    const stated = structuredClone(zk);
    stated.output.class = other;
    expect(await verifyReceipt(stated, { modelPackage: pkg })).toMatchObject({ valid: false });
    const signalled = structuredClone(stated);
    signalled.proof.publicSignals[3 + n] = String(other);
    expect(await verifyReceipt(signalled, { modelPackage: pkg })).toMatchObject({ valid: false });
    // A receipt that drops the class no longer matches the proof's signals, nor its model commitment.
    const dropped = structuredClone(zk);
    delete dropped.output.class;
    delete dropped.output.probabilities;
    expect(await verifyReceipt(dropped, { modelPackage: pkg })).toMatchObject({ valid: false });
  });
});
