// ONNX models with smooth activations, a LogSoftmax head and an in-graph input normalization, exported by PyTorch
// 1.13 (test/fixtures/onnx/make-fixtures.py; goldens are PyTorch's own outputs): GELU's Erf subgraph and SiLU's
// Sigmoid·x are read as the activations the user wrote, (x − mean) / std folds into the first Gemm, the float run
// matches PyTorch, and the LogSoftmax model proves and verifies with the proven class = argmax of the proven logits.
import { readFileSync } from "node:fs";
import path from "node:path";
import type * as tfTypes from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { compileModel, isVerinferError, verifiableInfer, verifyReceipt } from "../../src/index.js";
import { tf } from "../../src/models/backend.js";
import { extractNetwork } from "../../src/models/extract-network.js";
import { integerForward } from "../../src/models/integer-forward.js";
import { onnxModelType } from "../../src/models/onnx/decode-onnx.js";
import { loadOnnxModel } from "../../src/models/onnx/load-onnx-model.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import { errorOf, ROOT, TEST_CACHE } from "../fixtures.js";

const FIXTURES = path.join(ROOT, "test", "fixtures", "onnx");
const golden = (name: string) =>
  JSON.parse(readFileSync(path.join(FIXTURES, `${name}.golden.json`), "utf8")) as {
    inputs: number[][];
    golden: { outputs: number[][] };
  };

function predict(model: tfTypes.LayersModel, inputs: number[][]): number[][] {
  const y = model.predict(tf.tensor(inputs)) as tfTypes.Tensor;
  const out = y.arraySync() as number[][];
  y.dispose();
  return out;
}
const maxDiff = (a: number[][], b: number[][]) =>
  Math.max(...a.flatMap((r, i) => r.map((v, j) => Math.abs(v - (b[i]?.[j] as number)))));
const argmax = (r: number[]) => r.indexOf(Math.max(...r));

describe("ONNX smooth activations and heads", () => {
  it("reads GELU (Erf subgraph), SiLU (Sigmoid·x), Tanh, Sigmoid, Softplus and a LogSoftmax head as PyTorch runs them", async () => {
    const g = golden("smooth-mlp-opset13");
    const model = await loadOnnxModel(path.join(FIXTURES, "smooth-mlp-opset13.onnx"));
    const net = extractNetwork(model);
    expect(net.head).toBe("softmax");
    expect(net.layers.flatMap((l) => (l.kind === "activation" ? [l.activation] : []))).toEqual([
      "gelu",
      "swish",
      "tanh",
      "sigmoid",
      "softplus",
    ]);
    // The head's float output is the softmax; PyTorch's is its log.
    const logProbs = predict(model, g.inputs).map((r) => r.map(Math.log));
    expect(maxDiff(logProbs, g.golden.outputs)).toBeLessThan(1e-4);
    const pkg = await compileModel(model, { calibration: g.inputs, cacheDir: TEST_CACHE, quiet: true });
    const x = g.inputs[1] as number[];
    const { receipt } = await verifiableInfer(pkg, x);
    expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
    const expected = integerForward(pkg.network, quantizeInput(pkg.network, x));
    expect(receipt.output.quantized.map(BigInt)).toEqual(expected.output);
    expect(receipt.output.class).toBe(expected.class);
    expect(receipt.output.class).toBe(argmax(g.golden.outputs[1] as number[]));
  }, 300_000);

  it("folds an input normalization (x − mean) / std into the first Gemm", async () => {
    const g = golden("norm-mlp-opset13");
    const model = await loadOnnxModel(path.join(FIXTURES, "norm-mlp-opset13.onnx"));
    expect(model.layers.map((l) => l.getClassName()).filter((c) => c !== "InputLayer")).toEqual(["Dense", "Dense"]);
    expect(maxDiff(predict(model, g.inputs), g.golden.outputs)).toBeLessThan(1e-4);
  });
});

function onnxBytes(nodes: object[], initializers: object[]): Uint8Array {
  const type = onnxModelType();
  const model = {
    irVersion: 8,
    producerName: "verinfer-test",
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: "g",
      node: nodes,
      initializer: initializers.map((t) => ({ ...t, dataType: 1 })),
      input: [
        { name: "x", type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "N" }, { dimValue: 2 }] } } } },
      ],
      output: [{ name: "y", type: { tensorType: { elemType: 1 } } }],
    },
  };
  return type.encode(type.fromObject(model)).finish();
}

describe("ONNX smooth-activation refusals", () => {
  it("names an Erf outside a GELU and a HardSigmoid of negative slope, both at once (PyTorch's 1/6 is proven)", async () => {
    const bytes = onnxBytes(
      [
        { name: "mm", opType: "MatMul", input: ["x", "w"], output: ["h"] },
        { name: "lonely_erf", opType: "Erf", input: ["h"], output: ["e"] },
        {
          name: "hs",
          opType: "HardSigmoid",
          input: ["e"],
          output: ["y"],
          attribute: [{ name: "alpha", type: 1, f: -1 / 6 }],
        },
      ],
      [{ name: "w", dims: [2, 2], floatData: [1, 0, 0, 1] }],
    );
    const e = await errorOf(loadOnnxModel(bytes));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    const nodes = (e as { meta?: { nodes?: { name: string; opType: string }[] } }).meta?.nodes ?? [];
    expect(nodes.map((n) => `${n.name}:${n.opType}`)).toEqual(["lonely_erf:Erf", "hs:HardSigmoid"]);
  });

  it("refuses a division of a constant by the input (not affine)", async () => {
    const bytes = onnxBytes(
      [
        { name: "inv", opType: "Div", input: ["one", "x"], output: ["r"] },
        { name: "mm", opType: "MatMul", input: ["r", "w"], output: ["y"] },
      ],
      [
        { name: "one", dims: [], floatData: [1] },
        { name: "w", dims: [2, 2], floatData: [1, 0, 0, 1] },
      ],
    );
    const e = await errorOf(loadOnnxModel(bytes));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
  });
});
