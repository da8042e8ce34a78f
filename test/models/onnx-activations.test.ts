// ONNX HardSwish, HardSigmoid with PyTorch's slope (alpha 1/6) and Exp, in a model built here with ONNX's own
// protobuf schema (Gemm → HardSwish → Gemm → HardSigmoid(1/6) → Gemm → Exp → Gemm; the float reference is computed
// in this file from the ops' ONNX definitions, not by an exporter): read as verinfer's own activation layers, the
// float run equals the ONNX definitions, and the model compiles, proves and verifies with proven = integerForward.
import { describe, expect, it } from "vitest";
import { compileModel, isVerinferError, type VerinferError, verifiableInfer, verifyReceipt } from "../../src/index.js";
import { tf } from "../../src/models/backend.js";
import { extractNetwork } from "../../src/models/extract-network.js";
import { integerForward } from "../../src/models/integer-forward.js";
import { onnxModelType } from "../../src/models/onnx/decode-onnx.js";
import { loadOnnxModel } from "../../src/models/onnx/load-onnx-model.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import { errorOf, TEST_CACHE } from "../fixtures.js";

type Attr = { name: string; type: number; f?: number };
const W1 = [0.5, -0.25, 0.75, 0.5, -0.5, 1, 0.25, -1, 0.5]; // [3][3] as Gemm B (in × out)
const W2 = [1, -0.5, 0.25, 0.5, -0.75, 1, 0.5, 0.25, -0.5];
const W3 = [0.5, 0.25, -0.5, 0.75, 0.25, -0.25, 1, 0.5, 0.5];
const W4 = [1, -1, 0.5, 0.5, -0.25, 1];
const B = [0.1, -0.2, 0.05];

function onnxBytes(hardSigmoid: Attr[] = [{ name: "alpha", type: 1, f: 1 / 6 }], opset = 14): Uint8Array {
  const type = onnxModelType();
  const gemm = (i: number, x: string, y: string) => ({
    name: `gemm${i}`,
    opType: "Gemm",
    input: [x, `w${i}`, ...(i < 4 ? [`b${i}`] : [])],
    output: [y],
  });
  const init = (name: string, dims: number[], floatData: number[]) => ({ name, dataType: 1, dims, floatData });
  return type
    .encode(
      type.fromObject({
        irVersion: 8,
        opsetImport: [{ domain: "", version: opset }],
        graph: {
          name: "g",
          node: [
            gemm(1, "x", "h1"),
            { name: "hswish", opType: "HardSwish", input: ["h1"], output: ["a1"] },
            gemm(2, "a1", "h2"),
            { name: "hsig", opType: "HardSigmoid", input: ["h2"], output: ["a2"], attribute: hardSigmoid },
            gemm(3, "a2", "h3"),
            { name: "exp", opType: "Exp", input: ["h3"], output: ["a3"] },
            gemm(4, "a3", "y"),
          ],
          initializer: [
            init("w1", [3, 3], W1),
            init("b1", [3], B),
            init("w2", [3, 3], W2),
            init("b2", [3], B),
            init("w3", [3, 3], W3),
            init("b3", [3], B),
            init("w4", [3, 2], W4),
          ],
          input: [
            { name: "x", type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "N" }, { dimValue: 3 }] } } } },
          ],
          output: [{ name: "y", type: { tensorType: { elemType: 1 } } }],
        },
      }),
    )
    .finish();
}

/** The model by the ONNX operator definitions. */
function reference(x: readonly number[]): number[] {
  const gemm = (v: readonly number[], w: readonly number[], nOut: number, bias?: readonly number[]) =>
    Array.from({ length: nOut }, (_, j) =>
      v.reduce((s, vi, i) => s + vi * (w[i * nOut + j] as number), bias?.[j] ?? 0),
    );
  const hswish = (v: number) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6;
  const hsig = (v: number) => Math.min(Math.max(v / 6 + 0.5, 0), 1);
  const a1 = gemm(x, W1, 3, B).map(hswish);
  const a2 = gemm(a1, W2, 3, B).map(hsig);
  const a3 = gemm(a2, W3, 3, B).map(Math.exp);
  return gemm(a3, W4, 2);
}

const inputs = [
  [1, -2, 0.5],
  [-1.5, 0.25, 2],
  [0.3, 0.7, -0.9],
  [2.5, 1.5, -2.5],
  [-3, -1, 1],
  [0, 0, 0],
];

describe("ONNX HardSwish, HardSigmoid (PyTorch's 1/6) and Exp", () => {
  it("reads them as the activations written, runs them as ONNX defines them, and proves the model", async () => {
    const model = await loadOnnxModel(onnxBytes());
    const net = extractNetwork(model);
    expect(net.layers.flatMap((l) => (l.kind === "activation" ? [[l.activation, l.alpha]] : []))).toEqual([
      ["hardSwish", undefined],
      ["hardSigmoid", Math.fround(1 / 6)],
      ["exp", undefined],
    ]);
    const y = (model.predict(tf.tensor(inputs)) as tf.Tensor).arraySync() as number[][];
    for (const [i, x] of inputs.entries())
      for (const [j, v] of reference(x).entries()) expect(y[i]?.[j]).toBeCloseTo(v, 4);
    const pkg = await compileModel(model, { calibration: inputs, cacheDir: TEST_CACHE, quiet: true });
    const x = inputs[1] as number[];
    const { receipt } = await verifiableInfer(pkg, x);
    expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
    expect(receipt.output.quantized.map(BigInt)).toEqual(
      integerForward(pkg.network, quantizeInput(pkg.network, x)).output,
    );
    expect(receipt.output.maxAbsError).toBeLessThan(0.1);
  }, 300_000);

  it("refuses HardSwish in a model of opset 13, where the op does not exist, saying so", async () => {
    const e = await errorOf(loadOnnxModel(onnxBytes(undefined, 13)));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    const nodes = (e as VerinferError).meta?.nodes as Array<{ name: string; opType: string; reason: string }>;
    expect(nodes.map((n) => [n.name, n.opType])).toEqual([["hswish", "HardSwish"]]);
    expect(nodes[0]?.reason).toMatch(/opset 14/);
  });

  it("reads a HardSigmoid stating ONNX's default offset as the one spelling: no beta", async () => {
    const stated = extractNetwork(
      await loadOnnxModel(
        onnxBytes([
          { name: "alpha", type: 1, f: 1 / 6 },
          { name: "beta", type: 1, f: 0.5 },
        ]),
      ),
    );
    const implied = extractNetwork(await loadOnnxModel(onnxBytes()));
    const hsig = (n: typeof stated) => n.layers.find((l) => l.kind === "activation" && l.activation === "hardSigmoid");
    expect(hsig(stated)).toEqual({
      kind: "activation",
      name: "hsig",
      activation: "hardSigmoid",
      alpha: Math.fround(1 / 6),
    });
    expect(stated).toEqual(implied);
  });

  it("refuses a HardSigmoid with a non-positive slope at import, naming it", async () => {
    const e = await errorOf(loadOnnxModel(onnxBytes([{ name: "alpha", type: 1, f: -0.5 }])));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    expect(String((e as Error).message)).toContain("hsig");
  });

  it("reads a model ending in Sigmoid on one logit as a binary classifier: the sign head", async () => {
    const type = onnxModelType();
    const bytes = type
      .encode(
        type.fromObject({
          irVersion: 8,
          opsetImport: [{ domain: "", version: 13 }],
          graph: {
            name: "g",
            node: [
              { name: "gemm", opType: "Gemm", input: ["x", "w"], output: ["z"] },
              { name: "p", opType: "Sigmoid", input: ["z"], output: ["y"] },
            ],
            initializer: [{ name: "w", dataType: 1, dims: [3, 1], floatData: [1, -1, 0.5] }],
            input: [
              {
                name: "x",
                type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "N" }, { dimValue: 3 }] } } },
              },
            ],
            output: [{ name: "y", type: { tensorType: { elemType: 1 } } }],
          },
        }),
      )
      .finish();
    const net = extractNetwork(await loadOnnxModel(bytes));
    const q = quantizeNetwork(net, { calibration: inputs });
    expect(q.head).toEqual({ kind: "sign" });
    for (const x of inputs) {
      const z = (x[0] as number) - (x[1] as number) + 0.5 * (x[2] as number);
      if (Math.abs(z) > 0.05) expect(integerForward(q, quantizeInput(q, x)).class).toBe(z >= 0 ? 1 : 0);
    }
  });
});
