import { VerinferError } from "../errors.js";
import { type DenseNetwork, floatForward } from "./dense-network.js";
import type { InputQuantization, QuantizedLayer, QuantizedNetwork } from "./quantized-network.js";

/** Options of {@link quantizeNetwork}. */
export interface QuantizeOptions {
  /** Sample inputs (flat) that fix the input range and the activation scales. */
  calibration: readonly (readonly number[])[];
  /** Allowed input range; defaults to the calibration samples' min and max. */
  inputRange?: readonly [number, number];
  /** Bits per input value (default 8). Costs `inputBits` constraints per input scalar. */
  inputBits?: number;
  /** Bits per weight, sign included (default 8). */
  weightBits?: number;
  /** Bits for the largest calibrated activation (default 16); sets the output precision of each layer. */
  activationBits?: number;
}

/** Keeps every rescale (shift + qBits) this far below the 253-bit field. */
const MAX_RESCALE_BITS = 250;
/** Widest output a receipt states (its commitment header holds offsets below 2^127). */
const MAX_OUTPUT_WIDTH = 128;

function log2Floor(x: number): number {
  return Math.floor(Math.log2(x));
}

function roundHalfUp(x: number): bigint {
  return BigInt(Math.floor(x + 0.5));
}

function scale(x: number, fracBits: number): number {
  return x * 2 ** fracBits;
}

function signedBits(lo: bigint, hi: bigint): number {
  let b = 2;
  while (lo < -(1n << BigInt(b - 1)) || hi > (1n << BigInt(b - 1)) - 1n) b++;
  return b;
}

function checkBits(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new VerinferError("INVALID_OPTIONS", `${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
  return v;
}

function quantizeInput(
  net: DenseNetwork,
  calibration: readonly (readonly number[])[],
  range: readonly [number, number] | undefined,
  bits: number,
): InputQuantization {
  let [min, max] = range ?? [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  if (!range) {
    for (const x of calibration) {
      for (const v of x) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
  }
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new VerinferError("INVALID_OPTIONS", `input range [${min}, ${max}] is not a finite interval`);
  }
  const signed = min < 0;
  if (signed && bits < 2) {
    throw new VerinferError("INVALID_OPTIONS", "inputs with negative values need inputBits >= 2 (one bit is the sign)");
  }
  const lo = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const hi = lo + (1n << BigInt(bits)) - 1n;
  const maxAbs = Math.max(Math.abs(min), Math.abs(max));
  // The most fractional bits that still represent the whole calibrated range.
  const fracBits = maxAbs === 0 ? 0 : Math.min(48, log2Floor(Number(hi) / maxAbs));
  if (net.inputSize <= 0) throw new VerinferError("INVALID_MODEL", "model has no inputs");
  return { bits, fracBits, lo, hi };
}

/**
 * Quantizes a float network to power-of-two fixed point, calibrated on sample inputs, and proves by interval
 * arithmetic that for every input the circuit accepts, every intermediate value stays inside the range its
 * range check allows — so the honest prover never fails and no value can wrap the field.
 *
 * @throws VerinferError `INVALID_OPTIONS` (bad bit widths, empty calibration, calibration samples of the wrong
 *   size); `QUANTIZATION_OVERFLOW` when a layer's worst case needs more bits than the field allows.
 * @example
 * ```ts
 * const qnet = quantizeNetwork(extractNetwork(model), { calibration: samples });
 * ```
 */
export function quantizeNetwork(net: DenseNetwork, options: QuantizeOptions): QuantizedNetwork {
  const inputBits = checkBits("inputBits", options.inputBits, 8, 1, 32);
  const weightBits = checkBits("weightBits", options.weightBits, 8, 2, 32);
  const activationBits = checkBits("activationBits", options.activationBits, 16, 2, 64);
  const calibration = options.calibration;
  if (calibration.length === 0 && !options.inputRange) {
    throw new VerinferError("INVALID_OPTIONS", "calibration needs at least one sample input (or an inputRange)");
  }
  for (const [k, x] of calibration.entries()) {
    if (x.length !== net.inputSize || !x.every(Number.isFinite)) {
      throw new VerinferError("INVALID_OPTIONS", `calibration sample ${k} must hold ${net.inputSize} finite numbers`);
    }
  }
  const input = quantizeInput(net, calibration, options.inputRange, inputBits);

  // Largest |pre-activation| per layer over the calibration set picks each layer's output scale.
  const maxAbsZ = net.layers.map(() => 0);
  for (const x of calibration) {
    floatForward(net, x).forEach((z, l) => {
      for (const v of z) maxAbsZ[l] = Math.max(maxAbsZ[l] as number, Math.abs(v));
    });
  }

  const layers: QuantizedLayer[] = [];
  let inFracBits = input.fracBits;
  let lo: bigint[] = new Array<bigint>(net.inputSize).fill(input.lo);
  let hi: bigint[] = new Array<bigint>(net.inputSize).fill(input.hi);
  for (const [l, layer] of net.layers.entries()) {
    const nIn = layer.kernel.length;
    const maxW = Math.max(...layer.kernel.flat().map(Math.abs));
    const wMax = 2 ** (weightBits - 1) - 1;
    const weightFracBits = maxW === 0 ? 0 : Math.min(48, log2Floor(wMax / maxW));
    const accFrac = inFracBits + weightFracBits;
    const z = maxAbsZ[l] as number;
    // 1.25 leaves headroom for inputs a little beyond the calibration set.
    let outFracBits = z === 0 ? accFrac : activationBits - 1 - Math.ceil(Math.log2(z * 1.25));
    outFracBits = Math.min(outFracBits, accFrac);
    const shift = accFrac - outFracBits;
    const weights: bigint[][] = [];
    const bias: bigint[] = [];
    const qBits: number[] = [];
    const nextLo: bigint[] = [];
    const nextHi: bigint[] = [];
    for (let j = 0; j < layer.units; j++) {
      const row: bigint[] = [];
      const b = roundHalfUp(scale(layer.bias[j] as number, accFrac));
      let accLo = b;
      let accHi = b;
      for (let i = 0; i < nIn; i++) {
        const w = roundHalfUp(scale((layer.kernel[i] as number[])[j] as number, weightFracBits));
        row.push(w);
        const p1 = w * (lo[i] as bigint);
        const p2 = w * (hi[i] as bigint);
        accLo += p1 < p2 ? p1 : p2;
        accHi += p1 < p2 ? p2 : p1;
      }
      const qLo = accLo >> BigInt(shift);
      const qHi = accHi >> BigInt(shift);
      const bits = signedBits(qLo, qHi);
      if (bits + shift > MAX_RESCALE_BITS) {
        throw new VerinferError("QUANTIZATION_OVERFLOW", `layer "${layer.name}" needs ${bits + shift} bits`, {
          details: `worst-case accumulator of unit ${j} does not fit the field safely; use fewer input/weight bits`,
        });
      }
      weights.push(row);
      bias.push(b);
      qBits.push(bits);
      const relu = layer.activation === "relu";
      nextLo.push(relu && qLo < 0n ? 0n : qLo);
      nextHi.push(relu && qHi < 0n ? 0n : qHi);
    }
    layers.push({
      name: layer.name,
      nIn,
      nOut: layer.units,
      activation: layer.activation,
      weightBits,
      weightFracBits,
      inFracBits,
      outFracBits,
      shift,
      qBits,
      weights,
      bias,
    });
    inFracBits = outFracBits;
    lo = nextLo;
    hi = nextHi;
  }
  const last = layers[layers.length - 1] as QuantizedLayer;
  const outputWidth = Math.max(...last.qBits);
  if (outputWidth > MAX_OUTPUT_WIDTH) {
    throw new VerinferError("QUANTIZATION_OVERFLOW", `the outputs need ${outputWidth} bits`, {
      details: `receipts and output commitments hold outputs of at most ${MAX_OUTPUT_WIDTH} bits; use fewer bits`,
    });
  }
  return {
    inputShape: net.inputShape.slice(),
    inputSize: net.inputSize,
    input,
    layers,
    outputWidth,
  };
}
