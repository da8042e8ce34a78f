/**
 * Bring your own model, end to end: train a small classifier with TensorFlow.js, save it without tfjs-node,
 * calibrate and compile it, prove an inference, export the package, and verify the receipt as a second party
 * would — from the export alone, in a cache that has never seen the model.
 *
 * Run: `npm run example:byom` (writes under a temp dir). In an application, import from "verinfer" instead of
 * "../src/index.js", and `@tensorflow/tfjs` from your own dependencies.
 */
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import {
  compileModel,
  exportModelPackage,
  loadModelPackage,
  saveModel,
  verifiableInfer,
  verifyReceipt,
} from "../src/index.js";

/** Three gaussian blobs in the unit square: the training data, in the units the model will see. */
function blobs(count: number, seed: number): { xs: number[][]; labels: number[] } {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const centers = [
    [0.2, 0.2],
    [0.8, 0.3],
    [0.5, 0.8],
  ];
  const xs: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const label = i % 3;
    const c = centers[label] as number[];
    xs.push(c.map((v) => Math.min(1, Math.max(0, v + (rand() - 0.5) * 0.3))));
    labels.push(label);
  }
  return { xs, labels };
}

/** What the example reports. */
export interface ByomResult {
  modelId: string;
  constraints: number;
  /** Fidelity on the calibration samples, as compileModel measured it. */
  argmaxAgreement: number;
  /** The second party's verdict, from the exported package only. */
  valid: boolean;
  reason?: string;
}

/**
 * @param options.cacheDir - the prover's cache (default: the user cache).
 * @param options.workDir - where the model and the export are written (default: a new temp dir).
 */
export async function main(options: { cacheDir?: string; workDir?: string } = {}): Promise<ByomResult> {
  const workDir = options.workDir ?? (await mkdtemp(path.join(os.tmpdir(), "verinfer-byom-")));
  const cache = options.cacheDir ? { cacheDir: options.cacheDir } : {};

  // 1. Train. Inputs are in [0, 1]; calibration below uses the same units.
  const train = blobs(300, 1);
  const model = tf.sequential({
    layers: [
      // Seeded initial weights: the example trains the same model on every run.
      tf.layers.dense({
        inputShape: [2],
        units: 8,
        activation: "relu",
        name: "hidden",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }),
      }),
      tf.layers.dense({
        units: 3,
        activation: "linear",
        name: "logits",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }),
      }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.05), loss: "sparseCategoricalCrossentropy" });
  const xs = tf.tensor2d(train.xs);
  const ys = tf.tensor1d(train.labels, "float32");
  await model.fit(xs, ys, { epochs: 30, batchSize: 32, verbose: 0 });
  tf.dispose([xs, ys]);

  // 2. Save without tfjs-node: model.json + weights.bin.
  const modelDir = path.join(workDir, "blobs-model");
  await saveModel(model, modelDir);

  // 3. Calibrate on representative inputs (the range the circuit will accept comes from them) and compile.
  const calibration = train.xs.slice(0, 64);
  const pkg = await compileModel(modelDir, { calibration, ...cache, quiet: true });

  // 4. Prove one inference.
  const { receipt } = await verifiableInfer(pkg, [0.75, 0.3]);

  // 5. Publish what a verifier needs: manifest, vkey, artifacts (not the proving key).
  const exportDir = path.join(workDir, "export");
  await exportModelPackage(pkg, { dir: exportDir });

  // 6. A second party: a fresh cache, the export, the receipt. Nothing else.
  const verifierCache = await mkdtemp(path.join(os.tmpdir(), "verinfer-byom-verifier-"));
  const published = await loadModelPackage(exportDir, { cacheDir: verifierCache });
  const verdict = await verifyReceipt(receipt, { modelPackage: published });
  return {
    modelId: pkg.id,
    constraints: pkg.manifest.circuit.constraints,
    argmaxAgreement: pkg.manifest.fidelity?.argmaxAgreement ?? Number.NaN,
    valid: verdict.valid,
    ...(verdict.reason ? { reason: verdict.reason } : {}),
  };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exitCode = r.valid ? 0 : 1;
    },
    (e) => {
      console.error(e);
      process.exitCode = 2;
    },
  );
}
