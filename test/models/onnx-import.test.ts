import { readFileSync } from "node:fs";
import { copyFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type * as tfTypes from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { compileModel, isVerinferError, loadModel, verifiableInfer, verifyReceipt } from "../../src/index.js";
import { tf } from "../../src/models/backend.js";
import { extractNetwork } from "../../src/models/extract-network.js";
import { onnxModelType } from "../../src/models/onnx/decode-onnx.js";
import { loadOnnxModel } from "../../src/models/onnx/load-onnx-model.js";
import { nchwToHwc } from "../../src/models/onnx/nchw-to-hwc.js";
import { errorOf, ROOT, runCli, TEST_CACHE, tempDirs } from "../fixtures.js";

const tmp = tempDirs("verinfer-onnx-");
const FIXTURES = path.join(ROOT, "test", "fixtures", "onnx");
const fixture = (name: string) => path.join(FIXTURES, `${name}.onnx`);

/** A fixture's golden file: seeded inputs (ONNX layout) and onnxruntime's outputs for them. */
interface Golden {
  fixture: string;
  opset: number;
  inputShape: number[];
  inputs: number[][];
  golden: { producer: string; outputs: number[][] };
}
const golden = (name: string): Golden =>
  JSON.parse(readFileSync(path.join(FIXTURES, `${name}.golden.json`), "utf8")) as Golden;

/** The tfjs input of an ONNX-layout sample: CHW → HWC for images, unchanged for vectors. */
function toTfjsInput(g: Golden, x: number[]): Float32Array {
  const s = g.inputShape;
  return s.length === 3 ? nchwToHwc({ data: x, shape: s as [number, number, number] }) : Float32Array.from(x);
}

function predict(model: tfTypes.LayersModel, g: Golden): number[][] {
  const shape = model.inputs[0]?.shape.slice(1) as number[];
  const flat = g.inputs.flatMap((x) => Array.from(toTfjsInput(g, x)));
  const x = tf.tensor(flat, [g.inputs.length, ...shape]);
  const y = model.predict(x) as tfTypes.Tensor;
  const out = y.arraySync() as number[][];
  x.dispose();
  y.dispose();
  return out;
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  a.forEach((row, i) => {
    expect(row.length).toBe(b[i]?.length);
    row.forEach((v, j) => {
      m = Math.max(m, Math.abs(v - (b[i]?.[j] as number)));
    });
  });
  return m;
}

/** The class names of a model's layers, without its InputLayer. */
const layerClasses = (model: tfTypes.LayersModel) =>
  model.layers.map((l) => l.getClassName()).filter((c) => c !== "InputLayer");

const unsupportedNodes = (e: unknown) =>
  ((e as { meta?: { nodes?: { name: string; opType: string }[] } }).meta?.nodes ?? []).map(
    (n) => `${n.name}:${n.opType}`,
  );

describe("ONNX import: float inference matches onnxruntime", () => {
  const cases: [string, string][] = [
    ["mlp-opset11", "Gemm + Relu"],
    ["cnn-opset11", "Conv + Relu + MaxPool + x.view(n, -1) shape arithmetic + Gemm, 3 input channels"],
    ["cnn-opset17", "the same network at opset 17"],
    ["bn-dropout-opset13", "Conv + BatchNormalization + AveragePool + Dropout + Identity + GlobalAveragePool + BN1d"],
    ["bn-folded-opset13", "the same network with BatchNormalization folded into Conv by the exporter"],
    ["softmax-opset9", "Flatten of NCHW + Clip(min 0) as ReLU + Softmax at opset 9"],
    ["padded-opset11", "Pad as 'same' and asymmetric Pad (ZeroPadding2D), pads computed by a constant subgraph"],
    ["padded-opset9", "the same with Pad's attributes (opset 9) and a fixed batch of 1"],
    ["pad-opset18", "Pad with the opset-18 axes input"],
    ["tiny-cnn-opset13", "Conv + Relu + MaxPool + view + Gemm, small enough to prove"],
    ["relu6-opset12", "Gemm + Clip(0, 6) as ReLU6"],
    ["leaky-cnn-opset13", "Conv + LeakyRelu(1/8) + AveragePool + Gemm + Relu + Clip(0, 6)"],
  ];
  for (const [name, what] of cases) {
    it(`runs ${name} (${what}) within 1e-5 of onnxruntime`, async () => {
      const g = golden(name);
      const model = await loadOnnxModel(fixture(name));
      expect(maxAbsDiff(predict(model, g), g.golden.outputs)).toBeLessThan(1e-5);
      model.dispose();
    });
  }

  it("accepts the bytes of an .onnx file as well as its path", async () => {
    const g = golden("mlp-opset11");
    const model = await loadOnnxModel(new Uint8Array(readFileSync(fixture("mlp-opset11"))));
    expect(maxAbsDiff(predict(model, g), g.golden.outputs)).toBeLessThan(1e-5);
  });

  it("gives the imported CNN an HWC input and keeps ONNX's flatten order (the Dense rows are permuted)", async () => {
    const model = await loadOnnxModel(fixture("cnn-opset17"));
    expect(model.inputs[0]?.shape).toEqual([null, 10, 10, 3]);
    expect(layerClasses(model)).toEqual(["Conv2D", "MaxPooling2D", "Conv2D", "Flatten", "Dense"]);
    // Feeding the CHW values unconverted gives other outputs: the layout adapter matters for 3 channels.
    const g = golden("cnn-opset17");
    const raw = tf.tensor(g.inputs.flat(), [g.inputs.length, 10, 10, 3]);
    const y = (model.predict(raw) as tfTypes.Tensor).arraySync() as number[][];
    expect(maxAbsDiff(y, g.golden.outputs)).toBeGreaterThan(1e-3);
  });

  it("folds a symmetric Pad into the Conv as 'same' and keeps an asymmetric one as ZeroPadding2D", async () => {
    const model = await loadOnnxModel(fixture("padded-opset11"));
    expect(layerClasses(model)).toEqual(["Conv2D", "ZeroPadding2D", "Conv2D", "Permute", "Flatten"]);
    expect(model.layers.find((l) => l.getClassName() === "Conv2D")?.getConfig().padding).toBe("same");
  });

  it("keeps BatchNormalization as a tfjs layer with the ONNX statistics and drops Dropout and Identity", async () => {
    const model = await loadOnnxModel(fixture("bn-dropout-opset13"));
    const classes = layerClasses(model);
    expect(classes.filter((c) => c === "BatchNormalization")).toHaveLength(3);
    expect(classes).not.toContain("Dropout");
  });

  it("ends a Softmax model in a softmax Dense", async () => {
    const model = await loadOnnxModel(fixture("softmax-opset9"));
    const last = model.layers[model.layers.length - 1];
    expect(last?.getClassName()).toBe("Dense");
    expect(last?.getConfig().activation).toBe("softmax");
  });

  it("loads .onnx paths through loadModel", async () => {
    const g = golden("mlp-opset11");
    const model = await loadModel(fixture("mlp-opset11"));
    expect(maxAbsDiff(predict(model, g), g.golden.outputs)).toBeLessThan(1e-5);
  });
});

describe("ONNX import: refusals", () => {
  it("names every unsupported node, with its op type, before building anything", async () => {
    // unsupported-opset13's Sigmoid, Tanh and grouped Conv are all proven since issue 21: it now imports.
    await expect(loadOnnxModel(fixture("unsupported-opset13"))).resolves.toBeDefined();
    const bytes = onnxBytes({
      opset: 13,
      nodes: [
        { name: "mm", opType: "MatMul", input: ["x", "w"], output: ["h"] },
        { name: "elu", opType: "Elu", input: ["h"], output: ["a"] },
        { name: "selu", opType: "Selu", input: ["a"], output: ["y"] },
      ],
      initializers: [W],
    });
    const e = await errorOf(loadOnnxModel(bytes));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    expect(unsupportedNodes(e)).toEqual(["elu:Elu", "selu:Selu"]);
  });

  it("refuses a LeakyRelu whose slope is not a power of two (PyTorch's default 0.01), naming the slope", async () => {
    const e = await errorOf(loadOnnxModel(fixture("leaky-default-opset13")));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    expect(unsupportedNodes(e)).toEqual(["/act/LeakyRelu:LeakyRelu"]);
    expect((e as Error).message).toMatch(/slope 0\.0099\d* is not proven/);
    expect((e as { details?: string }).details).toMatch(/graphs with Add\/Concat\/Mul merges/);
  });

  it("imports a conv padded as much as its kernel in float, and refuses to prove it, naming the pads", async () => {
    for (const name of ["padded-opset11", "padded-opset9"]) {
      const model = await loadOnnxModel(fixture(name));
      // ZeroPad2d((0, 1, 2, 0)) then a 2×2 stride-2 Conv: the first output row's window is two rows of padding.
      const e = await errorOf((async () => extractNetwork(model))());
      expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
      // Two refusals: the conv's pads, and the Permute of the CHW flatten that ends the model.
      expect((e as Error).message).toMatch(
        /"onnx_conv2_Conv" \(Conv2D\) pads 2\/0 × 0\/1 for a 2×2 kernel, so an output window reads padding only/,
      );
      expect((e as Error).message).toMatch(/\(Permute\) is not supported: the integer network has no transpose/);
      model.dispose();
    }
  });

  it("imports an output Flatten of NCHW (pad-opset18) in float, and refuses the Permute it needs for proving", async () => {
    const model = await loadOnnxModel(fixture("pad-opset18"));
    expect(layerClasses(model)).toEqual(["Conv2D", "Permute", "Flatten"]);
    const e = await errorOf((async () => extractNetwork(model))());
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    expect((e as Error).message).toMatch(/\(Permute\) is not supported: the integer network has no transpose layer/);
    model.dispose();
  });

  it("refuses Clip bounds other than (0, ∞) and (0, 6)", async () => {
    const bytes = onnxBytes({
      opset: 13,
      nodes: [
        { name: "mm", opType: "MatMul", input: ["x", "w"], output: ["h"] },
        { name: "clip", opType: "Clip", input: ["h", "lo", "hi"], output: ["y"] },
      ],
      initializers: [W, { name: "lo", dims: [], floatData: [0] }, { name: "hi", dims: [], floatData: [5] }],
    });
    const e = await errorOf(loadOnnxModel(bytes));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    expect(unsupportedNodes(e)).toEqual(["clip:Clip"]);
  });

  it("throws a typed error for a truncated file, at every cut", async () => {
    const bytes = readFileSync(fixture("cnn-opset11"));
    for (const cut of [1, 7, 64, 500, 1000, 2000, 3000, 4000, bytes.length - 1]) {
      const e = await errorOf(loadOnnxModel(new Uint8Array(bytes.subarray(0, cut))));
      expect(isVerinferError(e, "ARTIFACT_CORRUPT") || isVerinferError(e, "INVALID_MODEL"), `cut at ${cut}: ${e}`).toBe(
        true,
      );
    }
  });

  it("throws ARTIFACT_CORRUPT for bytes that are not a protobuf", async () => {
    const e = await errorOf(loadOnnxModel(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])));
    expect(isVerinferError(e, "ARTIFACT_CORRUPT")).toBe(true);
  });

  it("throws a typed error when bytes inside the file are flipped", async () => {
    const bytes = new Uint8Array(readFileSync(fixture("cnn-opset11")));
    for (let i = 0; i < 40; i++) {
      const corrupt = bytes.slice();
      const at = (i * 127) % corrupt.length;
      corrupt[at] = (corrupt[at] as number) ^ 0xa5;
      const result = await loadOnnxModel(corrupt).then(
        (m) => {
          m.dispose();
          return "loaded";
        },
        (e: unknown) => e,
      );
      // A flip inside a weight's bytes still decodes to a valid (different) model; anything else is typed.
      if (result !== "loaded") expect(isVerinferError(result), `flip at ${at}: ${String(result)}`).toBe(true);
    }
  });

  it("never throws anything but a VerinferError on randomly corrupted fixtures (seeded fuzz)", async () => {
    const names = ["mlp-opset11", "cnn-opset17", "bn-dropout-opset13", "padded-opset11", "softmax-opset9"];
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let typed = 0;
    for (let i = 0; i < 250; i++) {
      const bytes = new Uint8Array(readFileSync(fixture(names[i % names.length] as string)));
      for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) {
        bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      }
      const result = await loadOnnxModel(bytes).then(
        (m) => {
          m.dispose();
          return "loaded";
        },
        (e: unknown) => e,
      );
      if (result !== "loaded") {
        expect(isVerinferError(result), String(result)).toBe(true);
        typed++;
      }
    }
    expect(typed).toBeGreaterThan(0);
  });

  it("rejects an NCHW sample whose length does not match its shape", () => {
    let error: unknown;
    try {
      nchwToHwc({ data: [1, 2, 3], shape: [1, 2, 2] });
    } catch (e) {
      error = e;
    }
    expect(isVerinferError(error, "INVALID_INPUT")).toBe(true);
    expect(Array.from(nchwToHwc({ data: [1, 2, 3, 4, 5, 6, 7, 8], shape: [2, 2, 2] }))).toEqual([
      1, 5, 2, 6, 3, 7, 4, 8,
    ]);
  });

  it("throws ARTIFACT_MISSING for a path that does not exist", async () => {
    const e = await errorOf(loadOnnxModel(path.join(FIXTURES, "no-such-model.onnx")));
    expect(isVerinferError(e, "ARTIFACT_MISSING")).toBe(true);
  });
});

describe("ONNX import: proving", () => {
  it("compiles the imported MLP, proves an inference and verifies the receipt", async () => {
    const g = golden("mlp-opset11");
    const pkg = await compileModel(fixture("mlp-opset11"), {
      calibration: g.inputs,
      cacheDir: TEST_CACHE,
      quiet: true,
    });
    const { receipt } = await verifiableInfer(pkg, g.inputs[0] as number[]);
    expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
    expect(maxAbsDiff([receipt.output.float], [g.golden.outputs[0] as number[]])).toBeLessThan(1e-5);
  });

  it("verinfer compile model.onnx compiles the imported model, with the samples.json beside it", async () => {
    const g = golden("mlp-opset11");
    const dir = await tmp();
    await copyFile(fixture("mlp-opset11"), path.join(dir, "mlp.onnx"));
    await writeFile(path.join(dir, "samples.json"), JSON.stringify({ calibration: g.inputs }));
    const pkg = await compileModel(fixture("mlp-opset11"), {
      calibration: g.inputs,
      cacheDir: TEST_CACHE,
      quiet: true,
    });
    const { code, stdout } = await runCli(["compile", path.join(dir, "mlp.onnx")]);
    expect(code).toBe(0);
    expect(stdout).toContain(pkg.id);
  });

  for (const [name, layers] of [
    ["tiny-cnn-opset13", ["conv2d", "maxPool2d", "rescale", "dense", "rescale"]],
    // The pooled sums feed the Gemm without a rescale of their own; Relu then Clip(0, 6) is one ReLU6.
    ["leaky-cnn-opset13", ["conv2d", "rescale", "sumPool2d", "dense", "rescale"]],
  ] as const) {
    it(`compiles the imported ${name}, proves an inference and verifies the receipt`, async () => {
      const g = golden(name);
      const calibration = g.inputs.map((x) => Array.from(toTfjsInput(g, x)));
      const pkg = await compileModel(fixture(name), { calibration, cacheDir: TEST_CACHE, quiet: true });
      expect(pkg.manifest.architecture.layers.map((l) => l.kind)).toEqual(layers);
      const { receipt } = await verifiableInfer(pkg, calibration[0] as number[]);
      expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
      expect(maxAbsDiff([receipt.output.float], [g.golden.outputs[0] as number[]])).toBeLessThan(1e-5);
    });
  }
});

/** A small ONNX model encoded with the same protobuf schema, for graphs no exporter writes on purpose. */
function onnxBytes(params: {
  opset?: number;
  nodes: { name: string; opType: string; input: string[]; output: string[]; attribute?: object[] }[];
  initializers?: { name: string; dims: number[]; floatData: number[]; dataLocation?: number }[];
  inputDims?: number[];
  output?: string;
}): Uint8Array {
  const type = onnxModelType();
  const dims = (params.inputDims ?? [3]).map((d) => ({ dimValue: d }));
  const model = {
    irVersion: 8,
    producerName: "verinfer-test",
    opsetImport: [{ domain: "", version: params.opset ?? 13 }],
    graph: {
      name: "g",
      node: params.nodes,
      initializer: (params.initializers ?? []).map((t) => ({ ...t, dataType: 1 })),
      input: [{ name: "x", type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "N" }, ...dims] } } } }],
      output: [{ name: params.output ?? "y", type: { tensorType: { elemType: 1 } } }],
    },
  };
  return type.encode(type.fromObject(model)).finish();
}

const W = { name: "w", dims: [3, 2], floatData: [1, 2, 3, 4, 5, 6] };
const B = { name: "b", dims: [2], floatData: [0.5, -1] };

describe("ONNX import: hand-built graphs", () => {
  it("turns MatMul + Add into a Dense with bias (weights stored as float_data)", async () => {
    const bytes = onnxBytes({
      nodes: [
        { name: "mm", opType: "MatMul", input: ["x", "w"], output: ["h"] },
        { name: "bias", opType: "Add", input: ["h", "b"], output: ["y"] },
      ],
      initializers: [W, B],
    });
    const model = await loadOnnxModel(bytes);
    expect(layerClasses(model)).toEqual(["Dense"]);
    const y = (model.predict(tf.tensor([[1, -1, 2]])) as tfTypes.Tensor).arraySync() as number[][];
    // [1, -1, 2] · [[1, 2], [3, 4], [5, 6]] + [0.5, -1] = [8.5, 9]
    expect(y[0]).toEqual([8.5, 9]);
  });

  it("refuses opsets outside 9-18 with INVALID_MODEL", async () => {
    const nodes = [{ name: "mm", opType: "MatMul", input: ["x", "w"], output: ["y"] }];
    for (const opset of [8, 19]) {
      const e = await errorOf(loadOnnxModel(onnxBytes({ opset, nodes, initializers: [W] })));
      expect(isVerinferError(e, "INVALID_MODEL"), `opset ${opset}`).toBe(true);
    }
  });

  it("reads a graph that branches as a graph (a residual Add of two variable tensors), and refuses broadcast merges", async () => {
    const bytes = onnxBytes({
      nodes: [
        { name: "relu", opType: "Relu", input: ["x"], output: ["r"] },
        { name: "residual", opType: "Add", input: ["r", "x"], output: ["y"] },
      ],
    });
    const model = await loadOnnxModel(bytes);
    expect(layerClasses(model)).toEqual(["Activation", "Add"]);
    const y = tf.tidy(() => (model.predict(tf.tensor([[-1, 0.5, 2]])) as tfTypes.Tensor).arraySync()) as number[][];
    expect(y).toEqual([[-1, 1, 4]]);
    // x·W is [N, 2]: adding it to x ([N, 3]) would broadcast or fail; the merge is refused, naming the node.
    const broadcast = onnxBytes({
      nodes: [
        { name: "mm", opType: "MatMul", input: ["x", "w"], output: ["h"] },
        { name: "residual", opType: "Add", input: ["h", "x"], output: ["y"] },
      ],
      initializers: [W],
    });
    const e = await errorOf(loadOnnxModel(broadcast));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    expect(unsupportedNodes(e)).toEqual(["residual:Add"]);
  });

  it("refuses a Softmax that is not the last node", async () => {
    const bytes = onnxBytes({
      nodes: [
        { name: "mm", opType: "MatMul", input: ["x", "w"], output: ["h"] },
        { name: "sm", opType: "Softmax", input: ["h"], output: ["p"] },
        { name: "relu", opType: "Relu", input: ["p"], output: ["y"] },
      ],
      initializers: [W],
    });
    const e = await errorOf(loadOnnxModel(bytes));
    expect(unsupportedNodes(e)).toEqual(["sm:Softmax"]);
  });

  it("refuses weights kept in an external file, and weights whose data does not fill their dims", async () => {
    const nodes = [{ name: "mm", opType: "MatMul", input: ["x", "w"], output: ["y"] }];
    const external = onnxBytes({ nodes, initializers: [{ ...W, floatData: [], dataLocation: 1 }] });
    expect(isVerinferError(await errorOf(loadOnnxModel(external)), "INVALID_MODEL")).toBe(true);
    const short = onnxBytes({ nodes, initializers: [{ ...W, floatData: [1, 2, 3] }] });
    expect(isVerinferError(await errorOf(loadOnnxModel(short)), "INVALID_MODEL")).toBe(true);
  });
});
