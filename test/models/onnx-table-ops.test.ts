// ONNX ops read through the op-translator table (src/models/onnx/ops/): the table refuses what it does not hold
// (even an op named like an Object.prototype property), PyTorch's tanh-approximated GELU is fused to gelu_new, a
// per-channel input normalization folds into the first Conv, and a Gather on a constant table is an embedding. The
// graphs are built here with the project's protobuf schema; every float golden comes from plain JS math in this
// file, never from verinfer's own code path.
import type * as tfTypes from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { isVerinferError } from "../../src/errors.js";
import { tf } from "../../src/models/backend.js";
import { integerForward } from "../../src/models/integer-forward.js";
import { onnxModelType } from "../../src/models/onnx/decode-onnx.js";
import { loadOnnxModel } from "../../src/models/onnx/load-onnx-model.js";
import { nchwToHwc } from "../../src/models/onnx/nchw-to-hwc.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { errorOf, TEST_CACHE } from "../fixtures.js";

/** A deterministic pseudo-random stream in [-1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}
const randoms = (r: () => number, n: number) => Array.from({ length: n }, r);

interface Tensor {
  name: string;
  dims: number[];
  floatData?: number[];
  int64Data?: number[];
}
interface Node {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute?: object[];
}

/** An ONNX model: one input `x` of `dims` (batch first, symbolic), one output `y`. */
function onnxBytes(params: {
  nodes: Node[];
  initializers: Tensor[];
  dims: number[];
  elemType?: number;
  opset?: number;
}): Uint8Array {
  const type = onnxModelType();
  const model = {
    irVersion: 8,
    producerName: "verinfer-test",
    opsetImport: [{ domain: "", version: params.opset ?? 13 }],
    graph: {
      name: "g",
      node: params.nodes,
      initializer: params.initializers.map((t) => ({ ...t, dataType: t.int64Data ? 7 : 1 })),
      input: [
        {
          name: "x",
          type: {
            tensorType: {
              elemType: params.elemType ?? 1,
              shape: { dim: [{ dimParam: "N" }, ...params.dims.map((d) => ({ dimValue: d }))] },
            },
          },
        },
      ],
      output: [{ name: "y", type: { tensorType: { elemType: 1 } } }],
    },
  };
  return type.encode(type.fromObject(model)).finish();
}

function predict(model: tfTypes.LayersModel, inputs: number[][]): number[][] {
  const shape = [inputs.length, ...((model.inputs[0] as tfTypes.SymbolicTensor).shape.slice(1) as number[])];
  return tf.tidy(() => (model.predict(tf.tensor(inputs).reshape(shape)) as tfTypes.Tensor).arraySync() as number[][]);
}
const maxDiff = (a: number[][], b: number[][]) =>
  Math.max(...a.flatMap((r, i) => r.map((v, j) => Math.abs(v - (b[i]?.[j] as number)))));
const unsupportedNodes = (e: unknown) =>
  ((e as { meta?: { nodes?: { name: string; opType: string }[] } }).meta?.nodes ?? []).map(
    (n) => `${n.name}:${n.opType}`,
  );

/** x · W (+ b): `W` is `[in][out]` row-major. */
function affine(x: readonly number[], w: readonly number[], units: number, b?: readonly number[]): number[] {
  return Array.from({ length: units }, (_, u) =>
    x.reduce((acc, v, i) => acc + v * (w[i * units + u] as number), b?.[u] ?? 0),
  );
}

describe("the op-translator table", () => {
  it("refuses ops it does not hold by name, even ones named like Object.prototype properties", async () => {
    const bytes = onnxBytes({
      nodes: [
        { name: "a", opType: "constructor", input: ["x"], output: ["h"] },
        { name: "b", opType: "toString", input: ["h"], output: ["y"] },
      ],
      initializers: [],
      dims: [2],
    });
    const e = await errorOf(loadOnnxModel(bytes));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    expect(unsupportedNodes(e)).toEqual(["a:constructor", "b:toString"]);
  });
});

const BETA = Math.sqrt(2 / Math.PI);
const geluTanh = (v: number) => 0.5 * v * (1 + Math.tanh(BETA * (v + 0.044715 * v ** 3)));

/** MatMul + Add, GELU (tanh) as an exporter spells it, MatMul: `x [N, 3] → [N, 2]`. */
function geluMlp(
  spelling: "torch" | "pow",
  kappa = 0.044715,
): { bytes: Uint8Array; w1: number[]; b1: number[]; w2: number[] } {
  const r = rng(7);
  const [w1, b1, w2] = [randoms(r, 12), randoms(r, 4), randoms(r, 8)];
  const scalar = (name: string, v: number): Tensor => ({ name, dims: [], floatData: [v] });
  const chain: Node[] =
    spelling === "torch"
      ? [
          // torch.onnx (1.13) for nn.GELU(approximate="tanh"): x·(x·x), constants first.
          { name: "sq", opType: "Mul", input: ["h", "h"], output: ["sq"] },
          { name: "cube", opType: "Mul", input: ["h", "sq"], output: ["cube"] },
          { name: "kc", opType: "Mul", input: ["kappa", "cube"], output: ["kc"] },
          { name: "inner", opType: "Add", input: ["h", "kc"], output: ["inner"] },
          { name: "scaled", opType: "Mul", input: ["beta", "inner"], output: ["scaled"] },
          { name: "th", opType: "Tanh", input: ["scaled"], output: ["t"] },
          { name: "plus", opType: "Add", input: ["one", "t"], output: ["p"] },
          { name: "times", opType: "Mul", input: ["h", "p"], output: ["xp"] },
          { name: "gelu", opType: "Mul", input: ["half", "xp"], output: ["g"] },
        ]
      : [
          // HF's NewGELU: 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x^3))), constants last.
          { name: "cube", opType: "Pow", input: ["h", "three"], output: ["cube"] },
          { name: "kc", opType: "Mul", input: ["cube", "kappa"], output: ["kc"] },
          { name: "inner", opType: "Add", input: ["kc", "h"], output: ["inner"] },
          { name: "scaled", opType: "Mul", input: ["inner", "beta"], output: ["scaled"] },
          { name: "th", opType: "Tanh", input: ["scaled"], output: ["t"] },
          { name: "plus", opType: "Add", input: ["t", "one"], output: ["p"] },
          { name: "halfx", opType: "Mul", input: ["h", "half"], output: ["hx"] },
          { name: "gelu", opType: "Mul", input: ["hx", "p"], output: ["g"] },
        ];
  const bytes = onnxBytes({
    nodes: [
      { name: "mm1", opType: "MatMul", input: ["x", "w1"], output: ["m"] },
      { name: "bias1", opType: "Add", input: ["m", "b1"], output: ["h"] },
      ...chain,
      { name: "mm2", opType: "MatMul", input: ["g", "w2"], output: ["y"] },
    ],
    initializers: [
      { name: "w1", dims: [3, 4], floatData: w1 },
      { name: "b1", dims: [4], floatData: b1 },
      { name: "w2", dims: [4, 2], floatData: w2 },
      scalar("kappa", kappa),
      scalar("beta", BETA),
      scalar("one", 1),
      scalar("half", 0.5),
      scalar("three", 3),
    ],
    dims: [3],
  });
  return { bytes, w1, b1, w2 };
}

describe("GELU, tanh approximation (issue 21 item 2)", () => {
  for (const spelling of ["torch", "pow"] as const) {
    it(`fuses the ${spelling === "torch" ? "torch.onnx x·x·x" : "Pow(x, 3)"} spelling to gelu_new, within 1e-5 of the float reference`, async () => {
      const { bytes, w1, b1, w2 } = geluMlp(spelling);
      const model = await loadOnnxModel(bytes);
      const dense = model.layers.filter((l) => l.getClassName() === "Dense");
      expect(dense.map((l) => (l.getConfig() as { activation: string }).activation)).toEqual(["gelu_new", "linear"]);
      const inputs = Array.from({ length: 16 }, (_, i) => randoms(rng(100 + i), 3).map((v) => v * 3));
      const reference = inputs.map((x) => affine(affine(x, w1, 4, b1).map(geluTanh), w2, 2));
      expect(maxDiff(predict(model, inputs), reference)).toBeLessThanOrEqual(1e-5);
    });
  }

  it("does not fuse a chain whose constants are not GELU's: its Pow is refused by name", async () => {
    const e = await errorOf(loadOnnxModel(geluMlp("pow", 0.05).bytes));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    expect(unsupportedNodes(e)).toEqual(["cube:Pow"]);
  });
});

/** ONNX Conv (NCHW, one sample `[C, H, W]`, weight `[O, C, k, k]`, square pads `p`, stride 1), as plain loops. */
function convNchw(params: {
  x: number[];
  c: number;
  h: number;
  w: number;
  weight: number[];
  bias: number[];
  o: number;
  k: number;
  p: number;
}): { out: number[]; oh: number; ow: number } {
  const { x, c, h, w, weight, bias, o, k, p } = params;
  const [oh, ow] = [h + 2 * p - k + 1, w + 2 * p - k + 1];
  const out: number[] = [];
  for (let oc = 0; oc < o; oc++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++) {
        let acc = bias[oc] as number;
        for (let ic = 0; ic < c; ic++)
          for (let dy = 0; dy < k; dy++)
            for (let dx = 0; dx < k; dx++) {
              const [iy, ix] = [y + dy - p, xx + dx - p];
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              acc += (x[(ic * h + iy) * w + ix] as number) * (weight[((oc * c + ic) * k + dy) * k + dx] as number);
            }
        out.push(acc);
      }
  return { out, oh, ow };
}

/**
 * `(x − mean[c]) / std[c]` (constants `[1, C, 1, 1]`) → Conv(k×k, pads p) → Relu → Flatten → Gemm, on `[N, 2, 4, w]`.
 * `sub`: whether the mean is subtracted.
 */
function normConv(params: { pads: number; sub: boolean; meanDims?: number[]; w?: number; k?: number }) {
  const r = rng(11);
  const [c, h, w, o, k] = [2, 4, params.w ?? 4, 2, params.k ?? 3];
  const mean = [0.5, -0.25];
  const std = [2, 0.5];
  const weight = randoms(r, o * c * k * k);
  const bias = randoms(r, o);
  const features = o * (h + 2 * params.pads - k + 1) * (w + 2 * params.pads - k + 1);
  const w2 = randoms(r, features * 2);
  const b2 = randoms(r, 2);
  const nodes: Node[] = [
    ...(params.sub ? [{ name: "center", opType: "Sub", input: ["x", "mean"], output: ["xc"] }] : []),
    { name: "scale", opType: "Div", input: [params.sub ? "xc" : "x", "std"], output: ["xn"] },
    {
      name: "conv",
      opType: "Conv",
      input: ["xn", "wc", "bc"],
      output: ["cv"],
      attribute: [
        { name: "kernel_shape", type: 7, ints: [k, k] },
        { name: "pads", type: 7, ints: new Array(4).fill(params.pads) },
      ],
    },
    { name: "relu", opType: "Relu", input: ["cv"], output: ["r"] },
    { name: "flat", opType: "Flatten", input: ["r"], output: ["f"] },
    { name: "fc", opType: "Gemm", input: ["f", "w2", "b2"], output: ["y"] },
  ];
  const bytes = onnxBytes({
    nodes,
    initializers: [
      { name: "mean", dims: params.meanDims ?? [1, c, 1, 1], floatData: mean },
      { name: "std", dims: [1, c, 1, 1], floatData: std },
      { name: "wc", dims: [o, c, k, k], floatData: weight },
      { name: "bc", dims: [o], floatData: bias },
      { name: "w2", dims: [features, 2], floatData: w2 },
      { name: "b2", dims: [2], floatData: b2 },
    ],
    dims: [c, h, w],
  });
  /** The reference on one NCHW sample. */
  const reference = (x: number[]) => {
    const xn = x.map((v, i) => {
      const ch = Math.floor(i / (h * w));
      return (v - (params.sub ? (mean[ch] as number) : 0)) / (std[ch] as number);
    });
    const { out } = convNchw({ x: xn, c, h, w, weight, bias, o, k, p: params.pads });
    return affine(
      out.map((v) => Math.max(v, 0)),
      w2,
      2,
      b2,
    );
  };
  const samples = Array.from({ length: 12 }, (_, i) => randoms(rng(300 + i), c * h * w).map((v) => v * 2 + 0.5));
  const hwc = samples.map((s) => Array.from(nchwToHwc({ data: s, shape: [c, h, w] })));
  return { bytes, reference, samples, hwc };
}

describe("per-channel input normalization before a Conv (issue 21 item 3)", () => {
  it("folds (x − mean[c]) / std[c] into the first Conv: no layer of its own, within 1e-5 of the float reference", async () => {
    const m = normConv({ pads: 0, sub: true });
    const model = await loadOnnxModel(m.bytes);
    expect(model.layers.map((l) => l.getClassName()).filter((n) => n !== "InputLayer")).toEqual([
      "Conv2D",
      "Flatten",
      "Dense",
    ]);
    expect(maxDiff(predict(model, m.hwc), m.samples.map(m.reference))).toBeLessThanOrEqual(1e-5);
  });

  it("folds a division alone into a padded Conv (a padded 0 stays 0), and refuses an offset before a padded Conv", async () => {
    const scaled = normConv({ pads: 1, sub: false });
    const model = await loadOnnxModel(scaled.bytes);
    expect(maxDiff(predict(model, scaled.hwc), scaled.samples.map(scaled.reference))).toBeLessThanOrEqual(1e-5);
    // With a mean, the normalized border is −mean/std of the raw one: folding would be wrong, so it is refused.
    const e = await errorOf(loadOnnxModel(normConv({ pads: 1, sub: true }).bytes));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    expect(unsupportedNodes(e)).toEqual(["conv:Conv"]);
  });

  it("refuses a constant that is not per channel (one value per column of a plane as wide as the channels)", async () => {
    // [1, 1, 1, 2] broadcasts over [N, 2, 4, 2] and holds C values, but along the width: not a channel affine map.
    const e = await errorOf(loadOnnxModel(normConv({ pads: 0, sub: true, meanDims: [1, 1, 1, 2], w: 2, k: 1 }).bytes));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    expect(unsupportedNodes(e)).toEqual(["center:Sub"]);
  });

  it("compiles the normalized CNN, proves an inference and verifies it; the proven output is integerForward's", async () => {
    const m = normConv({ pads: 0, sub: true });
    const model = await loadOnnxModel(m.bytes);
    const pkg = await compileModel(model, {
      calibration: m.hwc,
      cacheDir: TEST_CACHE,
      quiet: true,
      inputBits: 6,
      weightBits: 6,
      activationBits: 10,
    });
    const input = m.hwc[1] as number[];
    const { receipt } = await verifiableInfer(pkg, input);
    expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
    const q = integerForward(pkg.network, quantizeInput(pkg.network, input));
    expect(receipt.output.quantized).toEqual(q.output.map(String));
  }, 300_000);
});

const [VOCAB, DIM, LENGTH] = [6, 3, 4];

/**
 * PyTorch's `nn.Embedding` text classifier: int64 ids `[N, 4]` → `Gather(table [6, 3], ids)` → the mean over the
 * positions (`ReduceMean(axes [1])`, or `Transpose(0, 2, 1)` + `GlobalAveragePool` + `Flatten`) → Gemm → 2 logits.
 */
function textModel(pool: "mean" | "transpose") {
  const r = rng(23);
  const [table, w, b] = [randoms(r, VOCAB * DIM), randoms(r, DIM * 2), randoms(r, 2)];
  const head: Node[] =
    pool === "mean"
      ? [
          {
            name: "mean",
            opType: "ReduceMean",
            input: ["e"],
            output: ["m"],
            attribute: [
              { name: "axes", type: 7, ints: [1] },
              { name: "keepdims", type: 2, i: 0 },
            ],
          },
        ]
      : [
          {
            name: "swap",
            opType: "Transpose",
            input: ["e"],
            output: ["t"],
            attribute: [{ name: "perm", type: 7, ints: [0, 2, 1] }],
          },
          { name: "gap", opType: "GlobalAveragePool", input: ["t"], output: ["g"] },
          { name: "flat", opType: "Flatten", input: ["g"], output: ["m"] },
        ];
  const bytes = onnxBytes({
    nodes: [
      { name: "embed", opType: "Gather", input: ["table", "x"], output: ["e"] },
      ...head,
      { name: "fc", opType: "Gemm", input: ["m", "w", "b"], output: ["y"] },
    ],
    initializers: [
      { name: "table", dims: [VOCAB, DIM], floatData: table },
      { name: "w", dims: [DIM, 2], floatData: w },
      { name: "b", dims: [2], floatData: b },
    ],
    dims: [LENGTH],
    elemType: 7,
  });
  const reference = (ids: number[]) => {
    const mean = Array.from(
      { length: DIM },
      (_, d) => ids.reduce((acc, id) => acc + (table[id * DIM + d] as number), 0) / ids.length,
    );
    return affine(mean, w, 2, b);
  };
  const ids = Array.from({ length: 12 }, (_, i) =>
    Array.from({ length: LENGTH }, (_, t) => Math.floor(((randoms(rng(500 + i * 7 + t), 1)[0] as number) + 1) * 3)),
  );
  return { bytes, reference, ids };
}

describe("ONNX Gather on a constant table as an embedding (issue 21 item 5)", () => {
  for (const pool of ["mean", "transpose"] as const) {
    it(`reads int64 ids → Gather → ${pool === "mean" ? "ReduceMean over the positions" : "Transpose + GlobalAveragePool"} → Gemm within 1e-5 of the float reference`, async () => {
      const m = textModel(pool);
      const model = await loadOnnxModel(m.bytes);
      expect(model.layers.map((l) => l.getClassName()).filter((n) => n !== "InputLayer")).toEqual(
        pool === "mean"
          ? ["Embedding", "GlobalAveragePooling1D", "Dense"]
          : ["Embedding", "GlobalAveragePooling1D", "Dense"],
      );
      expect(m.ids.flat().every((id) => id >= 0 && id < VOCAB)).toBe(true);
      expect(maxDiff(predict(model, m.ids), m.ids.map(m.reference))).toBeLessThanOrEqual(1e-5);
    });
  }

  it("refuses an integer input read by anything but a table lookup, and a lookup that is not the first layer", async () => {
    const matmul = onnxBytes({
      nodes: [{ name: "mm", opType: "MatMul", input: ["x", "w"], output: ["y"] }],
      initializers: [{ name: "w", dims: [LENGTH, 2], floatData: new Array(LENGTH * 2).fill(1) }],
      dims: [LENGTH],
      elemType: 7,
    });
    expect(isVerinferError(await errorOf(loadOnnxModel(matmul)), "INVALID_MODEL")).toBe(true);
    // A float input gathered by a constant index list: not token ids, refused by name.
    const floatGather = onnxBytes({
      nodes: [
        {
          name: "pick",
          opType: "Gather",
          input: ["x", "idx"],
          output: ["h"],
          attribute: [{ name: "axis", type: 2, i: 1 }],
        },
        { name: "mm", opType: "MatMul", input: ["h", "w"], output: ["y"] },
      ],
      initializers: [
        { name: "idx", dims: [2], int64Data: [0, 1] },
        { name: "w", dims: [2, 2], floatData: [1, 0, 0, 1] },
      ],
      dims: [LENGTH],
    });
    const e = await errorOf(loadOnnxModel(floatGather));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    expect(unsupportedNodes(e)).toEqual(["pick:Gather"]);
  });

  it("compiles, proves and verifies: the committed input is the ids, and ids outside [0, vocab) are INVALID_INPUT", async () => {
    const m = textModel("mean");
    const model = await loadOnnxModel(m.bytes);
    const pkg = await compileModel(model, {
      calibration: m.ids,
      cacheDir: TEST_CACHE,
      quiet: true,
      inputBits: 4,
      weightBits: 6,
      activationBits: 10,
    });
    expect(pkg.network.layers[0]?.kind).toBe("embedding");
    const input = m.ids[1] as number[];
    // The quantized (committed) input is the ids themselves: no fraction bits, no offset.
    expect(quantizeInput(pkg.network, input)).toEqual(input.map(BigInt));
    const { receipt } = await verifiableInfer(pkg, input);
    expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
    const q = integerForward(pkg.network, quantizeInput(pkg.network, input));
    expect(receipt.output.quantized).toEqual(q.output.map(String));
    for (const bad of [
      [VOCAB, 0, 0, 0],
      [0, -1, 0, 0],
      [0, 1.5, 0, 0],
    ]) {
      const err = await errorOf(verifiableInfer(pkg, bad));
      expect(isVerinferError(err, "INVALID_INPUT"), `ids ${bad}`).toBe(true);
    }
  }, 300_000);
});

describe("a pending input normalization belongs to the tensor it normalizes", () => {
  const W = { name: "w", dims: [2, 2], floatData: [1, 2, 3, 4] };
  const M = { name: "m", dims: [2], floatData: [0.5, -1] };
  it("refuses a Gemm of the raw input beside it (it would fold x − m into W·x)", async () => {
    const bytes = onnxBytes({
      nodes: [
        { name: "center", opType: "Sub", input: ["x", "m"], output: ["unused"] },
        { name: "mm", opType: "MatMul", input: ["x", "w"], output: ["y"] },
      ],
      initializers: [W, M],
      dims: [2],
    });
    const e = await errorOf(loadOnnxModel(bytes));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    expect(unsupportedNodes(e)).toEqual(["mm:MatMul"]);
  });

  it("refuses a merge of the normalized tensor with the raw input (it would add x to itself)", async () => {
    const bytes = onnxBytes({
      nodes: [
        { name: "center", opType: "Sub", input: ["x", "m"], output: ["c"] },
        { name: "same", opType: "Identity", input: ["c"], output: ["i"] },
        { name: "skip", opType: "Add", input: ["i", "x"], output: ["s"] },
        { name: "mm", opType: "MatMul", input: ["s", "w"], output: ["y"] },
      ],
      initializers: [W, M],
      dims: [2],
    });
    const e = await errorOf(loadOnnxModel(bytes));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    expect(unsupportedNodes(e)).toEqual(["skip:Add"]);
  });
});

describe("a Flatten after a Pad", () => {
  it("flattens the padded tensor (its zeros included), within 1e-5 of the float reference", async () => {
    const r = rng(41);
    const [c, h, w] = [2, 2, 2];
    const features = c * (h + 2) * (w + 2);
    const wts = randoms(r, features * 2);
    const bytes = onnxBytes({
      nodes: [
        { name: "pad", opType: "Pad", input: ["x", "pads"], output: ["p"] },
        { name: "flat", opType: "Flatten", input: ["p"], output: ["f"] },
        { name: "fc", opType: "MatMul", input: ["f", "w"], output: ["y"] },
      ],
      initializers: [
        { name: "pads", dims: [8], int64Data: [0, 0, 1, 1, 0, 0, 1, 1] },
        { name: "w", dims: [features, 2], floatData: wts },
      ],
      dims: [c, h, w],
    });
    const model = await loadOnnxModel(bytes);
    const samples = Array.from({ length: 6 }, (_, i) => randoms(rng(700 + i), c * h * w));
    const reference = (x: number[]) => {
      const padded: number[] = [];
      for (let ch = 0; ch < c; ch++)
        for (let y = -1; y <= h; y++)
          for (let xx = -1; xx <= w; xx++)
            padded.push(y < 0 || y >= h || xx < 0 || xx >= w ? 0 : (x[(ch * h + y) * w + xx] as number));
      return affine(padded, wts, 2);
    };
    const hwc = samples.map((s) => Array.from(nchwToHwc({ data: s, shape: [c, h, w] })));
    expect(maxDiff(predict(model, hwc), samples.map(reference))).toBeLessThanOrEqual(1e-5);
  });
});

describe("a Pad whose pads do not match its axes", () => {
  it.each([
    ["too few pads", [0, 0, 1, 1]],
    ["a fractional pad", [0, 0, 1, 1, 0, 0, 1, 1.5]],
  ])("is INVALID_MODEL (%s), not silently dropped", async (_, pads) => {
    const bytes = onnxBytes({
      nodes: [
        { name: "pad", opType: "Pad", input: ["x", "pads"], output: ["p"] },
        { name: "flat", opType: "Flatten", input: ["p"], output: ["f"] },
        { name: "fc", opType: "MatMul", input: ["f", "w"], output: ["y"] },
      ],
      initializers: [
        { name: "pads", dims: [pads.length], floatData: pads },
        { name: "w", dims: [8, 2], floatData: randoms(rng(43), 16) },
      ],
      dims: [2, 2, 2],
    });
    const e = await errorOf(loadOnnxModel(bytes));
    expect(isVerinferError(e, "INVALID_MODEL")).toBe(true);
    expect((e as Error).message).toContain("has pads [");
  });
});
