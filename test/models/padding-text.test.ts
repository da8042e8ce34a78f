// Issue 21 items 4 and 5: real padding (explicit and asymmetric conv pads at any stride, tfjs ZeroPadding2D folded
// into the next layer, max pooling that skips padded positions, average pooling with and without counting them) and
// 1-D and text models (Conv1D / pooling 1-D as height-1 2-D kinds, Embedding as a one-hot lookup over the committed
// table). For each: float (tfjs) vs integer agreement, proven outputs = integerForward with every wire pinned, the
// commitment moves with the padding while old ids stay (test/direct-backend.test.ts holds the golden ids), the circom
// oracle refuses the new kinds, and an end-to-end compile + prove + verify.
import { readFileSync } from "node:fs";
import path from "node:path";
import type * as tfTypes from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { commitValues } from "../../src/attest/commitments.js";
import { modelCommitment } from "../../src/attest/model-commitment.js";
import { generateCircuit } from "../../src/circuits/codegen.js";
import { buildModelCircuit, estimateConstraints } from "../../src/circuits/direct/build-model-circuit.js";
import { ConstraintSystem, type Lc } from "../../src/circuits/direct/constraint-system.js";
import { writeR1cs } from "../../src/circuits/direct/write-r1cs.js";
import { isVerinferError } from "../../src/errors.js";
import { embeddingModule } from "../../src/layers/embedding.js";
import { PADDED_MAX_POOL_CODE } from "../../src/layers/max-pool2d.js";
import { LAYER_MODULES } from "../../src/layers/registry.js";
import { PADDED_SUM_POOL_CODE } from "../../src/layers/sum-pool2d.js";
import { tf } from "../../src/models/backend.js";
import { extractNetwork } from "../../src/models/extract-network.js";
import { dequantizeOutput, integerForward } from "../../src/models/integer-forward.js";
import type { QuantizedEmbedding } from "../../src/models/layers/embedding.js";
import type { Network } from "../../src/models/network.js";
import { loadOnnxModel } from "../../src/models/onnx/load-onnx-model.js";
import { nchwToHwc } from "../../src/models/onnx/nchw-to-hwc.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import type { QuantizedNetwork } from "../../src/models/quantized-network.js";
import { toTfModel } from "../../src/models/run-float.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { toField } from "../../src/util/field.js";
import { errorOf, ROOT, TEST_CACHE } from "../fixtures.js";
import { checkR1cs, constraintsByWire, parseR1cs, violatedConstraints } from "../r1cs-check.js";

/** A deterministic pseudo-random stream in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Sets every weight of a built tfjs model to seeded values in [-1, 1). */
function seedWeights(model: tfTypes.LayersModel, seed: number): void {
  const r = rng(seed);
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    layer.setWeights(
      ws.map((w) =>
        tf.tensor(
          Array.from({ length: w.size }, () => r() * 2 - 1),
          w.shape,
        ),
      ),
    );
  }
}

/** A padded stride-2 CNN on 8×8×2: every padding form of item 4 once. */
function paddedCnn(): tfTypes.Sequential {
  const m = tf.sequential();
  m.add(
    tf.layers.zeroPadding2d({
      inputShape: [8, 8, 2],
      padding: [
        [1, 1],
        [1, 1],
      ],
    }),
  );
  m.add(tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, activation: "relu" })); // pad 1 stride 2 → 4×4
  m.add(tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 1, padding: "same" })); // symmetric
  m.add(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "same" })); // −∞ padding → 2×2
  m.add(
    tf.layers.zeroPadding2d({
      padding: [
        [0, 1],
        [1, 0],
      ],
    }),
  ); // asymmetric, counted zeros
  m.add(tf.layers.averagePooling2d({ poolSize: 2, strides: 1 })); // → 2×2
  m.add(tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: "same" })); // uncounted padding → 2×2
  m.add(tf.layers.conv2d({ filters: 2, kernelSize: 2, strides: 2, padding: "same" })); // asymmetric "same"
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 3, activation: "softmax" }));
  seedWeights(m, 7);
  return m;
}

/** A small text classifier: ids → Embedding → Conv1D → MaxPooling1D → AveragePooling1D → GlobalAveragePooling1D → Dense. */
function textClassifier(): tfTypes.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.embedding({ inputDim: 12, outputDim: 4, inputLength: 8 }));
  m.add(tf.layers.conv1d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu" }));
  m.add(tf.layers.maxPooling1d({ poolSize: 2 }));
  m.add(tf.layers.averagePooling1d({ poolSize: 2, strides: 1, padding: "same" }));
  m.add(tf.layers.globalAveragePooling1d());
  m.add(tf.layers.dense({ units: 2, activation: "softmax" }));
  seedWeights(m, 11);
  return m;
}

const randomInputs = (n: number, size: number, seed: number, vocab?: number) => {
  const r = rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: size }, () => (vocab ? Math.floor(r() * vocab) : r())));
};

/** Float (tfjs) logits of flat inputs. */
function floatLogits(model: tfTypes.LayersModel, net: Network, inputs: number[][]): number[][] {
  // The softmax head is not proven: compare logits, from the last Dense's input, weights and bias.
  const last = model.layers[model.layers.length - 1] as tfTypes.layers.Layer;
  const x = tf.tensor(inputs.flat(), [inputs.length, ...net.inputShape]);
  // The last Dense without its softmax: its input times its weights plus bias.
  const sub = tf.model({ inputs: model.inputs, outputs: last.input as tfTypes.SymbolicTensor });
  const h = sub.predict(x) as tfTypes.Tensor;
  const [k, b] = last.getWeights() as [tfTypes.Tensor, tfTypes.Tensor];
  const out = h.matMul(k).add(b).arraySync() as number[][];
  tf.dispose([x, h]);
  return out;
}

/** The largest |a − b| over two equally shaped output batches. */
function maxDiff(a: number[][], b: number[][]): number {
  let m = 0;
  for (const [i, row] of a.entries())
    for (const [j, v] of row.entries()) m = Math.max(m, Math.abs(v - (b[i]?.[j] as number)));
  return m;
}

/** The float outputs of a network's own tfjs rebuild. */
function runFloatOf(net: Network, inputs: number[][]): number[][] {
  const model = toTfModel(net);
  const y = model.predict(tf.tensor(inputs.flat(), [inputs.length, net.inputSize])) as tfTypes.Tensor;
  return y.arraySync() as number[][];
}

/** Proves a network's circuit on inputs: R1CS satisfied, public outputs = integerForward, every wire pinned. */
async function checkProven(qnet: QuantizedNetwork, inputs: bigint[][]): Promise<void> {
  const mc = await modelCommitment(qnet);
  const cs = buildModelCircuit({ network: qnet, modelCommitment: mc, track: true });
  const r1cs = parseR1cs(writeR1cs(cs));
  expect(r1cs.constraints.length).toBeLessThanOrEqual(estimateConstraints(qnet));
  const byWire = constraintsByWire(r1cs);
  for (const [t, input] of inputs.entries()) {
    const salts = { inputSalt: 3n, outputSalt: 5n };
    const w = buildModelCircuit({
      network: qnet,
      modelCommitment: mc,
      track: false,
      inputs: { input, ...salts },
    }).witness();
    expect(checkR1cs(r1cs, w).ok).toBe(true);
    const ref = integerForward(qnet, input);
    const half = 1n << BigInt(qnet.outputWidth - 1);
    expect(w.slice(1, 4 + ref.output.length + (qnet.head ? 1 : 0))).toEqual([
      mc,
      await commitValues({ values: input, lo: qnet.input.lo, width: qnet.input.bits, salt: salts.inputSalt }),
      await commitValues({ values: ref.output, lo: -half, width: qnet.outputWidth, salt: salts.outputSalt }),
      ...ref.output.map(toField),
      ...(qnet.head ? [BigInt(ref.class as number)] : []),
    ]);
    if (t > 0) continue;
    for (let i = 1; i < w.length; i++) {
      const forged = w.slice();
      forged[i] = toField((w[i] as bigint) + 1n);
      expect(violatedConstraints(r1cs, forged, byWire[i] ?? []).length, `wire ${i}`).toBeGreaterThan(0);
    }
  }
}

/** Float vs integer: max |float − proven| over the inputs, relative to the float logits' range, and argmax agreement. */
function agreement(model: tfTypes.LayersModel, net: Network, qnet: QuantizedNetwork, inputs: number[][]) {
  const float = floatLogits(model, net, inputs);
  let maxErr = 0;
  let maxAbs = 0;
  let agree = 0;
  for (const [k, x] of inputs.entries()) {
    const f = float[k] as number[];
    const q = dequantizeOutput(qnet, integerForward(qnet, quantizeInput(qnet, x)).output);
    for (const [j, v] of f.entries()) {
      maxErr = Math.max(maxErr, Math.abs(v - (q[j] as number)));
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    if (f.indexOf(Math.max(...f)) === q.indexOf(Math.max(...q))) agree++;
  }
  return { relErr: maxErr / maxAbs, agreement: agree / inputs.length };
}

describe("padding: conv pads at any stride, ZeroPadding2D, padded max and average pooling", () => {
  it("reads a padded stride-2 CNN into explicit pads, and its integer network tracks tfjs", () => {
    const model = paddedCnn();
    const net = extractNetwork(model);
    const conv1 = net.layers[0];
    expect(conv1).toMatchObject({
      kind: "conv2d",
      strides: [2, 2],
      padding: "valid",
      pads: [
        [1, 1],
        [1, 1],
      ],
    });
    expect(net.layers[2]).toMatchObject({ kind: "maxPool2d", padding: "same" });
    expect(net.layers[3]).toMatchObject({
      kind: "avgPool2d",
      pads: [
        [0, 1],
        [1, 0],
      ],
      countIncludePad: true,
    });
    const inputs = randomInputs(40, 128, 1);
    // Fine bits: what is left of float vs integer is rounding, so a padding that differs from tfjs's would show.
    const qnet = quantizeNetwork(net, {
      calibration: inputs.slice(0, 20),
      inputBits: 12,
      weightBits: 12,
      activationBits: 20,
    });
    const kinds = qnet.layers.map(
      (l) => `${l.kind}${"padding" in l && l.kind !== "conv2d" && l.padding ? "+pad" : ""}`,
    );
    expect(kinds).toContain("maxPool2d+pad");
    expect(kinds.filter((k) => k === "sumPool2d+pad").length).toBe(2);
    const { relErr, agreement: a } = agreement(model, net, qnet, inputs.slice(20));
    expect(relErr).toBeLessThan(0.002);
    expect(a).toBeGreaterThanOrEqual(0.95);
  });

  it("proves the padded CNN's integer outputs, every wire pinned", async () => {
    const model = paddedCnn();
    const qnet = quantizeNetwork(extractNetwork(model), {
      calibration: randomInputs(8, 128, 2),
      inputBits: 4,
      weightBits: 4,
      activationBits: 8,
    });
    const r = rng(5);
    await checkProven(qnet, [
      Array.from({ length: 128 }, () => BigInt(Math.floor(r() * 16))),
      new Array(128).fill(15n),
    ]);
  }, 120_000);

  it("commits padding: a padding change changes the model id; an unpadded pooling keeps today's descriptor", async () => {
    const max = LAYER_MODULES.maxPool2d.sample();
    const padded = { ...max, inShape: [3, 3, 1] as [number, number, number], padding: [1, 1] as [number, number] };
    const other = { ...padded, padding: [0, 0] as [number, number] };
    const d = (l: typeof max) => LAYER_MODULES.maxPool2d.commitment(l).descriptor.join();
    expect(d(padded)).not.toBe(d(other));
    expect(d({ ...max, padding: [0, 0] })).toBe(d(max));
    const sum = LAYER_MODULES.sumPool2d.sample();
    const sPadded = { ...sum, inShape: [3, 3, 1] as [number, number, number], padding: [1, 1] as [number, number] };
    const s = (l: typeof sum) => LAYER_MODULES.sumPool2d.commitment(l).descriptor.join();
    expect(new Set([s(sum), s(sPadded), s({ ...sPadded, countIncludePad: true })]).size).toBe(3);
    expect(s({ ...sum, padding: [0, 0], countIncludePad: true })).toBe(s(sum));
    // The padded forms' codes are no module's kind code (descriptors parse one way only).
    const codes = Object.values(LAYER_MODULES).map((m) => m.code);
    expect(codes).not.toContain(PADDED_MAX_POOL_CODE);
    expect(codes).not.toContain(PADDED_SUM_POOL_CODE);
    expect(new Set([...codes, PADDED_MAX_POOL_CODE, PADDED_SUM_POOL_CODE]).size).toBe(codes.length + 2);
    // Same weights, pads moved from top to bottom: another model.
    const net = (pads: [[number, number], [number, number]]): Network => ({
      inputShape: [4, 4, 1],
      inputSize: 16,
      layers: [
        {
          kind: "conv2d",
          name: "c",
          filters: 1,
          kernelSize: [2, 2],
          strides: [2, 2],
          padding: "valid",
          pads,
          activation: "relu",
          kernel: [
            [[[0.5]], [[-0.25]]],
            [[[1]], [[0.75]]],
          ],
          bias: [0.1],
        },
        { kind: "reshape", name: "f", shape: [4] },
        {
          kind: "dense",
          name: "d",
          units: 1,
          activation: "linear",
          kernel: Array.from({ length: 4 }, () => [0.5]),
          bias: [0],
        },
      ],
    });
    const calibration = randomInputs(4, 16, 3);
    const a = quantizeNetwork(
      net([
        [1, 0],
        [1, 0],
      ]),
      { calibration },
    );
    const b = quantizeNetwork(
      net([
        [0, 1],
        [0, 1],
      ]),
      { calibration },
    );
    expect(a.layers[0]).toMatchObject({ padding: [1, 1], outShape: [2, 2, 1] });
    expect(b.layers[0]).toMatchObject({ padding: [0, 0], outShape: [2, 2, 1] });
    expect(await modelCommitment(a)).not.toBe(await modelCommitment(b));
  });

  it("refuses what it cannot fold, naming the layer the user wrote, and the circom oracle refuses padded pooling", async () => {
    const m = tf.sequential();
    m.add(tf.layers.zeroPadding2d({ inputShape: [6, 6, 1], padding: 1, name: "zp" }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2, name: "mp" }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 2 }));
    const e = await errorOf(Promise.resolve().then(() => extractNetwork(m)));
    expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    expect((e as { meta: { unsupported: { layer: string }[] } }).meta.unsupported.map((u) => u.layer)).toEqual(["zp"]);
    const qnet = quantizeNetwork(extractNetwork(paddedCnn()), { calibration: randomInputs(4, 128, 4) });
    expect(() => generateCircuit({ network: qnet, modelCommitment: 1n })).toThrow(
      expect.objectContaining({ code: "UNSUPPORTED_LAYER" }),
    );
  });
});

describe("ONNX padding: a PyTorch ResNet-style stem (Conv s2 p1, MaxPool(3, 2, 1), AvgPool(3, 2, 1) uncounted)", () => {
  const dir = path.join(ROOT, "test", "fixtures", "onnx");
  const g = JSON.parse(readFileSync(path.join(dir, "padded-stem-opset13.golden.json"), "utf8")) as {
    inputShape: [number, number, number];
    inputs: number[][];
    golden: { outputs: number[][] };
  };
  const hwc = g.inputs.map((x) => Array.from(nchwToHwc({ data: x, shape: g.inputShape })));

  it("imports the explicit pooling pads, runs within 1e-5 of PyTorch, and proves its integer outputs", async () => {
    const model = await loadOnnxModel(path.join(dir, "padded-stem-opset13.onnx"));
    expect(model.layers.filter((l) => l.getClassName() === "VerinferPaddedPool2D").length).toBe(2);
    const y = model.predict(tf.tensor(hwc.flat(), [hwc.length, 16, 16, 3])) as tfTypes.Tensor;
    const out = y.arraySync() as number[][];
    expect(maxDiff(out, g.golden.outputs)).toBeLessThan(1e-5);
    const net = extractNetwork(model);
    expect(net.layers.filter((l) => l.kind === "maxPool2d" || l.kind === "avgPool2d")).toMatchObject([
      {
        kind: "maxPool2d",
        pads: [
          [1, 1],
          [1, 1],
        ],
      },
      {
        kind: "avgPool2d",
        pads: [
          [1, 1],
          [1, 1],
        ],
        countIncludePad: false,
      },
    ]);
    // The network's own tfjs rebuild (what a package runs) is the same float function.
    const rebuilt = runFloatOf(net, hwc);
    expect(maxDiff(rebuilt, out)).toBeLessThan(1e-5);
    const fine = quantizeNetwork(net, { calibration: hwc, inputBits: 12, weightBits: 12, activationBits: 20 });
    const ints = hwc.map((x) => dequantizeOutput(fine, integerForward(fine, quantizeInput(fine, x)).output));
    expect(maxDiff(ints, out)).toBeLessThan(0.01);
    const coarse = quantizeNetwork(net, { calibration: hwc, inputBits: 4, weightBits: 4, activationBits: 8 });
    await checkProven(coarse, [quantizeInput(coarse, hwc[0])]);
  }, 120_000);
});

describe("ONNX 1-D: a PyTorch Conv1d(s2, p1) + MaxPool1d + AvgPool1d(3, 1, 1) + Linear on [N, C, L]", () => {
  it("reads the sequence as a height-1 image, runs within 1e-5 of PyTorch, and proves its integer outputs", async () => {
    const dir = path.join(ROOT, "test", "fixtures", "onnx");
    const g = JSON.parse(readFileSync(path.join(dir, "seq1d-opset13.golden.json"), "utf8")) as {
      inputShape: [number, number];
      inputs: number[][];
      golden: { outputs: number[][] };
    };
    const [c, len] = g.inputShape;
    const hwc = g.inputs.map((x) => Array.from(nchwToHwc({ data: x, shape: [c, 1, len] })));
    const model = await loadOnnxModel(path.join(dir, "seq1d-opset13.onnx"));
    expect(model.inputs[0]?.shape).toEqual([null, 1, len, c]);
    const y = model.predict(tf.tensor(hwc.flat(), [hwc.length, 1, len, c])) as tfTypes.Tensor;
    const out = y.arraySync() as number[][];
    expect(maxDiff(out, g.golden.outputs)).toBeLessThan(1e-5);
    const net = extractNetwork(model);
    // pad 1 at stride 2 on an even length is not Keras "same": explicit pads, folded from a ZeroPadding2D.
    expect(net.layers[0]).toMatchObject({
      kind: "conv2d",
      kernelSize: [1, 3],
      strides: [1, 2],
      pads: [
        [0, 0],
        [1, 1],
      ],
    });
    expect(net.layers.find((l) => l.kind === "avgPool2d")).toMatchObject({
      pads: [
        [0, 0],
        [1, 1],
      ],
      countIncludePad: true,
    });
    const fine = quantizeNetwork(net, { calibration: hwc, inputBits: 12, weightBits: 12, activationBits: 20 });
    const ints = hwc.map((x) => dequantizeOutput(fine, integerForward(fine, quantizeInput(fine, x)).output));
    expect(maxDiff(ints, out)).toBeLessThan(0.01);
    const coarse = quantizeNetwork(net, { calibration: hwc, inputBits: 4, weightBits: 4, activationBits: 8 });
    await checkProven(coarse, [quantizeInput(coarse, hwc[0])]);
  }, 120_000);
});

describe("item 6: depthwise and grouped convolutions as full convolutions with zero weights", () => {
  it("reads PyTorch's Conv2d(groups=4) and Conv2d(groups=2) within 1e-5 of PyTorch, and proves them", async () => {
    const dir = path.join(ROOT, "test", "fixtures", "onnx");
    const g = JSON.parse(readFileSync(path.join(dir, "grouped-opset13.golden.json"), "utf8")) as {
      inputShape: [number, number, number];
      inputs: number[][];
      golden: { outputs: number[][] };
    };
    const hwc = g.inputs.map((x) => Array.from(nchwToHwc({ data: x, shape: g.inputShape })));
    const model = await loadOnnxModel(path.join(dir, "grouped-opset13.onnx"));
    const y = model.predict(tf.tensor(hwc.flat(), [hwc.length, 6, 6, 4])) as tfTypes.Tensor;
    const out = y.arraySync() as number[][];
    expect(maxDiff(out, g.golden.outputs)).toBeLessThan(1e-5);
    const net = extractNetwork(model);
    const fine = quantizeNetwork(net, { calibration: hwc, inputBits: 12, weightBits: 12, activationBits: 20 });
    const ints = hwc.map((x) => dequantizeOutput(fine, integerForward(fine, quantizeInput(fine, x)).output));
    expect(maxDiff(ints, out)).toBeLessThan(0.01);
    const coarse = quantizeNetwork(net, { calibration: hwc, inputBits: 4, weightBits: 4, activationBits: 8 });
    await checkProven(coarse, [quantizeInput(coarse, hwc[0])]);
  }, 120_000);

  it("reads ReduceMean over the spatial axes (PyTorch x.mean((2, 3))) as global average pooling", async () => {
    const dir = path.join(ROOT, "test", "fixtures", "onnx");
    const g = JSON.parse(readFileSync(path.join(dir, "mean-head-opset13.golden.json"), "utf8")) as {
      inputShape: [number, number, number];
      inputs: number[][];
      golden: { outputs: number[][] };
    };
    const hwc = g.inputs.map((x) => Array.from(nchwToHwc({ data: x, shape: g.inputShape })));
    const model = await loadOnnxModel(path.join(dir, "mean-head-opset13.onnx"));
    const y = model.predict(tf.tensor(hwc.flat(), [hwc.length, 5, 5, 2])) as tfTypes.Tensor;
    const out = y.arraySync() as number[][];
    expect(maxDiff(out, g.golden.outputs)).toBeLessThan(1e-5);
    const net = extractNetwork(model);
    expect(net.layers.map((l) => l.kind)).toEqual(["conv2d", "globalAvgPool2d", "dense"]);
    const fine = quantizeNetwork(net, { calibration: hwc, inputBits: 12, weightBits: 12, activationBits: 20 });
    const ints = hwc.map((x) => dequantizeOutput(fine, integerForward(fine, quantizeInput(fine, x)).output));
    expect(maxDiff(ints, out)).toBeLessThan(0.01);
  });

  it("reads a tfjs DepthwiseConv2D (depth multiplier 2, after a ZeroPadding2D) with its float semantics", () => {
    const m = tf.sequential();
    m.add(
      tf.layers.zeroPadding2d({
        inputShape: [6, 6, 3],
        padding: [
          [1, 0],
          [0, 1],
        ],
      }),
    );
    m.add(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, activation: "relu" }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 2 }));
    seedWeights(m, 17);
    const net = extractNetwork(m);
    expect(net.layers[0]).toMatchObject({
      kind: "conv2d",
      filters: 6,
      pads: [
        [1, 0],
        [0, 1],
      ],
    });
    const inputs = randomInputs(20, 108, 19);
    const qnet = quantizeNetwork(net, { calibration: inputs, inputBits: 12, weightBits: 12, activationBits: 20 });
    const x = tf.tensor(inputs.flat(), [inputs.length, 6, 6, 3]);
    const float = (m.predict(x) as tfTypes.Tensor).arraySync() as number[][];
    const ints = inputs.map((v) => dequantizeOutput(qnet, integerForward(qnet, quantizeInput(qnet, v)).output));
    expect(maxDiff(ints, float)).toBeLessThan(0.01);
  });
});

describe("1-D and text: Conv1D, 1-D pooling, Embedding as a one-hot lookup", () => {
  it("reads 1-D layers as height-1 2-D ones and the embedding as the first layer; integer tracks tfjs", () => {
    const model = textClassifier();
    const net = extractNetwork(model);
    expect(net.inputShape).toEqual([8]);
    expect(net.layers.map((l) => l.kind)).toEqual([
      "embedding",
      "conv2d",
      "maxPool2d",
      "avgPool2d",
      "globalAvgPool2d",
      "dense",
    ]);
    const inputs = randomInputs(60, 8, 9, 12);
    const qnet = quantizeNetwork(net, { calibration: inputs.slice(0, 30), weightBits: 12, activationBits: 20 });
    expect(qnet.input).toEqual({ bits: 4, fracBits: 0, lo: 0n, hi: 15n });
    const { relErr, agreement: a } = agreement(model, net, qnet, inputs.slice(30));
    expect(relErr).toBeLessThan(0.002);
    expect(a).toBeGreaterThanOrEqual(0.95);
    // An id outside the vocabulary (but inside the 4-bit input range) is a typed refusal, in the reference too.
    expect(() => integerForward(qnet, [12n, 0n, 0n, 0n, 0n, 0n, 0n, 0n])).toThrow(
      expect.objectContaining({ code: "INVALID_INPUT" }),
    );
    expect(() => quantizeInput(qnet, [0, 1, 2, 3, 4, 5, 6, 2.4])).toThrow(
      expect.objectContaining({ code: "INVALID_INPUT" }),
    );
    expect(() => quantizeInput(qnet, [0, 1, 2, 3, 4, 5, 6, 16])).toThrow(
      expect.objectContaining({ code: "INVALID_INPUT" }),
    );
    expect(() => quantizeNetwork(net, { calibration: [[0, 1, 2, 3, 4, 5, 6, 12.5]] })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTIONS" }),
    );
  });

  it("refuses a causal Conv1D; reads a strided same-padded Conv1D, GlobalMaxPooling1D and GlobalMaxPooling2D", () => {
    const causal = tf.sequential();
    causal.add(tf.layers.conv1d({ inputShape: [6, 2], filters: 2, kernelSize: 3, padding: "causal" }));
    causal.add(tf.layers.flatten());
    causal.add(tf.layers.dense({ units: 2 }));
    // tfjs cannot run a causal Conv1D (the float reference): a typed refusal naming it.
    expect(() => extractNetwork(causal)).toThrow(expect.objectContaining({ code: "UNSUPPORTED_LAYER" }));
    const m = tf.sequential();
    m.add(tf.layers.conv1d({ inputShape: [6, 2], filters: 2, kernelSize: 3, strides: 2, padding: "same" }));
    m.add(tf.layers.globalMaxPooling1d({}));
    m.add(tf.layers.dense({ units: 2 }));
    seedWeights(m, 3);
    const net = extractNetwork(m);
    expect(net.layers.map((l) => l.kind)).toEqual(["reshape", "conv2d", "maxPool2d", "reshape", "dense"]);
    const inputs = randomInputs(20, 12, 8);
    const qnet = quantizeNetwork(net, { calibration: inputs, inputBits: 12, weightBits: 12, activationBits: 20 });
    expect(agreement(m, net, qnet, inputs).relErr).toBeLessThan(0.002);
    const g = tf.sequential();
    g.add(tf.layers.conv2d({ inputShape: [4, 4, 1], filters: 2, kernelSize: 2 }));
    g.add(tf.layers.globalMaxPooling2d({}));
    g.add(tf.layers.dense({ units: 2 }));
    expect(extractNetwork(g).layers.map((l) => l.kind)).toEqual(["conv2d", "maxPool2d", "reshape", "dense"]);
  });

  it("proves the text classifier's integer outputs, every wire pinned; circom refuses the embedding", async () => {
    const qnet = quantizeNetwork(extractNetwork(textClassifier()), {
      calibration: randomInputs(10, 8, 12, 12),
      weightBits: 6,
      activationBits: 10,
    });
    await checkProven(qnet, [[0n, 11n, 3n, 3n, 7n, 1n, 0n, 5n], new Array(8).fill(11n)]);
    expect(() => generateCircuit({ network: qnet, modelCommitment: 1n })).toThrow(
      expect.objectContaining({ code: "UNSUPPORTED_LAYER" }),
    );
  }, 120_000);

  it("the lookup gadget: V + 1 constraints per token, and a wrong row or a second selector fails", () => {
    const layer: QuantizedEmbedding = embeddingModule.sample();
    // Wires: 0 the constant 1, 1..2 the ids, then token 0's selectors s_1, s_2 (3, 4), token 1's (5, 6).
    const build = (ids: bigint[]) => {
      const cs = new ConstraintSystem({ track: true, nPublic: 0 });
      const out = embeddingModule.emit(cs, layer, cs.privateInputs(ids));
      return { cs, out };
    };
    const honest = build([2n, 0n]);
    const r1cs = parseR1cs(writeR1cs(honest.cs));
    expect(r1cs.constraints.length).toBe(embeddingModule.estimate(layer));
    expect(r1cs.constraints.length).toBe(layer.length * (layer.vocab + 1));
    // The rows read are the table's rows 2 and 0.
    expect(honest.out.map((o: Lc) => o.value)).toEqual([-4n, 5n, 1n, -2n]);
    const w = honest.cs.witness();
    expect(w).toEqual([1n, 2n, 0n, 0n, 1n, 0n, 0n]);
    expect(checkR1cs(r1cs, w).ok).toBe(true);
    for (let i = 1; i < w.length; i++) {
      const forged = w.slice();
      forged[i] = toField((w[i] as bigint) + 1n);
      expect(checkR1cs(r1cs, forged).ok, `wire ${i}`).toBe(false);
    }
    // A consistent one-hot selecting row 1 (a wrong row) while the id wire says 2: the id equality fails.
    expect(checkR1cs(r1cs, [1n, 2n, 0n, 1n, 0n, 0n, 0n]).ok).toBe(false);
    // Two selectors at once (s_1 = s_2 = 1, a sum of rows) with the id written as 1 + 2 = 3: s_0 = −1 fails.
    expect(checkR1cs(r1cs, [1n, 3n, 0n, 1n, 1n, 0n, 0n]).ok).toBe(false);
    // No selector at all (s_0 = 1) while the id says 2: fails; and the honest witness of id 1 passes.
    expect(checkR1cs(r1cs, [1n, 2n, 0n, 0n, 0n, 0n, 0n]).ok).toBe(false);
    expect(checkR1cs(r1cs, [1n, 1n, 0n, 1n, 0n, 0n, 0n]).ok).toBe(true);
    // An id past the vocabulary has no honest witness: a typed refusal.
    expect(() => build([3n, 0n])).toThrow(expect.objectContaining({ code: "INVALID_INPUT" }));
  });
});

describe("end to end: compile, prove and verify", () => {
  it("a padded stride-2 CNN and an embedding text classifier", async () => {
    const cnn = tf.sequential();
    cnn.add(
      tf.layers.conv2d({
        inputShape: [6, 6, 1],
        filters: 2,
        kernelSize: 3,
        strides: 2,
        padding: "same",
        activation: "relu",
      }),
    );
    cnn.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: "same" }));
    cnn.add(tf.layers.flatten());
    cnn.add(tf.layers.dense({ units: 2, activation: "softmax" }));
    seedWeights(cnn, 21);
    const text = tf.sequential();
    text.add(tf.layers.embedding({ inputDim: 6, outputDim: 2, inputLength: 4 }));
    text.add(tf.layers.globalAveragePooling1d());
    text.add(tf.layers.dense({ units: 2, activation: "softmax" }));
    seedWeights(text, 22);
    for (const [model, calibration] of [
      [cnn, randomInputs(6, 36, 30)],
      [text, randomInputs(6, 4, 31, 6)],
    ] as const) {
      const pkg = await compileModel(model, {
        calibration: calibration as number[][],
        cacheDir: TEST_CACHE,
        quiet: true,
        inputBits: 4,
        weightBits: 4,
        activationBits: 8,
      });
      const input = (calibration as number[][])[1] as number[];
      const { receipt } = await verifiableInfer(pkg, input);
      expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
      const q = integerForward(pkg.network, quantizeInput(pkg.network, input));
      expect(receipt.output.quantized).toEqual(q.output.map(String));
    }
  }, 600_000);
});
