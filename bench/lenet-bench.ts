/**
 * `npm run bench:lenet [-- --json] [-- --runs N] [-- --models lenet5-avg,lenet5-max] [-- --n 1000]
 * [-- --circuit-backend direct|circom]`: the CNN
 * benchmark on real MNIST digits. For each model: constraints, compile, setup (the dev ptau excluded, reported
 * apart as `ptauMs`), prove and verify (medians of warm runs, after one warm-up), peak RSS; and on `--n` test digits
 * float accuracy, proven accuracy and argmax agreement. The proven output of a digit is `integerForward` of its
 * quantized value — the circuit's exact semantics, checked against every proof made here — so 1,000 digits cost
 * `runs + 1` proofs, not 1,000. One more profiled proof reports the witness's share of values ≥ 2^64 and where a
 * proof's time goes (witness, building A/B/C, FFTs, each MSM).
 *
 * Models: `bench/models/lenet5-avg`, `bench/models/lenet5-max` (tfjs, see bench/train-lenet.ts) and every ONNX
 * CNN at `bench/models/<name>.onnx` or `bench/models/<name>/model.onnx` (calibrated on `<name>.samples.json` or
 * the directory's `samples.json`, else on the first 64 training digits; pixels in [0, 1], flat 784 = NCHW 1×28×28). The last column compares with keras2circom's published LeNet-class circuit (≈2.7M constraints,
 * ≈60 s per proof).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { integerForward } from "../src/models/integer-forward.js";
import { quantizeInput } from "../src/models/quantize-input.js";
import { runFloat } from "../src/models/run-float.js";
import { type CircuitBackend, compileModel } from "../src/pipeline/compile-model.js";
import { verifiableInfer } from "../src/pipeline/verifiable-infer.js";
import { verifyReceipt } from "../src/receipts/verify-receipt.js";
import { packageRoot } from "../src/util/package-root.js";
import { argValue, circuitBackendArg, median, positiveIntArg, splitSetup, stageMarks } from "./bench-util.js";
import { mnistDigits } from "./mnist-digits.js";
import { type ProveProfile, profileProve } from "./prove-profile.js";
import { evaluateQuantized, floatOutputs, loadLogitsModel } from "./quantized-eval.js";

/** keras2circom's published LeNet-class figures, the peer this benchmark is compared with. */
export const KERAS2CIRCOM_LENET = { constraints: 2_700_000, proveS: 60 } as const;

interface CnnModel {
  name: string;
  /** A tfjs model directory or an .onnx file. */
  source: string;
  calibration: number[][];
}

const modelsDir = path.join(packageRoot(), "bench", "models");

function benchModels(trainXs: number[][]): CnnModel[] {
  const models: CnnModel[] = ["lenet5-avg", "lenet5-max"].map((name) => {
    const dir = path.join(modelsDir, name);
    const samples = JSON.parse(readFileSync(path.join(dir, "samples.json"), "utf8")) as { calibration: number[][] };
    return { name, source: dir, calibration: samples.calibration };
  });
  // The ONNX CNN is committed by the ONNX import work, as bench/models/<name>.onnx (calibration in
  // <name>.samples.json beside it) or bench/models/<name>/model.onnx (with samples.json): each is benchmarked.
  const entries = existsSync(modelsDir) ? readdirSync(modelsDir) : [];
  const onnx = [
    ...entries
      .filter((f) => f.endsWith(".onnx"))
      .map((f) => ({
        name: f.slice(0, -".onnx".length),
        file: f,
        samples: `${f.slice(0, -".onnx".length)}.samples.json`,
      })),
    ...entries
      .filter((d) => existsSync(path.join(modelsDir, d, "model.onnx")))
      .map((d) => ({ name: d, file: path.join(d, "model.onnx"), samples: path.join(d, "samples.json") })),
  ];
  for (const { name, file, samples } of onnx) {
    const sidecar = path.join(modelsDir, samples);
    const calibration = existsSync(sidecar)
      ? (JSON.parse(readFileSync(sidecar, "utf8")) as { calibration: number[][] }).calibration
      : trainXs.slice(0, 64);
    models.push({ name, source: path.join(modelsDir, file), calibration });
  }
  return models;
}

/** One benchmark line. */
export interface LenetBenchResult {
  model: string;
  constraints: number;
  compileMs: number;
  setupMs: number;
  ptauMs: number;
  proveMsMedian: number;
  verifyMsMedian: number;
  peakRssMb: number;
  runs: number;
  digits: number;
  refused: number;
  floatAccuracy: number;
  provenAccuracy: number;
  argmaxAgreement: number;
  maxAbsError: number;
  /** keras2circom's constraints / ours. */
  constraintsVsKeras2circom: number;
  /** keras2circom's prove time / ours. */
  proveVsKeras2circom: number;
  backend: string;
  /** Which compiler wrote the circuit: `direct` (default) or `circom` (`--circuit-backend circom`). */
  circuitBackend: CircuitBackend;
  /** Witness values ≥ 2^64, as a fraction of all (one witness). */
  largeScalarFraction: number;
  /** Where one proof's time goes (ms). */
  proveProfile: Omit<ProveProfile, "largeScalarFraction">;
}

async function benchModel(
  model: CnnModel,
  test: { xs: number[][]; labels: number[] },
  runs: number,
  circuitBackend: CircuitBackend,
) {
  const marks = stageMarks();
  const t0 = performance.now();
  const pkg = await compileModel(model.source, {
    calibration: model.calibration,
    force: true,
    quiet: true,
    name: model.name,
    onProgress: marks.onProgress,
    circuitBackend,
  });
  const end = performance.now();
  const compileStart = marks.first.codegen ?? t0;
  const { setupStart, ptauMs } = splitSetup(marks, end);

  // Float logits: the trained tfjs model with its softmax dropped, or (ONNX) verinfer's float network on tfjs.
  const isOnnx = model.source.endsWith(".onnx");
  const float = isOnnx
    ? (await runFloat({ model: pkg.floatNetwork, inputs: test.xs, inputShape: pkg.floatNetwork.inputShape })).outputs
    : await floatOutputs(await loadLogitsModel(model.source), test.xs, pkg.network.inputShape);
  const ev = evaluateQuantized({ network: pkg.network, inputs: test.xs, labels: test.labels, float });

  const prove: number[] = [];
  const verify: number[] = [];
  let backend = "";
  for (let i = 0; i <= runs; i++) {
    const input = test.xs[i] as number[];
    const { receipt } = await verifiableInfer(pkg, input);
    const t = performance.now();
    const result = await verifyReceipt(receipt, { modelPackage: pkg });
    const verifyMs = performance.now() - t;
    if (!result.valid) throw new Error(`${model.name}: receipt did not verify: ${result.reason}`);
    const reference = integerForward(pkg.network, quantizeInput(pkg.network, input)).output.map(String);
    if (receipt.output.quantized.join() !== reference.join()) {
      throw new Error(`${model.name}: the proven output differs from integerForward`);
    }
    backend = receipt.backend;
    if (i > 0) {
      prove.push(receipt.timings.proveMs as number);
      verify.push(verifyMs);
    }
  }
  const { largeScalarFraction, ...proveProfile } = await profileProve(pkg, test.xs[0] as number[]);
  const constraints = pkg.manifest.circuit.constraints;
  const proveMsMedian = Math.round(median(prove));
  const result: LenetBenchResult = {
    model: model.name,
    constraints,
    compileMs: Math.round(setupStart - compileStart),
    setupMs: Math.round(end - setupStart - ptauMs),
    ptauMs: Math.round(ptauMs),
    proveMsMedian,
    verifyMsMedian: Math.round(median(verify) * 10) / 10,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    runs,
    digits: ev.n,
    refused: ev.refused,
    floatAccuracy: ev.floatAccuracy,
    provenAccuracy: ev.provenAccuracy,
    argmaxAgreement: ev.argmaxAgreement,
    maxAbsError: Number(ev.maxAbsError.toPrecision(3)),
    constraintsVsKeras2circom: Math.round((KERAS2CIRCOM_LENET.constraints / constraints) * 10) / 10,
    proveVsKeras2circom: Math.round(((KERAS2CIRCOM_LENET.proveS * 1000) / proveMsMedian) * 10) / 10,
    backend,
    circuitBackend,
    largeScalarFraction,
    proveProfile,
  };
  return result;
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const runs = positiveIntArg("--runs", 5);
  const n = Number(argValue("--n") ?? 1000);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error("--n must be an integer in [1, 1000]");
  const { train, test } = mnistDigits();
  const digits = { xs: test.xs.slice(0, n), labels: test.labels.slice(0, n) };
  const only = argValue("--models")?.split(",");
  const circuitBackend = circuitBackendArg();
  const models = benchModels(train.xs).filter((m) => !only || only.includes(m.name));
  const results: LenetBenchResult[] = [];
  for (const model of models) {
    const r = await benchModel(model, digits, runs, circuitBackend);
    results.push(r);
    if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  }
  if (!json) console.table(results);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
