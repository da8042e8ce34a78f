/**
 * Accuracy and error of a quantized network on many test inputs, without proving: `integerForward` is verinfer's
 * integer semantics, which the circuit reproduces bit for bit (the property tests check it), so the proven output
 * of an input is `integerForward` of its quantized value. The benchmarks prove a few inputs and evaluate the rest
 * this way.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { dequantizeOutput, integerForward } from "../src/models/integer-forward.js";
import { loadModel } from "../src/models/load-model.js";
import { quantizeInput } from "../src/models/quantize-input.js";
import type { QuantizedNetwork } from "../src/models/quantized-network.js";
import { runFloat } from "../src/models/run-float.js";

/** Index of the largest value (ties: the lowest index). */
export function argmax(v: readonly number[]): number {
  let best = 0;
  for (let j = 1; j < v.length; j++) if ((v[j] as number) > (v[best] as number)) best = j;
  return best;
}

/** Float outputs of a tfjs model on flat inputs, in batches. */
export async function floatOutputs(
  model: tf.LayersModel,
  inputs: readonly (readonly number[])[],
  inputShape: readonly number[],
): Promise<number[][]> {
  const out: number[][] = [];
  for (let start = 0; start < inputs.length; start += 250) {
    const r = await runFloat({ model, inputs: inputs.slice(start, start + 250), inputShape });
    out.push(...r.outputs);
  }
  return out;
}

/** What {@link evaluateQuantized} measured. */
export interface QuantizedEval {
  /** Inputs evaluated. */
  n: number;
  /** Inputs outside the calibrated input range (refused by verinfer, not counted). */
  refused: number;
  floatAccuracy: number;
  provenAccuracy: number;
  /** Fraction of inputs whose proven argmax equals the float argmax. */
  argmaxAgreement: number;
  /** Largest |float − proven| over every output of every input. */
  maxAbsError: number;
  meanAbsError: number;
  /** Largest |float output| seen. */
  maxAbsFloat: number;
}

/**
 * Compares `integerForward` (dequantized) with the float outputs on labelled inputs.
 *
 * @param params.float - float outputs of the same inputs, in the units the proven output has (logits for a
 *   softmax head, since the circuit proves the logits).
 */
export function evaluateQuantized(params: {
  network: QuantizedNetwork;
  inputs: readonly (readonly number[])[];
  labels: readonly number[];
  float: readonly (readonly number[])[];
}): QuantizedEval {
  const { network, inputs, labels, float } = params;
  let refused = 0;
  let n = 0;
  let floatCorrect = 0;
  let provenCorrect = 0;
  let agree = 0;
  let maxAbsError = 0;
  let sum = 0;
  let count = 0;
  let maxAbsFloat = 0;
  for (const [i, x] of inputs.entries()) {
    let xq: bigint[];
    try {
      xq = quantizeInput(network, x);
    } catch {
      refused++;
      continue;
    }
    n++;
    const proven = dequantizeOutput(network, integerForward(network, xq).output);
    const f = float[i] as number[];
    for (const [j, v] of proven.entries()) {
      const e = Math.abs(v - (f[j] as number));
      maxAbsError = Math.max(maxAbsError, e);
      maxAbsFloat = Math.max(maxAbsFloat, Math.abs(f[j] as number));
      sum += e;
      count++;
    }
    const pf = argmax(f);
    const pp = argmax(proven);
    if (pf === labels[i]) floatCorrect++;
    if (pp === labels[i]) provenCorrect++;
    if (pf === pp) agree++;
  }
  return {
    n,
    refused,
    floatAccuracy: floatCorrect / n,
    provenAccuracy: provenCorrect / n,
    argmaxAgreement: agree / n,
    maxAbsError,
    meanAbsError: sum / count,
    maxAbsFloat,
  };
}

/** The float value a quantized input stands for: xq / 2^fracBits. */
export function dequantizeInput(network: QuantizedNetwork, x: readonly number[]): number[] {
  const f = 2 ** network.input.fracBits;
  return quantizeInput(network, x).map((q) => Number(q) / f);
}

/**
 * A tfjs model whose last layer's softmax is dropped, so that its outputs are the logits the circuit proves.
 * Other models load unchanged.
 */
export async function loadLogitsModel(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(readFileSync(path.join(dir, "model.json"), "utf8")) as {
    modelTopology: { config: { layers: { config: { activation?: string } }[] } };
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const layers = json.modelTopology.config.layers;
  const last = layers[layers.length - 1];
  if (last?.config.activation !== "softmax") return loadModel(dir);
  last.config.activation = "linear";
  const weights = readFileSync(path.join(dir, "weights.bin"));
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((m) => m.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  );
}
