/**
 * A small convolutional network, end to end: train a tiny CNN with TensorFlow.js (a few seconds), compile it to a
 * circuit, prove one inference and verify the receipt. The model ends in a softmax: the circuit proves the logits
 * and their argmax, so the receipt states a **proven class** (a public signal of the proof) next to the float
 * probabilities (not proven).
 *
 * The task: 8×8 images of a bar (horizontal, vertical, diagonal or anti-diagonal, at a random offset) in noise.
 * Model: Conv2D(4, 3×3, relu) → MaxPooling2D(2) → Flatten → Dense(4, softmax).
 *
 * Run: `npm run example:cnn`. In an application, import from "verinfer" instead of "../src/index.js".
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { compileModel, verifiableInfer, verifyReceipt } from "../src/index.js";

const SIZE = 8;
const CLASSES = ["horizontal", "vertical", "diagonal", "anti-diagonal"] as const;

/** Seeded bars in noise, pixels in [0, 1], flat row-major 8×8 images. */
export function bars(count: number, seed: number): { xs: number[][]; labels: number[] } {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const xs: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const label = i % CLASSES.length;
    const at = 1 + Math.floor(rand() * (SIZE - 2));
    const img: number[] = [];
    for (let r = 0; r < SIZE; r++) {
      for (let c = 0; c < SIZE; c++) {
        const on = [r === at, c === at, r === c, r + c === SIZE - 1][label];
        img.push(Math.round(((on ? 0.7 : 0) + rand() * 0.3) * 1000) / 1000);
      }
    }
    xs.push(img);
    labels.push(label);
  }
  return { xs, labels };
}

/** What the example reports. */
export interface CnnExampleResult {
  constraints: number;
  /** The true class of the proven input. */
  label: number;
  /** The proven class: argmax of the proven logits (lowest index on ties), a public signal of the proof. */
  provenClass: number;
  /** Float probabilities (softmax of the float logits), not proven. */
  probabilities: number[];
  valid: boolean;
  reason?: string;
}

/**
 * @param options.cacheDir - artifact cache (default: the user cache).
 */
export async function main(options: { cacheDir?: string } = {}): Promise<CnnExampleResult> {
  // 1. Train a tiny CNN on the cpu backend (bit-reproducible; tfjs's wasm backend lacks a convolution gradient).
  // Seeded initializers and data: the same weights, so the same cached package, every run.
  await tf.setBackend("cpu");
  const train = bars(400, 7);
  const model = tf.sequential({
    name: "bars-cnn",
    layers: [
      tf.layers.conv2d({
        inputShape: [SIZE, SIZE, 1],
        filters: 4,
        kernelSize: 3,
        activation: "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        name: "conv",
      }),
      tf.layers.maxPooling2d({ poolSize: 2, name: "pool" }),
      tf.layers.flatten({ name: "flatten" }),
      tf.layers.dense({
        units: CLASSES.length,
        activation: "softmax",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        name: "classes",
      }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.02), loss: "sparseCategoricalCrossentropy" });
  const xs = tf.tensor4d(train.xs.flat(), [train.xs.length, SIZE, SIZE, 1]);
  const ys = tf.tensor1d(train.labels, "float32");
  await model.fit(xs, ys, { epochs: 15, batchSize: 32, shuffle: false, verbose: 0 });
  tf.dispose([xs, ys]);

  // 2. Compile: calibration samples in the units the model was trained on fix the accepted input range.
  const pkg = await compileModel(model, {
    calibration: train.xs.slice(0, 64),
    name: "bars-cnn",
    quiet: true,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
  });

  // 3. Prove one inference on an image the model has not seen, given in its natural [8, 8, 1] shape.
  const test = bars(4, 99);
  const k = 2;
  const image = test.xs[k] as number[];
  const nested = Array.from({ length: SIZE }, (_, r) => image.slice(r * SIZE, (r + 1) * SIZE).map((v) => [v]));
  const { receipt } = await verifiableInfer(pkg, nested);

  // 4. Verify as anyone holding the package would.
  const verdict = await verifyReceipt(receipt, { modelPackage: pkg });
  const output = receipt.output as typeof receipt.output & { class?: number; probabilities?: number[] };
  if (output.class === undefined)
    throw new Error("the receipt states no proven class: this verinfer has no softmax head");
  return {
    constraints: pkg.manifest.circuit.constraints,
    label: test.labels[k] as number,
    provenClass: output.class,
    probabilities: output.probabilities ?? [],
    valid: verdict.valid,
    ...(verdict.reason ? { reason: verdict.reason } : {}),
  };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (r) => {
      console.log(
        `proven class: ${r.provenClass} (${CLASSES[r.provenClass]}), true class ${r.label} (${CLASSES[r.label]}); ` +
          `float probabilities (not proven) ${r.probabilities.map((p) => p.toFixed(3)).join(", ")}; ` +
          `${r.constraints} constraints; receipt ${r.valid ? "valid" : `INVALID: ${r.reason}`}`,
      );
      process.exitCode = r.valid ? 0 : 1;
    },
    (e) => {
      console.error(e);
      process.exitCode = 2;
    },
  );
}
