// Convolutional networks end to end below the proof system: random tiny CNNs quantize with a range guarantee that
// holds at every input, their generated circuits compute exactly integerForward (outputs, proven class and
// commitments), tfjs models extract into the layer IR with the float semantics intact, and the model commitment
// tells apart models that differ in one architectural parameter.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { commitValues } from "../../src/attest/commitments.js";
import { architectureDescriptor, modelCommitment } from "../../src/attest/model-commitment.js";
import { generateCircuit } from "../../src/circuits/codegen.js";
import { compileCircuit } from "../../src/circuits/compile-circuit.js";
import { computeWitness } from "../../src/circuits/prove-groth16.js";
import { isVerinferError, VerinferError } from "../../src/errors.js";
import { tf } from "../../src/models/backend.js";
import { extractNetwork } from "../../src/models/extract-network.js";
import { integerForward } from "../../src/models/integer-forward.js";
import type { ActivationLayer, Layer, LayerActivation, Network, Padding } from "../../src/models/network.js";
import { networkShapes } from "../../src/models/network.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import {
  type QuantizedNetwork,
  quantizedNetworkFromJson,
  quantizedNetworkToJson,
} from "../../src/models/quantized-network.js";
import { runFloat, softmax, toTfModel } from "../../src/models/run-float.js";
import { FIELD_PRIME, fromField } from "../../src/util/field.js";
import { checkR1cs, parseR1cs, wtnsToBigints } from "../r1cs-check.js";

const weight = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 8, arbitrary: fc.double({ min: -2, max: 2, noNaN: true }) },
);
const arr = <T>(a: fc.Arbitrary<T>, n: number) => fc.array(a, { minLength: n, maxLength: n });

/** A random conv layer for a [h, w, c] input, with its output shape. */
function convLayer(name: string, c: number, maxK = 3) {
  return fc
    .record({
      filters: fc.integer({ min: 1, max: 2 }),
      k: fc.integer({ min: 1, max: maxK }),
      s: fc.integer({ min: 1, max: 2 }),
      padding: fc.constantFrom<Padding>("valid", "same"),
      activation: fc.constantFrom<LayerActivation>("relu", "linear", "relu6"),
    })
    .chain(({ filters, k, s, padding, activation }) =>
      fc
        .record({
          kernel: arr(arr(arr(arr(weight, filters), c), k), k),
          bias: arr(weight, filters),
        })
        .map(
          ({ kernel, bias }): Layer => ({
            kind: "conv2d",
            name,
            filters,
            kernelSize: [k, k],
            strides: [s, s],
            padding,
            activation,
            kernel,
            bias,
          }),
        ),
    );
}

/** The standalone activations the random CNNs draw from (LeakyReLU at slopes 1/2 and 1/8). */
const STANDALONE: Record<string, Omit<ActivationLayer, "kind" | "name">> = {
  relu: { activation: "relu" },
  relu6: { activation: "relu6" },
  leaky1: { activation: "leakyRelu", alpha: 0.5 },
  leaky3: { activation: "leakyRelu", alpha: 0.125 },
};

/**
 * A random tiny CNN: [h, w, c] input, conv (relu, relu6 or linear), an optional pooling (average, max, or global
 * average) and a standalone activation (relu, relu6, LeakyReLU), an optional second conv, Flatten, Dense, and maybe
 * a softmax head.
 */
const tinyCnn = fc
  .record({
    h: fc.integer({ min: 4, max: 6 }),
    w: fc.integer({ min: 4, max: 6 }),
    c: fc.integer({ min: 1, max: 2 }),
    pool: fc.constantFrom("none", "avgPool2d", "maxPool2d", "globalAvgPool2d"),
    act: fc.constantFrom("none", ...Object.keys(STANDALONE)),
    second: fc.boolean(),
    units: fc.integer({ min: 1, max: 3 }),
    softmax: fc.boolean(),
  })
  .chain((p) =>
    convLayer("conv_a", p.c).chain((conv) => {
      const layers: Layer[] = [conv];
      const shapeNow = () =>
        networkShapes({ inputShape: [p.h, p.w, p.c], inputSize: p.h * p.w * p.c, layers }).at(-1) as number[];
      let shape = shapeNow();
      if (p.pool !== "none" && shape.length === 3 && (shape[0] as number) >= 2 && (shape[1] as number) >= 2) {
        layers.push(
          p.pool === "globalAvgPool2d"
            ? { kind: "globalAvgPool2d", name: "pool" }
            : {
                kind: p.pool as "avgPool2d" | "maxPool2d",
                name: "pool",
                poolSize: [2, 2],
                strides: [2, 2],
                padding: "valid",
              },
        );
      }
      const act = STANDALONE[p.act];
      if (act) layers.push({ kind: "activation", name: "act", ...act });
      shape = shapeNow();
      const second =
        p.second && shape.length === 3
          ? convLayer("conv_b", shape[2] as number, Math.min(3, shape[0] as number, shape[1] as number))
          : fc.constant(undefined);
      return second.chain((conv2) => {
        if (conv2) layers.push(conv2);
        shape = shapeNow();
        const n = shape.reduce((a, b) => a * b, 1);
        if (shape.length > 1) layers.push({ kind: "reshape", name: "flatten", shape: [n] });
        return fc
          .record({ kernel: arr(arr(weight, p.units), n), bias: arr(weight, p.units) })
          .chain(({ kernel, bias }) => {
            const net: Network = {
              inputShape: [p.h, p.w, p.c],
              inputSize: p.h * p.w * p.c,
              layers: [...layers, { name: "logits", units: p.units, activation: "linear", kernel, bias }],
              ...(p.softmax ? { head: "softmax" as const } : {}),
            };
            const sample = arr(fc.double({ min: 0, max: 1, noNaN: true }), net.inputSize);
            return fc.record({
              net: fc.constant(net),
              calibration: fc.array(sample, { minLength: 1, maxLength: 4 }),
              inputBits: fc.integer({ min: 2, max: 8 }),
              weightBits: fc.integer({ min: 2, max: 8 }),
              activationBits: fc.integer({ min: 4, max: 16 }),
            });
          });
      });
    }),
  );

/** Quantizes, or `undefined` for a legitimate refusal. */
function tryQuantize(p: {
  net: Network;
  calibration: number[][];
  inputBits: number;
  weightBits: number;
  activationBits: number;
}) {
  const { net, calibration, ...bits } = p;
  try {
    return quantizeNetwork(net, { calibration, ...bits });
  } catch (e) {
    if (isVerinferError(e, "QUANTIZATION_OVERFLOW")) return undefined;
    throw e;
  }
}

function randomInputs(qnet: QuantizedNetwork, seeds: readonly number[][]): bigint[][] {
  const { lo, hi } = qnet.input;
  const span = hi - lo + 1n;
  return [
    new Array<bigint>(qnet.inputSize).fill(lo),
    new Array<bigint>(qnet.inputSize).fill(hi),
    ...seeds.map((s) =>
      Array.from(
        { length: qnet.inputSize },
        (_, i) => lo + ((BigInt(s[i % s.length] ?? 0) * 7919n + BigInt(i) * 104729n) % span),
      ),
    ),
  ];
}

describe("quantizeNetwork on convolutional networks", () => {
  it("keeps every value integerForward computes inside its proven range, on corners and random inputs", () => {
    let quantized = 0;
    fc.assert(
      fc.property(
        tinyCnn,
        fc.array(fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), { maxLength: 6 }),
        (p, seeds) => {
          const qnet = tryQuantize(p);
          if (!qnet) return;
          quantized++;
          expect(() => quantizedNetworkFromJson(quantizedNetworkToJson(qnet))).not.toThrow();
          for (const xq of randomInputs(qnet, seeds)) {
            const { output } = integerForward(qnet, xq); // throws INTERNAL if a quotient leaves its range
            const half = 1n << BigInt(qnet.outputWidth - 1);
            for (const y of output) expect(y >= -half && y < half).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
    expect(quantized).toBeGreaterThan(100);
  });

  it("rescales a conv → average pool → ReLU chain once per pooled output, and a power-of-two pool by shifting", () => {
    const net: Network = {
      inputShape: [4, 4, 1],
      inputSize: 16,
      layers: [
        {
          kind: "conv2d",
          name: "c",
          filters: 2,
          kernelSize: [1, 1],
          strides: [1, 1],
          padding: "valid",
          activation: "linear",
          kernel: [[[[0.5, -0.25]]]],
          bias: [0, 0.1],
        },
        { kind: "avgPool2d", name: "p", poolSize: [2, 2], strides: [2, 2], padding: "valid" },
        { kind: "activation", name: "r", activation: "relu" },
        { kind: "reshape", name: "f", shape: [8] },
        { name: "d", units: 1, activation: "linear", kernel: new Array(8).fill([0.5]), bias: [0] },
      ],
    };
    const qnet = quantizeNetwork(net, { calibration: [new Array(16).fill(1)] });
    expect(qnet.layers.map((l) => l.kind)).toEqual(["conv2d", "sumPool2d", "rescale", "dense", "rescale"]);
    const rescale = qnet.layers[2];
    expect(rescale?.kind === "rescale" && rescale.size === 8 && rescale.multiplier === 1n).toBe(true);
  });
});

describe("generated CNN circuits vs integerForward", () => {
  it("agree on outputs, the proven class and both commitments for random tiny CNNs and inputs", async () => {
    const nets = fc
      .sample(tinyCnn, { numRuns: 40, seed: 20261201 })
      .map(tryQuantize)
      .filter((q) => q !== undefined);
    // As few circuits as cover every layer kind and the argmax head: each compile takes seconds.
    // A weighted layer that reads pooled sums of rescaled values (no rescale between) counts as a kind of its own.
    const readsPooledSums = (q: QuantizedNetwork) =>
      q.layers.some(
        (l, i) =>
          (l.kind === "dense" || l.kind === "conv2d") &&
          q.layers[i - 1]?.kind === "sumPool2d" &&
          (i === 1 || q.layers[i - 2]?.kind === "rescale"),
      );
    const kindsOf = (q: QuantizedNetwork) =>
      new Set([
        ...q.layers.map((l) => (l.kind === "rescale" ? `rescale:${l.activation}` : l.kind)),
        ...(q.head ? ["argmax"] : []),
        ...(readsPooledSums(q) ? ["weighted after pooled sums"] : []),
      ]);
    nets.sort((a, b) => kindsOf(b).size - kindsOf(a).size);
    const picked: QuantizedNetwork[] = [];
    const kinds = new Set<string>();
    for (const q of nets) {
      if (![...kindsOf(q)].some((k) => !kinds.has(k))) continue;
      for (const k of kindsOf(q)) kinds.add(k);
      picked.push(q);
    }
    console.log(`compiling ${picked.length} random CNN circuits`);
    expect([...kinds].sort()).toEqual([
      "argmax",
      "conv2d",
      "dense",
      "maxPool2d",
      "rescale:leakyRelu",
      "rescale:linear",
      "rescale:relu",
      "rescale:relu6",
      "sumPool2d",
      "weighted after pooled sums",
    ]);
    for (const qnet of picked) {
      const commitment = await modelCommitment(qnet);
      const workDir = await mkdtemp(path.join(os.tmpdir(), "verinfer-cnn-"));
      try {
        const compiled = await compileCircuit({
          source: generateCircuit({ network: qnet, modelCommitment: commitment }),
          workDir,
        });
        const r1cs = parseR1cs(compiled.r1cs);
        const nOut = qnet.outputShape.reduce((a, b) => a * b, 1);
        expect(r1cs.nOutputs).toBe(3 + nOut + (qnet.head ? 1 : 0));
        const outLo = -(1n << BigInt(qnet.outputWidth - 1));
        for (const [k, xq] of randomInputs(qnet, [
          [1, 2, 3],
          [5, 8, 13],
          [21, 34, 55],
        ]).entries()) {
          const inputSalt = BigInt(k) * 1000003n;
          const outputSalt = FIELD_PRIME - 1n - BigInt(k);
          const w = await wtnsToBigints(await computeWitness(compiled.wasm, { input: xq, inputSalt, outputSalt }));
          const expected = integerForward(qnet, xq);
          expect(w[1]).toBe(commitment);
          expect(w[2]).toBe(
            await commitValues({ values: xq, lo: qnet.input.lo, width: qnet.input.bits, salt: inputSalt }),
          );
          expect(w[3]).toBe(
            await commitValues({ values: expected.output, lo: outLo, width: qnet.outputWidth, salt: outputSalt }),
          );
          expect(w.slice(4, 4 + nOut).map(fromField)).toEqual(expected.output);
          if (qnet.head) expect(w[4 + nOut]).toBe(BigInt(expected.class as number));
          expect(checkR1cs(r1cs, w).ok).toBe(true);
        }
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    }
  });
});

describe("extractNetwork on tfjs CNNs", () => {
  function cnn(): import("@tensorflow/tfjs").Sequential {
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({
          name: "c1",
          inputShape: [6, 6, 1],
          filters: 2,
          kernelSize: 3,
          padding: "same",
          activation: "linear",
        }),
        tf.layers.batchNormalization({ name: "bn1" }),
        tf.layers.activation({ name: "r1", activation: "relu" }),
        tf.layers.maxPooling2d({ name: "mp", poolSize: 2 }),
        tf.layers.dropout({ name: "drop", rate: 0.5 }),
        tf.layers.conv2d({ name: "c2", filters: 2, kernelSize: 2, strides: 1, activation: "relu" }),
        tf.layers.batchNormalization({ name: "bn2" }),
        tf.layers.averagePooling2d({ name: "ap", poolSize: 2 }),
        tf.layers.flatten({ name: "flat" }),
        tf.layers.dense({ name: "out", units: 3, activation: "softmax" }),
      ],
    });
    // Non-trivial batch-norm statistics, so folding is tested.
    for (const name of ["bn1", "bn2"]) {
      const bn = m.getLayer(name);
      bn.setWeights([
        tf.tensor1d([1.5, 0.5]),
        tf.tensor1d([0.1, -0.2]),
        tf.tensor1d([0.3, -0.1]),
        tf.tensor1d([2, 0.5]),
      ]);
    }
    return m;
  }

  it("folds BatchNormalization, drops Dropout, keeps a standalone BN as an affine, and makes softmax the head", async () => {
    const model = cnn();
    const net = extractNetwork(model);
    expect(net.head).toBe("softmax");
    expect(net.layers.map((l) => l.kind ?? "dense")).toEqual([
      "conv2d",
      "activation",
      "maxPool2d",
      "conv2d",
      "conv2d", // bn2 after a fused ReLU: a 1×1 diagonal convolution
      "avgPool2d",
      "reshape",
      "dense",
    ]);
    const x = Array.from({ length: 36 }, (_, i) => ((i * 37) % 11) / 10);
    const expected = (
      model.predict(tf.tensor(x, [1, 6, 6, 1])) as import("@tensorflow/tfjs").Tensor
    ).arraySync() as number[][];
    const { outputs } = await runFloat({ model: net, inputs: [x], inputShape: net.inputShape });
    const probabilities = softmax(outputs[0] as number[]);
    for (const [j, p] of probabilities.entries()) expect(p).toBeCloseTo((expected[0] as number[])[j] as number, 5);
    expect(toTfModel(net).outputs[0]?.shape).toEqual([null, 3]);
  });

  it("names every unsupported layer at once, with the supported list", () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ name: "dilated", inputShape: [8, 8, 1], filters: 1, kernelSize: 2, dilationRate: 2 }),
        tf.layers.upSampling2d({ name: "up" }),
        tf.layers.flatten({ name: "f" }),
        tf.layers.dense({ name: "elu_dense", units: 4, activation: "elu" }),
        tf.layers.dense({ name: "ok", units: 2 }),
      ],
    });
    let error: unknown;
    try {
      extractNetwork(model);
    } catch (e) {
      error = e;
    }
    expect(isVerinferError(error, "UNSUPPORTED_LAYER")).toBe(true);
    const meta = (error as VerinferError).meta as { unsupported: { layer: string }[]; supported: string[] };
    expect(meta.unsupported.map((u) => u.layer)).toEqual(["dilated", "up", "elu_dense"]);
    expect(meta.supported).toContain("Conv2D");
    expect((error as VerinferError).message).toContain("up");
  });
});

describe("model commitment of CNNs", () => {
  const base = (
    over: Partial<Extract<Layer, { kind: "conv2d" }>>,
    pool: "avgPool2d" | "maxPool2d" = "avgPool2d",
  ): Network => ({
    inputShape: [6, 6, 1],
    inputSize: 36,
    layers: [
      {
        kind: "conv2d",
        name: "c",
        filters: 1,
        kernelSize: [3, 3],
        strides: [1, 1],
        padding: "same",
        activation: "relu",
        kernel: [
          [[[0.5]], [[0.25]], [[-0.5]]],
          [[[0.5]], [[1]], [[-0.25]]],
          [[[0.5]], [[0.25]], [[0.75]]],
        ],
        bias: [0.1],
        ...over,
      },
      { kind: pool, name: "p", poolSize: [2, 2], strides: [2, 2], padding: "valid" },
      { kind: "reshape", name: "f", shape: [0] },
      { name: "d", units: 2, activation: "linear", kernel: [], bias: [0.5, -0.5] },
    ],
  });
  /** Fills the flatten and dense sizes for whatever the conv outputs. */
  function complete(net: Network): Network {
    const shapes = networkShapes({ ...net, layers: net.layers.slice(0, 2) });
    const n = (shapes.at(-1) as number[]).reduce((a, b) => a * b, 1);
    const layers = net.layers.slice(0, 2);
    layers.push({ kind: "reshape", name: "f", shape: [n] });
    layers.push({
      name: "d",
      units: 2,
      activation: "linear",
      kernel: Array.from({ length: n }, (_, i) => [((i % 5) - 2) / 4, 0.5]),
      bias: [0.5, -0.5],
    });
    return { ...net, layers };
  }

  it("differs for models that differ only in stride, padding, pool kind or softmax head", async () => {
    const calibration = [Array.from({ length: 36 }, (_, i) => (i % 7) / 7)];
    const variants = [
      complete(base({})),
      complete(base({ strides: [2, 2] })),
      complete(base({ padding: "valid" })),
      complete(base({}, "maxPool2d")),
      { ...complete(base({})), head: "softmax" as const },
    ];
    const qnets = variants.map((v) => quantizeNetwork(v, { calibration, inputRange: [0, 1] }));
    const commitments = await Promise.all(qnets.map(modelCommitment));
    expect(new Set(commitments.map(String)).size).toBe(variants.length);
    const descriptors = qnets.map((q) => architectureDescriptor(q).join());
    expect(new Set(descriptors).size).toBe(variants.length);
  });

  it("rejects a quantized network whose weights do not match its stated kernel", () => {
    const qnet = quantizeNetwork(complete(base({})), { calibration: [new Array(36).fill(0.5)] });
    const json = quantizedNetworkToJson(qnet) as { layers: { weights?: string[][] }[] };
    (json.layers[0] as { weights: string[][] }).weights[0]?.pop();
    expect(() => quantizedNetworkFromJson(json)).toThrow();
    expect(VerinferError).toBeDefined();
  });
});
