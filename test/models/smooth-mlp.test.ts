// End to end: a tfjs MLP with tanh and swish (SiLU) hidden layers and a softmax layer compiles on the direct
// backend, proves and verifies; the proven outputs and class are integerForward's, and the float answer agrees.
import { describe, expect, it } from "vitest";
import {
  modelCommitmentOf,
  modelIdFromCommitment,
  modelIo,
  networkCommitment,
} from "../../src/attest/model-commitment.js";
import { isVerinferError } from "../../src/errors.js";
import { tf } from "../../src/models/backend.js";
import { extractNetwork } from "../../src/models/extract-network.js";
import { integerForward } from "../../src/models/integer-forward.js";
import { smoothFunction, type TabledActivation } from "../../src/models/layers/piecewise.js";
import { type ActivationLayer, type Network, networkShapes } from "../../src/models/network.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import { runFloat, toTfModel } from "../../src/models/run-float.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { quantizeModel } from "../../src/pipeline/quantize-model.js";
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

describe("activations tfjs has no layer for: hardSwish, exp, a hardSigmoid of any slope", () => {
  const net = (a: ActivationLayer): Network => ({
    inputShape: [2],
    inputSize: 2,
    layers: [
      {
        name: "d",
        units: 2,
        activation: "linear",
        kernel: [
          [1, -0.5],
          [0.5, 1],
        ],
        bias: [0.25, -0.1],
      },
      a,
      { name: "o", units: 1, activation: "linear", kernel: [[1], [-1]], bias: [0] },
    ],
  });
  const inputs = [
    [1.5, -2],
    [-2.5, 0.75],
    [0.3, 1.2],
    [2, 2],
  ];
  const cases: ActivationLayer[] = [
    { kind: "activation", name: "hs", activation: "hardSwish" },
    { kind: "activation", name: "e", activation: "exp" },
    { kind: "activation", name: "hsig", activation: "hardSigmoid", alpha: 1 / 6, beta: 0.5 },
  ];
  for (const a of cases) {
    it(`${a.activation}${a.alpha ? " (1/6)" : ""}: the float run is the function, a tfjs model of it reads back, the proven output is near`, async () => {
      const n = net(a);
      const fn = smoothFunction(a.activation as TabledActivation, a);
      const { outputs } = await runFloat({ model: n, inputs, inputShape: n.inputShape });
      for (const [i, [x0, x1]] of inputs.entries()) {
        const h0 = (x0 as number) + (x1 as number) * 0.5 + 0.25;
        const h1 = (x0 as number) * -0.5 + (x1 as number) - 0.1;
        expect(outputs[i]?.[0]).toBeCloseTo(fn(h0) - fn(h1), 5);
      }
      // The tfjs model runFloat built holds verinfer's own layer: it reads back as the same activation.
      expect(extractNetwork(toTfModel(n)).layers.find((l) => l.kind === "activation")).toMatchObject({
        kind: "activation",
        activation: a.activation,
        ...(a.alpha ? { alpha: a.alpha } : {}),
      });
      const q = quantizeNetwork(n, { calibration: inputs });
      const rescale = q.layers.find((l) => l.kind === "rescale" && l.activation === a.activation);
      expect(rescale).toBeDefined();
      for (const [i, x] of inputs.entries()) {
        const y = integerForward(q, quantizeInput(q, x)).output[0] as bigint;
        expect(Math.abs(Number(y) / 2 ** q.outputFracBits - (outputs[i]?.[0] as number))).toBeLessThan(
          a.activation === "exp" ? 0.1 : 0.05,
        );
      }
    });
  }
  it("a hardSigmoid stating its default slope or offset is one float network and one model id, however given", async () => {
    const spellings: ActivationLayer[] = [
      { kind: "activation", name: "hsig", activation: "hardSigmoid" },
      { kind: "activation", name: "hsig", activation: "hardSigmoid", alpha: 0.2, beta: 0.5 },
      { kind: "activation", name: "hsig", activation: "hardSigmoid", alpha: 0.2 },
      { kind: "activation", name: "hsig", activation: "hardSigmoid", beta: 0.5 },
    ];
    const idOf = async (model: Network | ReturnType<typeof toTfModel>) => {
      const { float, network } = await quantizeModel(model, { calibration: inputs });
      const commitment = await modelCommitmentOf({ io: modelIo(network), network: await networkCommitment(network) });
      return { float, id: modelIdFromCommitment(commitment) };
    };
    const [plain, ...others] = await Promise.all(spellings.map((a) => idOf(net(a))));
    for (const other of others) expect(other).toEqual(plain);
    // Through a tfjs model (verinfer's own layer states both parameters) the import gives the one spelling too.
    const viaTfjs = await Promise.all(
      [spellings[0], spellings[1]].map((a) => idOf(toTfModel(net(a as ActivationLayer)))),
    );
    expect(viaTfjs[1]?.id).toBe(viaTfjs[0]?.id);
    const imported = viaTfjs[1]?.float.layers.find((l) => l.kind === "activation");
    expect(imported).toMatchObject({ kind: "activation", activation: "hardSigmoid" });
    expect(imported).not.toHaveProperty("alpha");
    expect(imported).not.toHaveProperty("beta");
    // A slope of its own keeps it; the default offset beside it is left out.
    const sixth = await idOf(
      net({ kind: "activation", name: "hsig", activation: "hardSigmoid", alpha: 1 / 6, beta: 0.5 }),
    );
    expect(sixth.float.layers[1]).toEqual({
      kind: "activation",
      name: "hsig",
      activation: "hardSigmoid",
      alpha: 1 / 6,
    });
  });

  it("refuses a hardSigmoid whose slope is not positive", () => {
    let error: unknown;
    try {
      networkShapes(net({ kind: "activation", name: "h", activation: "hardSigmoid", alpha: -1 }));
    } catch (e) {
      error = e;
    }
    expect(isVerinferError(error, "UNSUPPORTED_LAYER")).toBe(true);
  });
});
