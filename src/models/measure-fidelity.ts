import { dequantizeOutput, integerForward } from "./integer-forward.js";
import type { DenseNetwork } from "./network.js";
import { flattenInput, quantizeInput } from "./quantize-input.js";
import type { QuantizedNetwork } from "./quantized-network.js";
import { runFloat } from "./run-float.js";

/** How well the quantized network tracks the float one, measured on sample inputs. */
export interface Fidelity {
  /** Samples measured (at most {@link MAX_FIDELITY_SAMPLES}). */
  samples: number;
  /** Largest |float − proven| over every output of every sample. */
  maxAbsError: number;
  /** Mean |float − proven| over every output of every sample. */
  meanAbsError: number;
  /** Fraction of samples whose proven argmax is the float argmax (ties: lowest index). */
  argmaxAgreement: number;
  /** Largest |float output| seen, the scale `maxAbsError` should be read against. */
  maxAbsFloat: number;
}

/** Samples measured at most; the rest of a large calibration set adds little and costs float inference. */
export const MAX_FIDELITY_SAMPLES = 256;

/** Parameters of {@link measureFidelity}. */
export interface MeasureFidelityParams {
  float: DenseNetwork;
  network: QuantizedNetwork;
  /** Flat inputs in the network's accepted range (calibration samples). */
  samples: readonly (readonly number[])[];
}

function argmax(v: readonly number[]): number {
  let best = 0;
  for (let j = 1; j < v.length; j++) if ((v[j] as number) > (v[best] as number)) best = j;
  return best;
}

/**
 * Runs float inference (tfjs) and the exact integer forward pass side by side on sample inputs and reports the
 * gap: what a user should look at before proving anything. `undefined` without samples.
 *
 * @example
 * ```ts
 * const f = await measureFidelity({ float, network, samples: calibration });
 * if (f && f.argmaxAgreement < 0.99) console.warn("quantization changes predictions");
 * ```
 */
export async function measureFidelity(params: MeasureFidelityParams): Promise<Fidelity | undefined> {
  // Samples outside an explicit inputRange are not inputs the circuit accepts: skip them.
  const quantized: bigint[][] = [];
  const samples: (readonly number[])[] = [];
  for (const x of params.samples) {
    if (samples.length >= MAX_FIDELITY_SAMPLES) break;
    try {
      const flat = flattenInput(params.network, x);
      quantized.push(quantizeInput(params.network, flat));
      samples.push(flat);
    } catch {
      // not an accepted input
    }
  }
  if (samples.length === 0) return undefined;
  const { outputs } = await runFloat({
    model: params.float,
    inputs: samples,
    inputShape: params.network.inputShape,
  });
  let maxAbsError = 0;
  let sum = 0;
  let count = 0;
  let agree = 0;
  let maxAbsFloat = 0;
  samples.forEach((_x, b) => {
    const proven = dequantizeOutput(params.network, integerForward(params.network, quantized[b] as bigint[]).output);
    const float = outputs[b] as number[];
    proven.forEach((v, j) => {
      const e = Math.abs(v - (float[j] as number));
      maxAbsError = Math.max(maxAbsError, e);
      maxAbsFloat = Math.max(maxAbsFloat, Math.abs(float[j] as number));
      sum += e;
      count++;
    });
    if (argmax(proven) === argmax(float)) agree++;
  });
  return {
    samples: samples.length,
    maxAbsError,
    meanAbsError: sum / count,
    argmaxAgreement: agree / samples.length,
    maxAbsFloat,
  };
}

/**
 * Warnings about a quantization a user probably did not intend: predictions that change, a large error, or
 * inputs quantized to whole numbers (calibration in the wrong units, e.g. 0–255 pixels for a model trained on
 * 0–1).
 */
export function fidelityWarnings(network: QuantizedNetwork, fidelity: Fidelity | undefined): string[] {
  const warnings: string[] = [];
  if (network.input.fracBits <= 0) {
    const [lo, hi] = [Number(network.input.lo), Number(network.input.hi)].map((v) => v / 2 ** network.input.fracBits);
    warnings.push(
      `inputs are quantized to whole numbers (the calibrated range is [${lo}, ${hi}]): if the model was trained on ` +
        "normalized inputs (e.g. pixels / 255), calibrate with samples in those units, or raise inputBits",
    );
  }
  if (fidelity) {
    if (fidelity.argmaxAgreement < 0.99) {
      warnings.push(
        `the proven argmax differs from the float argmax on ${((1 - fidelity.argmaxAgreement) * 100).toFixed(1)}% of ` +
          "the calibration samples: raise activationBits / weightBits",
      );
    }
    if (fidelity.maxAbsFloat > 0 && fidelity.maxAbsError > 0.05 * fidelity.maxAbsFloat) {
      warnings.push(
        `max |float − proven| is ${fidelity.maxAbsError.toPrecision(3)}, over 5% of the largest output ` +
          `(${fidelity.maxAbsFloat.toPrecision(3)}): raise activationBits / weightBits`,
      );
    }
  }
  return warnings;
}
