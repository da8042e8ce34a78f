/**
 * Trains the two small models shipped with verinfer and writes them in the tfjs LayersModel directory format:
 *
 * - `examples/models/demo-glyphs/`: 16 → Dense(8, relu) → Dense(4, linear), classifies noisy 4x4 glyphs;
 * - `bench/models/mlp-784-56-10/`: 784 → Dense(56, relu) → Dense(10, linear), classifies 28x28 gaussian blobs.
 *
 * Each directory gets `model.json`, `weights.bin` and `samples.json` (calibration samples, held-out inputs and
 * their labels). Data and weights come from fixed seeds, so a rerun reproduces the same files.
 *
 * Usage: `npm run train-example` (runs `node build/examples/train-demo-model.js [--out-root <dir>]`) (default: the repository root).
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { saveModel } from "../src/models/save-model.js";

/** A labelled dataset of flat inputs. */
export interface Dataset {
  /** One flat input per sample. */
  xs: number[][];
  /** Class index of each sample. */
  labels: number[];
  /** Number of classes. */
  numClasses: number;
}

/** What {@link trainAndSave} trains and where it writes it. */
export interface ModelSpec {
  /** Model name, also the output directory's name. */
  name: string;
  /** Output directory, relative to the output root. */
  dir: string;
  /** The data, already in random order: the first `dataset.xs.length - holdOut` samples are for training. */
  dataset: Dataset;
  /** Samples kept out of training, to measure accuracy and to pick `samples.json` inputs from. */
  holdOut: number;
  /** Units of the hidden relu layer. */
  hidden: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Seed of the weight initializers. */
  seed: number;
  /** Number of training samples written to `samples.json` as `calibration`. */
  calibrationCount: number;
  /** Number of held-out samples written to `samples.json` as `inputs`. */
  inputCount: number;
}

/** Accuracies reached by {@link trainAndSave}. */
export interface TrainResult {
  name: string;
  trainAccuracy: number;
  testAccuracy: number;
  finalLoss: number;
  seconds: number;
  /** Directory the model was written to. */
  outDir: string;
}

/** Contents of `samples.json`. */
export interface SamplesFile {
  /** Training samples, for input-range and activation-scale calibration. */
  calibration: number[][];
  /** Held-out samples inside the calibration range, cycling through the classes. */
  inputs: number[][];
  /** True class of each entry of `inputs`. */
  labels: number[];
}

/**
 * mulberry32: a tiny seeded PRNG, good enough for synthetic data and identical on every platform.
 *
 * @param seed - any 32-bit integer.
 * @returns a function returning uniform floats in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Clips to [0, 1] and rounds to 3 decimals, so that `samples.json` stays compact and holds exactly the values the
 * model was trained on.
 */
function pixel(v: number): number {
  return Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;
}

// biome-ignore format: one row of the glyph per line
const GLYPHS: readonly (readonly number[])[] = [
  // horizontal bar
  [0, 0, 0, 0,
   1, 1, 1, 1,
   0, 0, 0, 0,
   0, 0, 0, 0],
  // vertical bar
  [0, 1, 0, 0,
   0, 1, 0, 0,
   0, 1, 0, 0,
   0, 1, 0, 0],
  // diagonal
  [1, 0, 0, 0,
   0, 1, 0, 0,
   0, 0, 1, 0,
   0, 0, 0, 1],
  // anti-diagonal
  [0, 0, 0, 1,
   0, 0, 1, 0,
   0, 1, 0, 0,
   1, 0, 0, 0],
];

/**
 * Noisy 4x4 glyphs: each sample is one of four fixed binary patterns scaled by 0.8 plus uniform noise in [0, 0.2].
 *
 * @param count - number of samples.
 * @param seed - PRNG seed; the same seed gives the same dataset.
 * @returns samples in random class order, 16 values in [0, 1] each, 4 classes.
 */
export function glyphDataset(count: number, seed: number): Dataset {
  const rand = mulberry32(seed);
  const xs: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const label = Math.floor(rand() * GLYPHS.length);
    const glyph = GLYPHS[label] as readonly number[];
    xs.push(glyph.map((on) => pixel(on * 0.8 + rand() * 0.2)));
    labels.push(label);
  }
  return { xs, labels, numClasses: GLYPHS.length };
}

const GRID = 28;
const BLOB_SIGMA = 2.5;
// Two rows of five centres, at least five pixels apart, so that every class is separable.
const BLOB_CENTRES: readonly (readonly [number, number])[] = [7, 20].flatMap((row) =>
  [4, 9, 14, 19, 24].map((col) => [row, col] as const),
);

/**
 * 28x28 gaussian blobs: class `k` is a blob of peak 0.9 centred at a fixed position, plus uniform noise in [0, 0.1].
 *
 * @param count - number of samples.
 * @param seed - PRNG seed; the same seed gives the same dataset.
 * @returns samples in random class order, 784 values in [0, 1] each (row-major), 10 classes.
 */
export function blobDataset(count: number, seed: number): Dataset {
  const rand = mulberry32(seed);
  const templates = BLOB_CENTRES.map(([cr, cc]) => {
    const t: number[] = [];
    for (let r = 0; r < GRID; r++) {
      for (let c = 0; c < GRID; c++) t.push(0.9 * Math.exp(-((r - cr) ** 2 + (c - cc) ** 2) / (2 * BLOB_SIGMA ** 2)));
    }
    return t;
  });
  const xs: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const label = Math.floor(rand() * templates.length);
    const template = templates[label] as number[];
    xs.push(template.map((v) => pixel(v + rand() * 0.1)));
    labels.push(label);
  }
  return { xs, labels, numClasses: templates.length };
}

/**
 * Builds the Sequential input → Dense(hidden, relu) → Dense(classes, linear) model, with seeded initializers.
 *
 * @param inputSize - length of a flat input.
 * @param hidden - units of the hidden layer.
 * @param classes - units of the logits layer.
 * @param seed - initializer seed.
 */
export function buildMlp(inputSize: number, hidden: number, classes: number, seed: number): tf.Sequential {
  // Explicit names keep weight names in model.json stable: tfjs otherwise numbers layers per process
  // ("dense_Dense3"), so they would depend on how many models were built before.
  return tf.sequential({
    name: "mlp",
    layers: [
      tf.layers.inputLayer({ inputShape: [inputSize], name: "input" }),
      tf.layers.dense({
        units: hidden,
        activation: "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
        name: "hidden",
      }),
      tf.layers.dense({
        units: classes,
        activation: "linear",
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
        name: "logits",
      }),
    ],
  });
}

/** Fraction of samples whose largest logit is at the true label. */
function accuracy(model: tf.LayersModel, xs: number[][], labels: number[]): number {
  const predicted = tf.tidy(() => (model.predict(tf.tensor2d(xs)) as tf.Tensor).argMax(-1).dataSync());
  let correct = 0;
  for (const [i, label] of labels.entries()) if (predicted[i] === label) correct++;
  return correct / labels.length;
}

/**
 * Picks `samples.json`: the first training samples as calibration, then held-out samples cycling through the
 * classes, so that a demo shows every class. Inputs are taken only inside the calibration min/max, because
 * verinfer refuses (never clamps) inputs outside the calibrated range.
 */
function pickSamples(spec: ModelSpec, trainCount: number): SamplesFile {
  const { xs, labels, numClasses } = spec.dataset;
  const calibration = xs.slice(0, spec.calibrationCount);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of calibration.flat()) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = trainCount; i < xs.length; i++) {
    if ((xs[i] as number[]).every((v) => v >= lo && v <= hi)) byClass[labels[i] as number]?.push(i);
  }
  const picked: number[] = [];
  for (let k = 0; picked.length < spec.inputCount; k++) {
    const next = byClass[k % numClasses]?.shift();
    if (next === undefined) throw new Error(`${spec.name}: too few held-out samples of class ${k % numClasses}`);
    picked.push(next);
  }
  return {
    calibration,
    inputs: picked.map((i) => xs[i] as number[]),
    labels: picked.map((i) => labels[i] as number),
  };
}

/** JSON with one sample per line: readable and diffable, unlike one line per file or one number per line. */
function formatSamples(samples: SamplesFile): string {
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
 * Trains one model on its dataset, writes `model.json`, `weights.bin` and `samples.json` under
 * `<outRoot>/<spec.dir>`, and measures train and held-out accuracy.
 *
 * Expects the tfjs backend to be set already; results are bit-reproducible on the cpu backend.
 *
 * @param spec - model, data and training settings.
 * @param outRoot - directory `spec.dir` is resolved against.
 */
export async function trainAndSave(spec: ModelSpec, outRoot: string): Promise<TrainResult> {
  const started = performance.now();
  const { xs, labels, numClasses } = spec.dataset;
  const trainCount = xs.length - spec.holdOut;
  const inputSize = (xs[0] as number[]).length;
  const model = buildMlp(inputSize, spec.hidden, numClasses, spec.seed);
  // The last layer outputs logits, so the loss applies the softmax itself; the built-in
  // 'categoricalCrossentropy' would treat the logits as probabilities.
  model.compile({
    optimizer: tf.train.adam(spec.learningRate),
    loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
  });
  const x = tf.tensor2d(xs.slice(0, trainCount));
  const y = tf.oneHot(tf.tensor1d(labels.slice(0, trainCount), "int32"), numClasses);
  // tfjs shuffles with Math.random, which would make the weights differ between runs; the data is in random
  // order already.
  const history = await model.fit(x, y, {
    epochs: spec.epochs,
    batchSize: spec.batchSize,
    shuffle: false,
    verbose: 0,
  });
  tf.dispose([x, y]);
  const losses = history.history.loss as number[];
  const result: TrainResult = {
    name: spec.name,
    trainAccuracy: accuracy(model, xs.slice(0, trainCount), labels.slice(0, trainCount)),
    testAccuracy: accuracy(model, xs.slice(trainCount), labels.slice(trainCount)),
    finalLoss: losses[losses.length - 1] ?? Number.NaN,
    seconds: 0,
    outDir: path.resolve(outRoot, spec.dir),
  };
  await saveModel(model, result.outDir);
  await writeFile(path.join(result.outDir, "samples.json"), formatSamples(pickSamples(spec, trainCount)));
  model.dispose();
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

/** The models this script produces. */
export function modelSpecs(): ModelSpec[] {
  return [
    {
      name: "demo-glyphs",
      dir: path.join("examples", "models", "demo-glyphs"),
      dataset: glyphDataset(2000, 0x6c79),
      holdOut: 400,
      hidden: 8,
      epochs: 30,
      batchSize: 32,
      learningRate: 0.01,
      seed: 1,
      calibrationCount: 64,
      inputCount: 8,
    },
    {
      name: "mlp-784-56-10",
      dir: path.join("bench", "models", "mlp-784-56-10"),
      dataset: blobDataset(3000, 0x784),
      holdOut: 500,
      hidden: 56,
      epochs: 5,
      batchSize: 64,
      learningRate: 0.001,
      seed: 2,
      calibrationCount: 64,
      inputCount: 16,
    },
  ];
}

const USAGE = "usage: train-demo-model [--out-root <dir>]";

/**
 * Parses the command line.
 *
 * @param args - arguments after the script path.
 * @param defaultRoot - output root when `--out-root` is absent.
 * @returns the output root, or `undefined` when help was asked for.
 * @throws Error on an unknown argument or a missing value.
 */
export function parseArgs(args: readonly string[], defaultRoot: string): { outRoot: string } | undefined {
  let outRoot = defaultRoot;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "-h" || arg === "--help") return undefined;
    if (arg === "--out-root") {
      const value = args[++i];
      if (value === undefined || value === "") throw new Error(`--out-root needs a directory\n${USAGE}`);
      outRoot = value;
    } else if (arg.startsWith("--out-root=")) {
      outRoot = arg.slice("--out-root=".length);
    } else {
      throw new Error(`unknown argument ${arg}\n${USAGE}`);
    }
  }
  return { outRoot: path.resolve(outRoot) };
}

async function main(): Promise<void> {
  const scriptPath = fileURLToPath(import.meta.url);
  // Compiled, this file is dist/examples/train-demo-model.js: the repository root is two levels up.
  const parsed = parseArgs(process.argv.slice(2), path.resolve(path.dirname(scriptPath), "..", ".."));
  if (!parsed) {
    console.log(USAGE);
    return;
  }
  // The cpu backend gives the same weights on every machine; native and wasm backends may round differently.
  await tf.setBackend("cpu");
  await tf.ready();
  const started = performance.now();
  for (const spec of modelSpecs()) {
    const r = await trainAndSave(spec, parsed.outRoot);
    console.log(
      `${r.name}: train accuracy ${(r.trainAccuracy * 100).toFixed(1)}%, held-out accuracy ` +
        `${(r.testAccuracy * 100).toFixed(1)}%, final loss ${r.finalLoss.toFixed(4)}, ${r.seconds.toFixed(1)} s → ` +
        path.relative(process.cwd(), r.outDir),
    );
  }
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

// Run only when executed, so that the functions above can be imported (by tests, for instance) without training.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
