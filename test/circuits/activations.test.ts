// ReLU6 and LeakyReLU (slope 2^-k) from a tfjs model to a verified receipt: what the tfjs loader accepts and
// refuses, that the proven outputs are integerForward's and close to tfjs's float ones, that the activation and its
// slope are bound by the model id, and that a receipt's outputs cannot be swapped for another activation's.
import { describe, expect, it } from "vitest";
import { modelCommitment } from "../../src/attest/model-commitment.js";
import { isVerinferError } from "../../src/errors.js";
import { compileModel, verifiableInfer, verifyReceipt } from "../../src/index.js";
import { tf } from "../../src/models/backend.js";
import { extractNetwork } from "../../src/models/extract-network.js";
import { dequantizeOutput, integerForward } from "../../src/models/integer-forward.js";
import type { QuantizedRescale } from "../../src/models/layers/rescale.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import { runFloat } from "../../src/models/run-float.js";
import { asZk, TEST_CACHE } from "../fixtures.js";

/** 6 inputs → Dense 5 relu6 → LeakyReLU(1/4) after a linear Dense 4 → ReLU(maxValue 6) after Dense 3. */
function model(alpha = 0.25) {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({
        name: "d1",
        inputShape: [6],
        units: 5,
        activation: "relu6",
        kernelInitializer: "glorotUniform",
      }),
      tf.layers.dense({ name: "d2", units: 4, activation: "linear" }),
      tf.layers.leakyReLU({ name: "leaky", alpha }),
      tf.layers.dense({ name: "d3", units: 3 }),
      tf.layers.reLU({ name: "clip", maxValue: 6 }),
    ],
  });
  // Weights large enough that relu6 clamps and the leak sees negative values on the calibration set.
  m.layers.forEach((layer, l) => {
    const w = layer.getWeights();
    if (w.length === 0) return;
    const [k, b] = w as [import("@tensorflow/tfjs").Tensor, import("@tensorflow/tfjs").Tensor];
    const kv = (k.arraySync() as number[][]).map((r, i) => r.map((_v, j) => (((i * 7 + j * 3 + l) % 9) - 4) * 0.4));
    layer.setWeights([tf.tensor2d(kv), tf.zerosLike(b)]);
  });
  return m;
}

const calibration = Array.from({ length: 24 }, (_, s) =>
  Array.from({ length: 6 }, (_, i) => (((s * 5 + i * 11) % 17) - 8) / 4),
);

describe("ReLU6 and LeakyReLU in tfjs models", () => {
  it("reads relu6 activations, ReLU(maxValue 6) and LeakyReLU(2^-k) into the IR", () => {
    const net = extractNetwork(model());
    expect(net.layers.map((l) => [l.kind ?? "dense", "activation" in l ? l.activation : undefined])).toEqual([
      ["dense", "relu6"],
      ["dense", "linear"],
      ["activation", "leakyRelu"],
      ["dense", "linear"],
      ["activation", "relu6"],
    ]);
    expect(net.layers[2]).toMatchObject({ alpha: 0.25 });
  });

  it("refuses slopes that are not powers of two and ReLU ceilings other than 6, naming every layer", () => {
    const m = tf.sequential({
      layers: [
        tf.layers.dense({ name: "a", inputShape: [3], units: 2 }),
        tf.layers.leakyReLU({ name: "keras_default" }), // alpha 0.3
        tf.layers.reLU({ name: "clip5", maxValue: 5 }),
        tf.layers.dense({ name: "b", units: 2 }),
        tf.layers.leakyReLU({ name: "tiny", alpha: 2 ** -20 }),
      ],
    });
    let error: unknown;
    try {
      extractNetwork(m);
    } catch (e) {
      error = e;
    }
    expect(isVerinferError(error, "UNSUPPORTED_LAYER")).toBe(true);
    const names = ((error as { meta: { unsupported: { layer: string }[] } }).meta.unsupported ?? []).map(
      (u) => u.layer,
    );
    expect(names).toEqual(["keras_default", "clip5", "tiny"]);
    expect((error as Error).message).toContain("slope 0.3");
  });

  it("quantizes them so that the integer outputs follow the float ones, with relu6 clamping and the leak taken", async () => {
    const m = model();
    const net = extractNetwork(m);
    // 12-bit inputs and weights, 20-bit activations: the test is about the activations' semantics, not 8-bit precision.
    const qnet = quantizeNetwork(net, { calibration, inputBits: 12, weightBits: 12, activationBits: 20 });
    const rescales = qnet.layers.filter((l): l is QuantizedRescale => l.kind === "rescale");
    expect(rescales.map((r) => [r.activation, r.leakShift])).toEqual([
      ["relu6", undefined],
      ["leakyRelu", 2],
      ["relu6", undefined],
    ]);
    const float = (await runFloat({ model: m, inputs: calibration, inputShape: [6] })).outputs;
    const leakAt = qnet.layers.findIndex((l) => l.kind === "rescale" && l.activation === "leakyRelu");
    let clamped = 0;
    let leaked = 0;
    for (const [s, x] of calibration.entries()) {
      const trace = integerForward(qnet, quantizeInput(qnet, x));
      if ((trace.layerOutputs[leakAt] as bigint[]).some((v) => v < 0n)) leaked++;
      const y = dequantizeOutput(qnet, trace.output);
      const f = float[s] as number[];
      for (const [j, v] of y.entries()) {
        expect(Math.abs(v - (f[j] as number)), `sample ${s} unit ${j}`).toBeLessThan(0.01);
      }
      if (f.some((v) => v === 6)) clamped++;
    }
    expect(clamped).toBeGreaterThan(0);
    expect(leaked).toBeGreaterThan(0);
  });

  it("binds the activation and the slope in the model id", async () => {
    const net = extractNetwork(model());
    const ids = new Set<bigint>();
    for (const alpha of [0.25, 0.5]) {
      const n = structuredClone(net);
      (n.layers[2] as { alpha?: number }).alpha = alpha;
      ids.add(await modelCommitment(quantizeNetwork(n, { calibration })));
    }
    const relu = structuredClone(net);
    relu.layers[2] = { kind: "activation", name: "leaky", activation: "relu" };
    ids.add(await modelCommitment(quantizeNetwork(relu, { calibration })));
    // Same weights, same scales: only the activation descriptor differs.
    expect(ids.size).toBe(3);
  });

  it("proves them: the receipt's outputs are integerForward's, verify, and an output changed is refused", async () => {
    const m = model();
    const pkg = await compileModel(m, { calibration, cacheDir: TEST_CACHE, quiet: true });
    const x = calibration[3] as number[];
    const { receipt } = await verifiableInfer(pkg, x);
    const zk = asZk(receipt);
    const expected = integerForward(pkg.network, quantizeInput(pkg.network, x)).output;
    expect(zk.output.quantized.map(BigInt)).toEqual(expected);
    expect(await verifyReceipt(zk, { modelPackage: pkg })).toMatchObject({ valid: true });
    const forged = structuredClone(zk);
    forged.output.quantized[0] = String(BigInt(forged.output.quantized[0] as string) + 1n);
    expect((await verifyReceipt(forged, { modelPackage: pkg })).valid).toBe(false);
    console.log(`relu6 + leaky MLP: ${pkg.manifest.circuit.constraints} constraints`);
  });
});
