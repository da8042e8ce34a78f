/**
 * `npm run bench:precision [-- --json] [-- --models mlp-784-56-10] [-- --settings 8/8/16,8/12/20] [-- --n 500]
 * [-- --runs 3] [-- --no-prove]`: the price of precision. For each model and each `inputBits/weightBits/activationBits`
 * setting: constraints, prove time (median of warm runs), and on `--n` held-out test inputs the max and mean
 * |float − proven|, proven accuracy and argmax agreement with float.
 *
 * The error columns come from `integerForward` on every test input (the circuit reproduces it bit for bit; each
 * proof made here is checked against it), so many inputs cost no proofs. Two columns say where the error comes
 * from: `inputErr` is max |float(x) − float(x rounded to the input grid)|, the error input quantization alone
 * causes; `outLsb` is one step of the output grid (2^−outFracBits), which bounds the last rescale's rounding.
 *
 * `constraintsEstimate` is the direct backend's count from the quantized network without compiling
 * (`estimateConstraints`: exact, but that a product with a constant folds), for every layer kind; `--no-prove` prints
 * it alone.
 *
 * Compiling is the expensive part (the 784-56-10 MLP: ~45 s compile + ~60 s setup per setting on 2 cores); packages
 * are cached by their quantized network, so a rerun proves without recompiling.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { blobDataset } from "../examples/train-demo-model.js";
import { estimateConstraints } from "../src/circuits/direct/build-model-circuit.js";
import { integerForward } from "../src/models/integer-forward.js";
import { quantizeInput } from "../src/models/quantize-input.js";
import type { QuantizedNetwork } from "../src/models/quantized-network.js";
import { compileModel } from "../src/pipeline/compile-model.js";
import { quantizeModel } from "../src/pipeline/quantize-model.js";
import { verifiableInfer } from "../src/pipeline/verifiable-infer.js";
import { verifyReceipt } from "../src/receipts/verify-receipt.js";
import { packageRoot } from "../src/util/package-root.js";
import type { ProgressEvent } from "../src/util/progress.js";
import { argValue, median, positiveIntArg } from "./bench-util.js";
import { mnistDigits } from "./mnist-digits.js";
import { dequantizeInput, evaluateQuantized, floatOutputs, loadLogitsModel } from "./quantized-eval.js";

/** A benchmark model with its held-out test inputs. */
export interface SweepModel {
  name: string;
  dir: string;
  /** Held-out inputs (flat) and labels. */
  test: () => { xs: number[][]; labels: number[] };
}

const bench = (name: string) => path.join(packageRoot(), "bench", "models", name);

/** The models a sweep can run. The LeNet models need a verinfer that compiles Conv2D and pooling. */
export const SWEEP_MODELS: SweepModel[] = [
  {
    name: "mlp-784-56-10",
    dir: bench("mlp-784-56-10"),
    // The model's own held-out blobs: train-demo-model trains on the first 2,500 of this dataset.
    test: () => {
      const d = blobDataset(3000, 0x784);
      return { xs: d.xs.slice(2500), labels: d.labels.slice(2500) };
    },
  },
  { name: "lenet5-avg", dir: bench("lenet5-avg"), test: () => mnistDigits().test },
  { name: "lenet5-max", dir: bench("lenet5-max"), test: () => mnistDigits().test },
];

/** inputBits / weightBits / activationBits. */
export interface Setting {
  inputBits: number;
  weightBits: number;
  activationBits: number;
}

const DEFAULT_SETTINGS = "8/8/16,8/12/20,8/16/24,12/12/20,12/16/24,16/16/24";

function parseSettings(list: string): Setting[] {
  return list.split(",").map((s) => {
    const [inputBits, weightBits, activationBits] = s.split("/").map(Number);
    if (![inputBits, weightBits, activationBits].every((v) => Number.isInteger(v))) {
      throw new Error(`--settings: "${s}" is not inputBits/weightBits/activationBits`);
    }
    return { inputBits, weightBits, activationBits } as Setting;
  });
}

/** One line of the sweep. */
export interface SweepResult {
  model: string;
  setting: string;
  inputFracBits: number;
  outFracBits: number;
  /** Compiled count; undefined with --no-prove. */
  constraints: number | undefined;
  /** The direct backend's exact count from the quantized network (`estimateConstraints`), without compiling. */
  constraintsEstimate: number;
  /** Seconds to compile and set up (0: package from the cache). */
  compileSetupS: number | undefined;
  proveMsMedian: number | undefined;
  proofs: number;
  n: number;
  refused: number;
  maxAbsError: number;
  meanAbsError: number;
  inputErr: number;
  outLsb: number;
  floatAccuracy: number;
  provenAccuracy: number;
  argmaxAgreement: number;
}

function lastOutFracBits(network: QuantizedNetwork): number {
  // A network of convolutions states its output scale; a dense-only one has it on its last layer.
  const stated = (network as unknown as { outputFracBits?: number }).outputFracBits;
  const last = network.layers[network.layers.length - 1] as unknown as { outFracBits: number };
  return stated ?? last.outFracBits;
}

async function sweepModel(params: {
  model: SweepModel;
  settings: Setting[];
  n: number;
  runs: number;
  prove: boolean;
  json: boolean;
}): Promise<SweepResult[]> {
  const { model, settings, n, runs, prove, json } = params;
  const samples = JSON.parse(readFileSync(path.join(model.dir, "samples.json"), "utf8")) as { calibration: number[][] };
  const floatModel = await loadLogitsModel(model.dir);
  const inputShape = (floatModel.inputs[0]?.shape ?? []).slice(1) as number[];
  const test = model.test();
  const xs = test.xs.slice(0, n);
  const labels = test.labels.slice(0, n);
  const float = await floatOutputs(floatModel, xs, inputShape);
  const results: SweepResult[] = [];
  for (const setting of settings) {
    const options = { calibration: samples.calibration, ...setting };
    const { network } = await quantizeModel(model.dir, options);
    const ev = evaluateQuantized({ network, inputs: xs, labels, float });
    // Input quantization alone: float inference on the inputs rounded to the input grid.
    const inRange = xs.flatMap((x, i) => {
      try {
        return [{ i, x: dequantizeInput(network, x) }];
      } catch {
        return [];
      }
    });
    const rounded = await floatOutputs(
      floatModel,
      inRange.map((r) => r.x),
      inputShape,
    );
    let inputErr = 0;
    for (const [k, r] of inRange.entries()) {
      for (const [j, v] of (rounded[k] as number[]).entries()) {
        inputErr = Math.max(inputErr, Math.abs(v - ((float[r.i] as number[])[j] as number)));
      }
    }
    let constraints: number | undefined;
    let compileSetupS: number | undefined;
    let proveMsMedian: number | undefined;
    let proofs = 0;
    if (prove) {
      let compiled = false;
      const onProgress = (e: ProgressEvent) => {
        if (e.stage === "compile") compiled = true;
      };
      const t0 = performance.now();
      const pkg = await compileModel(model.dir, { ...options, quiet: true, onProgress });
      compileSetupS = compiled ? Math.round((performance.now() - t0) / 100) / 10 : 0;
      constraints = pkg.manifest.circuit.constraints;
      const times: number[] = [];
      // Proof 0 warms the curve and the witness generator; it is not counted.
      for (let i = 0, k = 0; i <= runs && k < inRange.length; k++) {
        const input = xs[(inRange[k] as { i: number }).i] as number[];
        const { receipt } = await verifiableInfer(pkg, input);
        const check = await verifyReceipt(receipt, { modelPackage: pkg });
        if (!check.valid) throw new Error(`${model.name} ${JSON.stringify(setting)}: receipt did not verify`);
        const reference = integerForward(network, quantizeInput(network, input)).output.map(String);
        if (receipt.output.quantized.join() !== reference.join()) {
          throw new Error(`${model.name}: the proven output differs from integerForward`);
        }
        if (i > 0) times.push(receipt.timings.proveMs as number);
        i++;
        proofs++;
      }
      proveMsMedian = times.length ? Math.round(median(times)) : undefined;
    }
    const r: SweepResult = {
      model: model.name,
      setting: `${setting.inputBits}/${setting.weightBits}/${setting.activationBits}`,
      inputFracBits: network.input.fracBits,
      outFracBits: lastOutFracBits(network),
      constraints,
      constraintsEstimate: estimateConstraints(network),
      compileSetupS,
      proveMsMedian,
      proofs,
      n: ev.n,
      refused: ev.refused,
      maxAbsError: Number(ev.maxAbsError.toPrecision(3)),
      meanAbsError: Number(ev.meanAbsError.toPrecision(3)),
      inputErr: Number(inputErr.toPrecision(3)),
      outLsb: 2 ** -lastOutFracBits(network),
      floatAccuracy: ev.floatAccuracy,
      provenAccuracy: ev.provenAccuracy,
      argmaxAgreement: ev.argmaxAgreement,
    };
    results.push(r);
    if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else
      console.error(
        `${r.model} ${r.setting}: max |float − proven| ${r.maxAbsError}, ${r.constraints ?? "-"} constraints`,
      );
  }
  return results;
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const prove = !process.argv.includes("--no-prove");
  const n = positiveIntArg("--n", 500);
  const runs = positiveIntArg("--runs", 3);
  const settings = parseSettings(argValue("--settings") ?? DEFAULT_SETTINGS);
  const names = argValue("--models")?.split(",") ?? ["mlp-784-56-10"];
  const results: SweepResult[] = [];
  for (const name of names) {
    const model = SWEEP_MODELS.find((m) => m.name === name);
    if (!model) throw new Error(`unknown model ${name}; known: ${SWEEP_MODELS.map((m) => m.name).join(", ")}`);
    results.push(...(await sweepModel({ model, settings, n, runs, prove, json })));
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
