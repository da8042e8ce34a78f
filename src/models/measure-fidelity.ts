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
  /**
   * Fraction of samples whose proven argmax is the float argmax (ties: lowest index). Absent for a model with one
   * output (a regressor): its argmax is always 0 and would say nothing.
   */
  argmaxAgreement?: number;
  /** Largest |float output| seen, the scale `maxAbsError` should be read against. */
  maxAbsFloat: number;
  /**
   * Per output j, max |float_j − proven_j| over the samples divided by the range of float_j over them (by
   * max |float_j| when that range is 0); the largest over the outputs. 0.01 means the proven output is off by 1 %
   * of what the output spans on these samples — a regressor's error bar.
   */
  maxRelativeError: number;
  /** The output `maxRelativeError` comes from. */
  worstOutput: number;
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
  const width = (outputs[0] as number[]).length;
  const perOutput = Array.from({ length: width }, () => ({ err: 0, min: Infinity, max: -Infinity, abs: 0 }));
  samples.forEach((_x, b) => {
    const proven = dequantizeOutput(params.network, integerForward(params.network, quantized[b] as bigint[]).output);
    const float = outputs[b] as number[];
    proven.forEach((v, j) => {
      const fj = float[j] as number;
      const e = Math.abs(v - fj);
      maxAbsError = Math.max(maxAbsError, e);
      maxAbsFloat = Math.max(maxAbsFloat, Math.abs(fj));
      const o = perOutput[j];
      if (o) {
        o.err = Math.max(o.err, e);
        o.min = Math.min(o.min, fj);
        o.max = Math.max(o.max, fj);
        o.abs = Math.max(o.abs, Math.abs(fj));
      }
      sum += e;
      count++;
    });
    if (argmax(proven) === argmax(float)) agree++;
  });
  let maxRelativeError = 0;
  let worstOutput = 0;
  perOutput.forEach((o, j) => {
    const span = o.max - o.min > 0 ? o.max - o.min : o.abs;
    // An output that is 0 on every sample: any error is the whole of it.
    const rel = span > 0 ? o.err / span : o.err > 0 ? Number.POSITIVE_INFINITY : 0;
    if (rel > maxRelativeError) {
      maxRelativeError = rel;
      worstOutput = j;
    }
  });
  return {
    samples: samples.length,
    maxAbsError,
    meanAbsError: sum / count,
    ...(width > 1 ? { argmaxAgreement: agree / samples.length } : {}),
    maxAbsFloat,
    // JSON has no Infinity: a constant-zero output with an error counts as 100 % off.
    maxRelativeError: Number.isFinite(maxRelativeError) ? maxRelativeError : 1,
    worstOutput,
  };
}

/**
 * Warnings about a quantization a user probably did not intend: predictions that change, a large error, or
 * inputs quantized to whole numbers (calibration in the wrong units, e.g. 0–255 pixels for a model trained on
 * 0–1).
 */
export function fidelityWarnings(
  network: QuantizedNetwork,
  // A manifest written before per-output errors were measured has no maxRelativeError.
  fidelity: (Omit<Fidelity, "maxRelativeError" | "worstOutput"> & Partial<Fidelity>) | undefined,
): string[] {
  const warnings: string[] = [];
  // Per-feature scales are chosen for raw units: a feature in thousands is meant to have no fractional bits.
  if (network.input.fracBits <= 0 && !network.input.featureFracBits) {
    const [lo, hi] = [Number(network.input.lo), Number(network.input.hi)].map((v) => v / 2 ** network.input.fracBits);
    warnings.push(
      `inputs are quantized to whole numbers (the calibrated range is [${lo}, ${hi}]): if the model was trained on ` +
        "normalized inputs (e.g. pixels / 255), calibrate with samples in those units, or raise inputBits",
    );
  }
  if (fidelity) {
    if (fidelity.argmaxAgreement !== undefined && fidelity.argmaxAgreement < 0.99) {
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
    if (fidelity.maxRelativeError !== undefined && fidelity.maxRelativeError > 0.05) {
      warnings.push(
        `output ${fidelity.worstOutput ?? 0} is off by up to ${(fidelity.maxRelativeError * 100).toFixed(1)}% of its ` +
          "output range on the calibration samples" +
          (network.input.fracBits <= 0 && !network.input.featureFracBits
            ? ': inputs in raw units of very different sizes? try inputScales: "perFeature" or standardize them'
            : ": raise activationBits / weightBits / inputBits"),
      );
    }
  }
  return warnings;
}
