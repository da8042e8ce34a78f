// Issue 21 item 3: a binary classifier ending in a sigmoid on one logit. The proven class is [logit >= 0], the sign
// bit the last rescale already proves, stated beside the proven sigmoid output: integerForward states it, the
// circuit makes it a public signal at no extra constraint, a flipped class fails the constraints and the receipt
// check, and the receipt says which head it is.
import { describe, expect, it } from "vitest";
import { modelCommitment } from "../../src/attest/model-commitment.js";
import { buildModelCircuit, estimateConstraints } from "../../src/circuits/direct/build-model-circuit.js";
import { writeR1cs } from "../../src/circuits/direct/write-r1cs.js";
import { tf } from "../../src/models/backend.js";
import { integerForward } from "../../src/models/integer-forward.js";
import { piecewiseForward } from "../../src/models/layers/piecewise.js";
import type { Network } from "../../src/models/network.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import { quantizedNetworkFromJson, quantizedNetworkToJson } from "../../src/models/quantized-network.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { toField } from "../../src/util/field.js";
import { asZk, TEST_CACHE } from "../fixtures.js";
import { checkR1cs, parseR1cs } from "../r1cs-check.js";

const net: Network = {
  inputShape: [3],
  inputSize: 3,
  layers: [
    {
      name: "h",
      units: 3,
      activation: "relu",
      kernel: [
        [1, -0.5, 0.75],
        [0.5, 1, -1],
        [-0.25, 0.5, 0.5],
      ],
      bias: [0.1, 0, -0.1],
    },
    { name: "logit", units: 1, activation: "linear", kernel: [[1], [-1.25], [0.5]], bias: [-0.05] },
    { kind: "activation", name: "p", activation: "sigmoid" },
  ],
};
const inputs = [
  [1, -1, 0.5],
  [-1, 1, 0.25],
  [0.5, 0.5, -1],
  [2, 0, 1],
  [-0.5, -1.5, 1.5],
  [0.1, 0.9, 0.3],
];
/** The float logit, for the class the float model predicts. */
const logit = (x: readonly number[]) => {
  const h = [0, 1, 2].map((j) =>
    Math.max(
      0,
      x.reduce(
        (s, v, i) => s + v * ((net.layers[0] as { kernel: number[][] }).kernel[i]?.[j] as number),
        [0.1, 0, -0.1][j] as number,
      ),
    ),
  );
  return [1, -1.25, 0.5].reduce((s, w, j) => s + w * (h[j] as number), -0.05);
};

describe("a sigmoid binary-classifier head", () => {
  it("states the class [logit >= 0] in integerForward, proves it as a public signal, and a flipped class fails", async () => {
    const q = quantizeNetwork(net, { calibration: inputs });
    expect(q.head).toEqual({ kind: "sign" });
    const mc = await modelCommitment(q);
    const r1cs = parseR1cs(writeR1cs(buildModelCircuit({ network: q, modelCommitment: mc, track: true })));
    expect(r1cs.constraints.length).toBe(estimateConstraints(q));
    const classes = new Set<number>();
    for (const x of inputs) {
      const xq = quantizeInput(q, x);
      const ref = integerForward(q, xq);
      expect(ref.class).toBe(logit(x) >= 0 ? 1 : 0);
      classes.add(ref.class as number);
      const w = buildModelCircuit({
        network: q,
        modelCommitment: mc,
        track: false,
        inputs: { input: xq, inputSalt: 3n, outputSalt: 5n },
      }).witness();
      expect(checkR1cs(r1cs, w).ok).toBe(true);
      expect(w[4]).toBe(toField(ref.output[0] as bigint));
      expect(w[5]).toBe(BigInt(ref.class as number));
      const flipped = w.slice();
      flipped[5] = 1n - (w[5] as bigint);
      expect(checkR1cs(r1cs, flipped).ok).toBe(false);
    }
    expect([...classes].sort()).toEqual([0, 1]);
  });

  it("compiles, proves and verifies; the receipt states the sigmoid head, and a changed class is refused", async () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ units: 3, activation: "relu", inputShape: [3] }));
    m.add(tf.layers.dense({ units: 1, activation: "sigmoid" }));
    const d0 = net.layers[0] as { kernel: number[][]; bias: number[] };
    m.layers[0]?.setWeights([tf.tensor2d(d0.kernel), tf.tensor1d(d0.bias)]);
    m.layers[1]?.setWeights([tf.tensor2d([[1], [-1.25], [0.5]]), tf.tensor1d([-0.05])]);
    const pkg = await compileModel(m, { calibration: inputs, cacheDir: TEST_CACHE, quiet: true });
    expect(pkg.manifest.architecture.head).toBe("sigmoid");
    const x = inputs[1] as number[];
    const receipt = asZk((await verifiableInfer(pkg, x)).receipt);
    expect(receipt.output.head).toBe("sigmoid");
    expect(receipt.output.probabilities).toBeUndefined();
    expect(receipt.output.class).toBe(integerForward(pkg.network, quantizeInput(pkg.network, x)).class);
    expect(receipt.output.class).toBe(logit(x) >= 0 ? 1 : 0);
    expect(receipt.output.maxAbsError).toBeLessThan(0.02);
    expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
    const flipped = { ...receipt, output: { ...receipt.output, class: 1 - (receipt.output.class as number) } };
    expect(await verifyReceipt(flipped, { modelPackage: pkg })).toMatchObject({ valid: false });
    const { head: _h, ...noHead } = receipt.output;
    expect(await verifyReceipt({ ...receipt, output: noHead }, { modelPackage: pkg })).toMatchObject({ valid: false });
  }, 300_000);

  it("commits the sigmoid output in slots of its own width: every output the gadget admits fits, a narrower width is refused", () => {
    const q = quantizeNetwork(net, { calibration: inputs });
    const last = q.layers[q.layers.length - 1];
    if (last?.kind !== "rescale" || !last.piecewise) throw new Error("expected the sigmoid rescale");
    // Every q the range check admits: the pinned output lies in [-2^(w-1), 2^(w-1)), so the packing is injective.
    const B = last.qBits[0] as number;
    const half = 1n << BigInt(q.outputWidth - 1);
    for (let v = -(1n << BigInt(B - 1)); v < 1n << BigInt(B - 1); v++) {
      const y = piecewiseForward(last.piecewise, v);
      if (y < -half || y >= half) throw new Error(`output ${y} of q ${v} leaves ${q.outputWidth} bits`);
    }
    expect(q.outputWidth).toBeGreaterThan(B);
    // The width of the logit (what a plain last rescale states) would let an output spill into the next slot.
    expect(() => quantizedNetworkFromJson(quantizedNetworkToJson({ ...q, outputWidth: B }))).toThrow();
    expect(quantizedNetworkFromJson(quantizedNetworkToJson(q))).toEqual(q);
    // Without its sign head, a network ending in a sigmoid is refused (the review4 rule: no other table output).
    const { head: _h, ...noHead } = q;
    expect(() => quantizedNetworkFromJson(quantizedNetworkToJson(noHead))).toThrow();
  });
});
