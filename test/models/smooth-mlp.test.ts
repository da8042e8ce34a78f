// End to end: a tfjs MLP with tanh and swish (SiLU) hidden layers and a softmax layer compiles on the direct
// backend, proves and verifies; the proven outputs and class are integerForward's, and the float answer agrees.
import { describe, expect, it } from "vitest";
import { tf } from "../../src/models/backend.js";
import { extractNetwork } from "../../src/models/extract-network.js";
import { integerForward } from "../../src/models/integer-forward.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { asZk, TEST_CACHE } from "../fixtures.js";

function mlp() {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 6, activation: "tanh", inputShape: [4] }));
  m.add(tf.layers.dense({ units: 5, activation: "swish" }));
  m.add(tf.layers.activation({ activation: "sigmoid" }));
  m.add(tf.layers.dense({ units: 3 }));
  m.add(tf.layers.softmax());
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  for (const layer of m.layers) {
    const ws = layer.getWeights();
    if (ws.length > 0)
      layer.setWeights(
        ws.map((w) =>
          tf.tensor(
            Array.from({ length: w.size }, () => 3 * rand()),
            w.shape,
          ),
        ),
      );
  }
  const inputs = Array.from({ length: 16 }, () => Array.from({ length: 4 }, () => 2 * rand()));
  return { m, inputs };
}

describe("an MLP with smooth activations", () => {
  it("reads tanh/swish Dense activations, a sigmoid Activation and a softmax layer", () => {
    const net = extractNetwork(mlp().m);
    expect(net.head).toBe("softmax");
    expect(net.layers.map((l) => (l.kind === "activation" ? l.activation : (l.kind ?? "dense")))).toEqual([
      "dense",
      "tanh",
      "dense",
      "swish",
      "sigmoid",
      "dense",
    ]);
  });

  it("compiles, proves and verifies; proven outputs and class equal integerForward's", async () => {
    const { m, inputs } = mlp();
    const pkg = await compileModel(m, { calibration: inputs, cacheDir: TEST_CACHE, quiet: true });
    const x = inputs[3] as number[];
    const receipt = asZk((await verifiableInfer(pkg, x)).receipt);
    expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
    const expected = integerForward(pkg.network, quantizeInput(pkg.network, x));
    expect(receipt.output.quantized.map(BigInt)).toEqual(expected.output);
    expect(receipt.output.class).toBe(expected.class);
    expect(receipt.output.maxAbsError).toBeLessThan(0.1);
  }, 300_000);
});

describe("a Keras Rescaling before the first Dense", () => {
  it("folds into the Dense's weights and bias: the network computes what tfjs computes", async () => {
    const m = tf.sequential();
    m.add(tf.layers.rescaling({ scale: 1 / 255, offset: -0.5, inputShape: [3] }));
    m.add(tf.layers.dense({ units: 2, activation: "sigmoid" }));
    m.add(tf.layers.dense({ units: 2 }));
    const net = extractNetwork(m);
    expect(net.layers.map((l) => l.kind ?? "dense")).toEqual(["dense", "activation", "dense"]);
    const x = [[0, 128, 255]];
    const { runFloat } = await import("../../src/models/run-float.js");
    const { outputs } = await runFloat({ model: net, inputs: x, inputShape: net.inputShape });
    const want = (m.predict(tf.tensor(x)) as tf.Tensor).arraySync() as number[][];
    for (const [j, v] of (outputs[0] ?? []).entries()) expect(v).toBeCloseTo(want[0]?.[j] as number, 5);
  });
});
