// The everyday models of issue 21 — tfjs LayersModels built here in JavaScript and the ONNX fixtures committed under
// test/fixtures/onnx — each through verinfer: accepted or refused (with the message), constraints, compile time
// (quantize + the direct backend's R1CS), and float vs proven on a few hundred seeded synthetic inputs (max |error|,
// the largest per-output error relative to that output's range, argmax agreement where there is more than one
// output). `--prove` also compiles a package (dev setup) and proves and verifies one input.
//
//   npm run bench:models -- [--json] [--samples 200] [--prove] [--only name,name]
import { readdirSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { modelCommitment } from "../src/attest/model-commitment.js";
import { buildModelCircuit } from "../src/circuits/direct/build-model-circuit.js";
import { writeR1cs } from "../src/circuits/direct/write-r1cs.js";
import { VerinferError } from "../src/errors.js";
import { extractNetwork } from "../src/models/extract-network.js";
import { loadModel } from "../src/models/load-model.js";
import { measureFidelity } from "../src/models/measure-fidelity.js";
import type { DenseNetwork } from "../src/models/network.js";
import { compileModel } from "../src/pipeline/compile-model.js";
import { quantizeModel } from "../src/pipeline/quantize-model.js";
import { verifiableInfer } from "../src/pipeline/verifiable-infer.js";
import { verifyReceipt } from "../src/receipts/verify-receipt.js";
import { argValue } from "./bench-util.js";
import { mulberry32 } from "./random-layers.js";

const SAMPLES = Number(argValue("--samples") ?? 200);
const PROVE = process.argv.includes("--prove");
const JSON_OUT = process.argv.includes("--json");
const ONLY = argValue("--only")?.split(",");
// npm run runs at the package root.
const ONNX_DIR = path.resolve("test", "fixtures", "onnx");

/** How a zoo model's inputs are drawn: uniform reals in a range, token ids below a vocabulary, or given rows. */
type Inputs = { kind: "uniform"; lo: number; hi: number } | { kind: "ids"; vocab: number } | { kind: "tabular" };

interface ZooModel {
  name: string;
  source: string;
  build: () => Promise<tf.LayersModel | string>;
  inputs: Inputs;
  /** Forces one input-scale mode (to show what a shared scale does to raw units). */
  inputScales?: "shared";
}

/** Seeded glorot-like weights for every variable of a model, so each run measures the same network. */
function seedWeights(model: tf.LayersModel, seed: number): tf.LayersModel {
  const rand = mulberry32(seed);
  model.setWeights(
    model.getWeights().map((w) => {
      const n = w.size;
      const fanIn = w.shape.length > 1 ? w.shape.slice(0, -1).reduce((a, b) => a * b, 1) : 1;
      const scale = w.shape.length > 1 ? Math.sqrt(3 / fanIn) : 0.1;
      return tf.tensor(
        Array.from({ length: n }, () => (rand() * 2 - 1) * scale),
        w.shape,
      );
    }),
  );
  return model;
}

const L = tf.layers;

function mlp(activation: "sigmoid" | "tanh" | "gelu" | "swish"): () => Promise<tf.LayersModel> {
  return async () => {
    const m = tf.sequential();
    m.add(L.dense({ inputShape: [16], units: 24, activation }));
    m.add(L.dense({ units: 16, activation }));
    m.add(L.dense({ units: 4, activation: "softmax" }));
    return seedWeights(m, 11);
  };
}

/** A ResNet-style 16×16×3 CNN: a padded stride-2 stem, two residual blocks (x + conv(conv(x))), a dense head. */
async function residualCnn(): Promise<tf.LayersModel> {
  const input = tf.input({ shape: [16, 16, 3] });
  let x = L.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: "same", activation: "relu" }).apply(
    input,
  ) as tf.SymbolicTensor;
  for (let b = 0; b < 2; b++) {
    const y = L.conv2d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu" }).apply(
      x,
    ) as tf.SymbolicTensor;
    const z = L.conv2d({ filters: 4, kernelSize: 3, padding: "same" }).apply(y) as tf.SymbolicTensor;
    x = L.activation({ activation: "relu" }).apply(L.add().apply([x, z]) as tf.SymbolicTensor) as tf.SymbolicTensor;
  }
  const pooled = L.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = L.dense({ units: 10, activation: "softmax" }).apply(pooled) as tf.SymbolicTensor;
  return seedWeights(tf.model({ inputs: input, outputs: out }), 1);
}

/** Two conv branches of one input, concatenated on channels. */
async function concatBranches(): Promise<tf.LayersModel> {
  const input = tf.input({ shape: [8, 8, 1] });
  const a = L.conv2d({ filters: 3, kernelSize: 3, padding: "same", activation: "relu" }).apply(input);
  const b = L.conv2d({ filters: 2, kernelSize: 1, activation: "relu" }).apply(input);
  const cat = L.concatenate().apply([a, b] as tf.SymbolicTensor[]) as tf.SymbolicTensor;
  const pooled = L.maxPooling2d({ poolSize: 2 }).apply(cat) as tf.SymbolicTensor;
  const out = L.dense({ units: 10 }).apply(L.flatten().apply(pooled) as tf.SymbolicTensor) as tf.SymbolicTensor;
  return seedWeights(tf.model({ inputs: input, outputs: out }), 2);
}

/** A 3-channel 16×16 CNN with padded stride-2 convs (what a PyTorch Conv(stride 2, pad 1) becomes). */
async function paddedStride2(): Promise<tf.LayersModel> {
  const m = tf.sequential();
  m.add(
    L.conv2d({ inputShape: [16, 16, 3], filters: 6, kernelSize: 3, strides: 2, padding: "same", activation: "relu" }),
  );
  m.add(L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: "same", activation: "relu" }));
  m.add(L.flatten());
  m.add(L.dense({ units: 10, activation: "softmax" }));
  return seedWeights(m, 3);
}

async function conv1d(): Promise<tf.LayersModel> {
  const m = tf.sequential();
  m.add(L.conv1d({ inputShape: [32, 2], filters: 6, kernelSize: 3, activation: "relu" }));
  m.add(L.maxPooling1d({ poolSize: 2 }));
  m.add(L.conv1d({ filters: 6, kernelSize: 3, activation: "relu" }));
  m.add(L.globalAveragePooling1d({}));
  m.add(L.dense({ units: 3, activation: "softmax" }));
  return seedWeights(m, 4);
}

async function textClassifier(): Promise<tf.LayersModel> {
  const m = tf.sequential();
  m.add(L.embedding({ inputDim: 50, outputDim: 8, inputLength: 16 }));
  m.add(L.globalAveragePooling1d({}));
  m.add(L.dense({ units: 8, activation: "relu" }));
  m.add(L.dense({ units: 2, activation: "softmax" }));
  return seedWeights(m, 5);
}

async function depthwise(): Promise<tf.LayersModel> {
  const m = tf.sequential();
  m.add(L.conv2d({ inputShape: [12, 12, 3], filters: 6, kernelSize: 3, activation: "relu" }));
  m.add(L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 1, padding: "same", activation: "relu" }));
  m.add(L.conv2d({ filters: 8, kernelSize: 1, activation: "relu" }));
  m.add(L.globalAveragePooling2d({}));
  m.add(L.dense({ units: 5 }));
  return seedWeights(m, 6);
}

/** A classifier ending in the tfjs softmax *layer* (not the activation). */
async function softmaxLayerHead(): Promise<tf.LayersModel> {
  const m = tf.sequential();
  m.add(L.dense({ inputShape: [20], units: 16, activation: "relu" }));
  m.add(L.dense({ units: 6 }));
  m.add(L.softmax());
  return seedWeights(m, 7);
}

/**
 * A house-price regressor on raw units (square feet 500–3,500, a 0/1 flag, rooms 1–6, a 0–1 score → price in
 * thousands), the first layer's weights sized to those units as a trained model's are.
 */
async function tabularRegressor(): Promise<tf.LayersModel> {
  const m = tf.sequential();
  m.add(L.dense({ inputShape: [4], units: 8, activation: "relu" }));
  m.add(L.dense({ units: 1 }));
  seedWeights(m, 8);
  const [, b, k2, b2] = m.getWeights() as tf.Tensor[];
  const rand = mulberry32(80);
  const perFeature = [0.002, 8, 1.5, 20];
  const kernel = Array.from({ length: 4 }, (_, i) =>
    Array.from({ length: 8 }, () => (rand() * 2 - 1) * (perFeature[i] as number)),
  );
  m.setWeights([tf.tensor2d(kernel), b as tf.Tensor, (k2 as tf.Tensor).mul(40), (b2 as tf.Tensor).add(50)]);
  return m;
}

function tabularRow(rand: () => number): number[] {
  return [
    Math.round(500 + 3000 * rand()),
    rand() < 0.5 ? 0 : 1,
    1 + Math.floor(6 * rand()),
    Math.round(100 * rand()) / 100,
  ];
}

const TFJS: ZooModel[] = [
  { name: "residual-cnn-16x16x3", source: "tfjs", build: residualCnn, inputs: { kind: "uniform", lo: 0, hi: 1 } },
  { name: "concat-branches", source: "tfjs", build: concatBranches, inputs: { kind: "uniform", lo: 0, hi: 1 } },
  { name: "mlp-sigmoid", source: "tfjs", build: mlp("sigmoid"), inputs: { kind: "uniform", lo: -1, hi: 1 } },
  { name: "mlp-tanh", source: "tfjs", build: mlp("tanh"), inputs: { kind: "uniform", lo: -1, hi: 1 } },
  { name: "mlp-gelu", source: "tfjs", build: mlp("gelu"), inputs: { kind: "uniform", lo: -1, hi: 1 } },
  { name: "mlp-swish", source: "tfjs", build: mlp("swish"), inputs: { kind: "uniform", lo: -1, hi: 1 } },
  { name: "padded-stride2-cnn", source: "tfjs", build: paddedStride2, inputs: { kind: "uniform", lo: 0, hi: 1 } },
  { name: "conv1d-maxpool1d", source: "tfjs", build: conv1d, inputs: { kind: "uniform", lo: -1, hi: 1 } },
  { name: "embedding-gap1d-text", source: "tfjs", build: textClassifier, inputs: { kind: "ids", vocab: 50 } },
  { name: "depthwise-cnn", source: "tfjs", build: depthwise, inputs: { kind: "uniform", lo: 0, hi: 1 } },
  { name: "softmax-layer-head", source: "tfjs", build: softmaxLayerHead, inputs: { kind: "uniform", lo: -1, hi: 1 } },
  { name: "tabular-raw-units", source: "tfjs", build: tabularRegressor, inputs: { kind: "tabular" } },
  {
    name: "tabular-raw-units (shared scale)",
    source: "tfjs",
    build: tabularRegressor,
    inputs: { kind: "tabular" },
    inputScales: "shared",
  },
];

const ONNX: ZooModel[] = readdirSync(ONNX_DIR)
  .filter((f) => f.endsWith(".onnx"))
  .sort()
  .map((f) => ({
    name: f.replace(/\.onnx$/, ""),
    source: "onnx",
    build: async () => path.join(ONNX_DIR, f),
    // The fixtures' goldens are standard normal inputs: ±2 covers 95 % of them.
    inputs: { kind: "uniform", lo: -2, hi: 2 },
  }));

function draw(inputs: Inputs, size: number, rand: () => number): number[] {
  switch (inputs.kind) {
    case "uniform":
      return Array.from({ length: size }, () => inputs.lo + (inputs.hi - inputs.lo) * rand());
    case "ids":
      return Array.from({ length: size }, () => Math.floor(rand() * inputs.vocab));
    case "tabular":
      return tabularRow(rand);
  }
}

interface Row {
  model: string;
  source: string;
  accepted: boolean;
  refusal?: string;
  /** The refusal's details (what is supported, what to change). */
  refusalDetails?: string;
  constraints?: number;
  compileMs?: number;
  inputScales?: "shared" | "perFeature";
  samples?: number;
  maxAbsError?: number;
  maxAbsFloat?: number;
  maxRelativeError?: number;
  argmaxAgreement?: number;
  proveMs?: number;
  verifyMs?: number;
  verified?: boolean;
}

async function measure(z: ZooModel): Promise<Row> {
  const row: Row = { model: z.name, source: z.source, accepted: false };
  const model = await z.build();
  try {
    // Import first: a refusal comes here, before any float run or quantization.
    const float: DenseNetwork = extractNetwork(typeof model === "string" ? await loadModel(model) : model);
    const size = float.inputSize;
    const first = float.layers[0];
    const inputs: Inputs =
      first?.kind === "embedding" && z.inputs.kind !== "ids" ? { kind: "ids", vocab: first.inputDim } : z.inputs;
    const rand = mulberry32(42);
    const calibration = Array.from({ length: 64 }, () => draw(inputs, size, rand));
    if (inputs.kind === "tabular") calibration.push([500, 0, 1, 0], [3500, 1, 6, 1]);
    const options = {
      calibration,
      ...(inputs.kind === "uniform" ? { inputRange: [inputs.lo, inputs.hi] as [number, number] } : {}),
      ...(z.inputScales ? { inputScales: z.inputScales } : {}),
    };
    const t0 = performance.now();
    const { float: f, network } = await quantizeModel(float, options);
    const mc = await modelCommitment(network);
    const cs = buildModelCircuit({ network, modelCommitment: mc, track: true });
    writeR1cs(cs);
    row.compileMs = Math.round(performance.now() - t0);
    row.accepted = true;
    row.constraints = cs.nConstraints;
    row.inputScales = network.input.featureFracBits ? "perFeature" : "shared";
    const test = Array.from({ length: SAMPLES }, () => draw(inputs, size, rand));
    const fidelity = await measureFidelity({ float: f, network, samples: test });
    if (fidelity) {
      row.samples = fidelity.samples;
      row.maxAbsError = fidelity.maxAbsError;
      row.maxAbsFloat = fidelity.maxAbsFloat;
      row.maxRelativeError = fidelity.maxRelativeError;
      if (fidelity.argmaxAgreement !== undefined) row.argmaxAgreement = fidelity.argmaxAgreement;
    }
    if (PROVE) {
      const pkg = await compileModel(float, { ...options, quiet: true });
      const p0 = performance.now();
      const { receipt } = await verifiableInfer(pkg, test[0] as number[]);
      row.proveMs = Math.round(performance.now() - p0);
      const v0 = performance.now();
      row.verified = (await verifyReceipt(receipt, { modelPackage: pkg })).valid;
      row.verifyMs = Math.round(performance.now() - v0);
    }
  } catch (e) {
    if (!(e instanceof VerinferError)) throw e;
    row.accepted = false;
    row.refusal = `${e.code}: ${e.shortMessage}`;
    if (e.details) row.refusalDetails = e.details;
  } finally {
    if (typeof model !== "string") model.dispose();
  }
  return row;
}

const zoo = [...TFJS, ...ONNX].filter((z) => !ONLY || ONLY.includes(z.name));
const rows: Row[] = [];
for (const z of zoo) {
  const row = await measure(z);
  rows.push(row);
  if (!JSON_OUT) console.error(`${z.name}: ${row.accepted ? `${row.constraints} constraints` : row.refusal}`);
}
if (JSON_OUT) console.log(JSON.stringify({ samples: SAMPLES, prove: PROVE, rows }, null, 2));
else {
  const fmt = (v: number | undefined, digits = 3) => (v === undefined ? "—" : v.toPrecision(digits));
  console.log(
    "| model | source | accepted | constraints | compile (ms) | inputs | max abs(float − proven) | max error / output range | argmax agreement |" +
      (PROVE ? " prove (ms) | verify (ms) |" : ""),
  );
  console.log(`|---|---|---|---|---|---|---|---|---|${PROVE ? "---|---|" : ""}`);
  for (const r of rows) {
    const cells = r.accepted
      ? [
          r.model,
          r.source,
          "yes",
          String(r.constraints),
          String(r.compileMs),
          `${r.samples}${r.inputScales === "perFeature" ? " (per-feature scales)" : ""}`,
          fmt(r.maxAbsError),
          r.maxRelativeError === undefined ? "—" : `${(r.maxRelativeError * 100).toFixed(2)} %`,
          r.argmaxAgreement === undefined ? "— (one output)" : `${(r.argmaxAgreement * 100).toFixed(1)} %`,
          ...(PROVE ? [String(r.proveMs), `${r.verifyMs}${r.verified ? "" : " (INVALID)"}`] : []),
        ]
      : [
          r.model,
          r.source,
          `no: ${r.refusal?.replaceAll("|", "/")}`,
          "",
          "",
          "",
          "",
          "",
          "",
          ...(PROVE ? ["", ""] : []),
        ];
    console.log(`| ${cells.join(" | ")} |`);
  }
}
