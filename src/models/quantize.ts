import { VerinferError } from "../errors.js";
import { argmaxBits } from "./layers/argmax.js";
import { conv2dTerms, convKernelRows, floatConv2d, type QuantizedConv2d } from "./layers/conv2d.js";
import { denseTerms, floatDense, type QuantizedDense } from "./layers/dense.js";
import { embeddingBounds, type QuantizedEmbedding } from "./layers/embedding.js";
import { poolIsPadded, type Shape3 } from "./layers/geometry.js";
import { type LinearTerms, linearBounds } from "./layers/linear.js";
import { maxPoolBounds, maxPoolWindows, type QuantizedMaxPool2d } from "./layers/max-pool2d.js";
import {
  isSmoothActivation,
  piecewiseBounds,
  type SmoothParams,
  smoothFunction,
  tablePiecewise,
} from "./layers/piecewise.js";
import {
  activationForward,
  outputWidthOf,
  type QuantizedRescale,
  relu6Ceiling,
  rescaleQBounds,
  signedBits,
} from "./layers/rescale.js";
import { type QuantizedSumPool2d, sumPool2dTerms, sumPoolScale, visitPool } from "./layers/sum-pool2d.js";
import {
  type Activation,
  type EmbeddingLayer,
  isChainNetwork,
  isDenseLayer,
  type Layer,
  leakShiftOf,
  type Network,
  networkShapes,
  type Pads,
  windowGeometry,
} from "./network.js";
import { quantizeGraph } from "./quantize-graph.js";
import {
  type InputQuantization,
  lastRescale,
  type QuantizedLayer,
  type QuantizedNetwork,
} from "./quantized-network.js";

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
  /** Bits for the largest calibrated activation (default 16); sets the output precision of each rescale. */
  activationBits?: number;
  /**
   * Segments of the smooth activations' tables (sigmoid, tanh, gelu, swish, …): `"default"` keeps the error
   * within 1/256 of the output range, `"high"` has 8× the segments (error near 2^-12, more constraints).
   */
  activationPrecision?: "default" | "high";
  /**
   * Input scales: `"shared"`, one power of two for every input value (the default before per-feature scales);
   * `"perFeature"`, one per input value, from that value's calibrated range — for tabular inputs in raw units
   * (square feet next to a 0/1 flag), needs a dense first layer and no explicit `inputRange`; `"auto"` (default),
   * per-feature exactly when the shared scale has no fractional bits (inputs in raw units) and it would round some
   * feature that is not whole-numbered to fewer than 2^(inputBits − 4) levels.
   */
  inputScales?: "auto" | "shared" | "perFeature";
}

/** Keeps every rescale (shift + qBits) this far below the 253-bit field. */
const MAX_RESCALE_BITS = 250;
/** Widest output a receipt states (its commitment header holds offsets below 2^127). */
const MAX_OUTPUT_WIDTH = 128;
/** Precision of the multiplier that averages over a window whose size is not a power of two. */
const MEAN_MULTIPLIER_BITS = 24;

function log2Floor(x: number): number {
  return Math.floor(Math.log2(x));
}

function roundHalfUp(x: number): bigint {
  return BigInt(Math.floor(x + 0.5));
}

function checkBits(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new VerinferError("INVALID_OPTIONS", `${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
  return v;
}

function quantizeInput(
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
  return { bits, fracBits: fracBitsFor(maxAbs, Number(hi)), lo, hi };
}

/** The most fractional bits (at most 48) that still represent every value of magnitude up to maxAbs in ±limit. */
function fracBitsFor(maxAbs: number, limit: number): number {
  return maxAbs === 0 ? 0 : Math.min(48, log2Floor(limit / maxAbs));
}

/** The most fractional bits of weights of magnitude up to maxW in signed weightBits-bit integers. */
function weightFracBitsFor(maxW: number, weightBits: number): number {
  return fracBitsFor(maxW, 2 ** (weightBits - 1) - 1);
}

/**
 * Per-feature input scales from the calibration (see {@link QuantizeOptions.inputScales}), or the shared
 * quantization unchanged when they do not apply. A feature never seen non-zero keeps the shared scale.
 *
 * @throws VerinferError `INVALID_OPTIONS` when per-feature scales are asked for where they cannot apply.
 */
function featureScales(
  shared: InputQuantization,
  net: Network,
  calibration: readonly (readonly number[])[],
  options: QuantizeOptions,
): InputQuantization {
  const mode = options.inputScales ?? "auto";
  if (mode !== "auto" && mode !== "shared" && mode !== "perFeature") {
    throw new VerinferError(
      "INVALID_OPTIONS",
      `inputScales must be "auto", "shared" or "perFeature", not ${String(mode)}`,
    );
  }
  if (mode === "shared") return shared;
  const applies = isChainNetwork(net) && isDenseLayer(net.layers[0] as Layer) && !options.inputRange;
  if (!applies) {
    if (mode === "auto") return shared;
    throw new VerinferError("INVALID_OPTIONS", 'inputScales "perFeature" needs a dense first layer and no inputRange', {
      details:
        "per-feature scales come from each feature's calibrated range and are folded into the first dense layer's " +
        "columns; for other models standardize the features outside the model",
    });
  }
  const maxAbs = new Array<number>(net.inputSize).fill(0);
  for (const x of calibration) {
    for (const [i, v] of x.entries()) maxAbs[i] = Math.max(maxAbs[i] as number, Math.abs(v));
  }
  const featureFracBits = maxAbs.map((m) => (m === 0 ? shared.fracBits : fracBitsFor(m, Number(shared.hi))));
  if (mode === "auto") {
    const step = 2 ** shared.fracBits;
    const coarse = maxAbs.some(
      (m, i) =>
        m > 0 &&
        m * step < 2 ** (shared.bits - 4) &&
        calibration.some((x) => !Number.isInteger((x[i] as number) * step)),
    );
    if (shared.fracBits > 0 || !coarse) return shared;
  }
  if (featureFracBits.every((f) => f === shared.fracBits)) return shared;
  return { ...shared, fracBits: Math.min(...featureFracBits), featureFracBits };
}

/**
 * Where the quantizer stands between layers: values either rescaled (integers at 2^fracBits, range-proven) or
 * accumulators of a linear chain, worth `value · 2^pow2 · divisor` (divisor: an average's window size that is not
 * a power of two, still to divide by).
 */
export type Scale =
  | { rescaled: true; fracBits: number }
  | {
      rescaled: false;
      pow2: number;
      divisor: number;
      /** Only sum poolings since the last rescale: the values are sums of rescaled (range-proven) integers. */
      poolsOnly: boolean;
    };

/** An activation as a rescale applies it: the name, and k of a leakyRelu's slope 2^-k. */
export interface ActivationStep {
  activation: Activation;
  leakShift?: number;
  /** A hardSigmoid's slope and offset, when stated. */
  smooth?: SmoothParams;
}

export const LINEAR: ActivationStep = { activation: "linear" };

/** The activation a layer states, as a step (its LeakyReLU slope as a shift). */
function stepOf(layer: { activation: Activation; alpha?: number; beta?: number }): ActivationStep {
  if (layer.activation === "hardSigmoid" && (layer.alpha !== undefined || layer.beta !== undefined)) {
    return {
      activation: "hardSigmoid",
      smooth: {
        ...(layer.alpha === undefined ? {} : { alpha: layer.alpha }),
        ...(layer.beta === undefined ? {} : { beta: layer.beta }),
      },
    };
  }
  if (layer.activation !== "leakyRelu") return { activation: layer.activation };
  const k = layer.alpha === undefined ? undefined : leakShiftOf(layer.alpha);
  if (k === undefined) throw new VerinferError("INTERNAL", "a leakyRelu without a power-of-two slope");
  return { activation: "leakyRelu", leakShift: k };
}

/** The float activation, for calibration values. */
function floatActivation(step: ActivationStep, v: number): number {
  if (isSmoothActivation(step.activation)) return smoothFunction(step.activation, step.smooth)(v);
  switch (step.activation) {
    case "linear":
      return v;
    case "relu":
      return Math.max(v, 0);
    case "relu6":
      return Math.min(Math.max(v, 0), 6);
    case "leakyRelu":
      return v < 0 ? v * 2 ** -(step.leakShift as number) : v;
  }
}

/** The quantizer's state as it walks a network (exported for the graph walk, src/models/quantize-graph.ts). */
export class Quantizer {
  readonly layers: QuantizedLayer[] = [];
  scale: Scale;
  lo: bigint[];
  hi: bigint[];
  /** The float values at this point, one array per calibration sample. */
  real: Float64Array[];
  /** An activation deferred past a max pooling (max, every activation and rescale are monotone: they commute). */
  pending: ActivationStep | undefined;
  /** The quantized tensor the state describes (0: the input, t: layer t − 1's output); see {@link push}. */
  cur = 0;
  /** Per-feature input scales, read by the first layer's weights. */
  readonly featureFracBits: readonly number[] | undefined;

  /** Appends a layer that reads the current tensor (stating it when that is not the previous layer's output). */
  push(op: QuantizedLayer): void {
    if (this.cur !== this.layers.length) op.inputs = [this.cur];
    this.layers.push(op);
    this.cur = this.layers.length;
  }

  constructor(
    readonly weightBits: number,
    readonly activationBits: number,
    readonly activationPrecision: "default" | "high",
    input: InputQuantization,
    calibration: readonly (readonly number[])[],
    size: number,
  ) {
    this.scale = { rescaled: true, fracBits: input.fracBits };
    this.featureFracBits = input.featureFracBits;
    this.lo = new Array<bigint>(size).fill(input.lo);
    this.hi = new Array<bigint>(size).fill(input.hi);
    this.real = calibration.map((x) => Float64Array.from(x));
  }

  linear(op: QuantizedLayer, terms: LinearTerms, real: (x: Float64Array) => Float64Array): void {
    this.push(op);
    ({ lo: this.lo, hi: this.hi } = linearBounds(terms, this.lo, this.hi));
    this.real = this.real.map(real);
  }

  /**
   * Rescales pending accumulators (with the activation), or applies an activation to rescaled values it can
   * change (a shift-0 rescale).
   */
  rescale(name: string, requested: ActivationStep): void {
    const step = this.pending ?? requested;
    this.pending = undefined;
    const s = this.scale;
    if (s.rescaled) {
      // relu, relu6 and leakyRelu are each the identity on one interval ([0, ∞), [0, ceiling], [0, ∞)): when they
      // keep both ends of a unit's bounds they keep every value between, and nothing needs proving.
      const op = { ...step, outFracBits: s.fracBits };
      const keeps = (v: bigint) => activationForward(op, v) === v;
      if (step.activation === "linear") return;
      if (!isSmoothActivation(step.activation) && this.lo.every((v, j) => keeps(v) && keeps(this.hi[j] as bigint)))
        return;
      this.emitRescale(name, step, 1n, 0, s.fracBits);
      return;
    }
    let maxAbs = 0;
    for (const x of this.real) for (const v of x) maxAbs = Math.max(maxAbs, Math.abs(v));
    // A relu6's output is at most 6: its scale need not cover larger inputs (the range checks still do).
    if (step.activation === "relu6") maxAbs = Math.min(maxAbs, 6);
    let pow2 = s.pow2;
    let divisor = s.divisor;
    if (Number.isInteger(Math.log2(divisor))) {
      pow2 += Math.log2(divisor);
      divisor = 1;
    }
    // 1.25 leaves headroom for inputs a little beyond the calibration set.
    let outFracBits = maxAbs === 0 ? pow2 : this.activationBits - 1 - Math.ceil(Math.log2(maxAbs * 1.25));
    let multiplier = 1n;
    let extra = 0;
    if (divisor !== 1) {
      extra = MEAN_MULTIPLIER_BITS + Math.ceil(Math.log2(divisor));
      multiplier = roundHalfUp(2 ** extra / divisor);
    }
    outFracBits = Math.min(outFracBits, pow2 + extra);
    this.emitRescale(name, step, multiplier, pow2 + extra - outFracBits, outFracBits);
  }

  /** An exp's window: |x| < 2^r covering 1.25× the calibrated inputs (see `tablePiecewise`). */
  expRadiusBits(): number {
    let maxAbs = 0;
    for (const x of this.real) for (const v of x) maxAbs = Math.max(maxAbs, Math.abs(v));
    return maxAbs === 0 ? 1 : Math.max(1, Math.ceil(Math.log2(maxAbs * 1.25)));
  }

  emitRescale(name: string, step: ActivationStep, multiplier: bigint, shift: number, inFracBits: number): void {
    let outFracBits = inFracBits;
    const q = rescaleQBounds(multiplier, shift, this.lo, this.hi);
    let qBits = q.lo.map((l, j) => signedBits(l, q.hi[j] as bigint));
    const smooth = isSmoothActivation(step.activation)
      ? tablePiecewise({
          name: step.activation,
          inFracBits: outFracBits,
          precision: this.activationPrecision,
          ...(step.smooth ? { smooth: step.smooth } : {}),
          ...(step.activation === "exp" ? { expRadiusBits: this.expRadiusBits() } : {}),
        })
      : undefined;
    if (smooth) {
      // The table reads the top bits of a window: wider units are range-checked to it (harmless, and exact).
      qBits = qBits.map((b) => Math.max(b, smooth.piecewise.window));
      outFracBits = smooth.outFracBits;
    }
    const widest = Math.max(...qBits);
    if (widest + shift > MAX_RESCALE_BITS) {
      throw new VerinferError("QUANTIZATION_OVERFLOW", `layer "${name}" needs ${widest + shift} bits`, {
        details: "a worst-case accumulator does not fit the field safely; use fewer input/weight bits",
      });
    }
    const op: QuantizedRescale = {
      kind: "rescale",
      name,
      size: qBits.length,
      multiplier,
      shift,
      activation: step.activation,
      ...(step.leakShift === undefined ? {} : { leakShift: step.leakShift }),
      ...(smooth ? { piecewise: smooth.piecewise } : {}),
      qBits,
      outFracBits,
    };
    if (step.activation === "relu6" && relu6Ceiling(outFracBits) === 0n) {
      throw new VerinferError("QUANTIZATION_OVERFLOW", `layer "${name}": a relu6 at scale 2^${outFracBits} is 0`, {
        details: "its inputs are too large for activationBits; raise activationBits",
      });
    }
    this.push(op);
    // Every other activation is monotone, so it maps the bounds of q to the bounds of its output.
    const smoothBounds = smooth && q.lo.map((v, j) => piecewiseBounds(smooth.piecewise, v, q.hi[j] as bigint));
    this.lo = smoothBounds ? smoothBounds.map((b) => b.lo) : q.lo.map((v) => activationForward(op, v));
    this.hi = smoothBounds ? smoothBounds.map((b) => b.hi) : q.hi.map((v) => activationForward(op, v));
    if (step.activation !== "linear") this.real = this.real.map((x) => x.map((v) => floatActivation(step, v)));
    this.scale = { rescaled: true, fracBits: outFracBits };
  }

  /** Fixed-point weights of a weighted layer: the most fractional bits that fit weightBits. */
  weights(name: string, rows: readonly (readonly number[])[], bias: readonly number[]) {
    const s = this.scale;
    if (!s.rescaled && s.poolsOnly && Number.isInteger(Math.log2(s.divisor))) {
      // Sums of 2^m rescaled values over windows are integers at 2^(fracBits + m) of the mean, bounded by interval
      // arithmetic like any accumulator: a weighted layer reads them as they are, and its own rescale range-checks
      // what it computes. Rescaling them first would only cost a range check per pooled value.
      this.scale = { rescaled: true, fracBits: s.pow2 + Math.log2(s.divisor) };
    } else if (!s.rescaled) {
      this.rescale(name, LINEAR);
    }
    const inFracBits = (this.scale as { fracBits: number }).fracBits;
    const fracBitsOf = (maxW: number) => weightFracBitsFor(maxW, this.weightBits);
    if (this.cur === 0 && this.featureFracBits)
      return this.featureWeights(rows, bias, this.featureFracBits, fracBitsOf);
    let maxW = 0;
    for (const r of rows) for (const w of r) maxW = Math.max(maxW, Math.abs(w));
    const weightFracBits = fracBitsOf(maxW);
    const accFrac = inFracBits + weightFracBits;
    this.scale = { rescaled: false, pow2: accFrac, divisor: 1, poolsOnly: false };
    return {
      weightBits: this.weightBits,
      weightFracBits,
      inFracBits,
      weights: rows.map((r) => r.map((w) => roundHalfUp(w * 2 ** weightFracBits))),
      bias: bias.map((b) => roundHalfUp(b * 2 ** accFrac)),
    };
  }

  /**
   * The first dense layer's weights under per-feature input scales f_i: column i at 2^(A − f_i), so every product
   * w_ji · x_i lands on the accumulator scale 2^A; A is the largest that keeps each column within weightBits.
   * The layer states inFracBits = min f_i and weightFracBits = A − min f_i (both committed, with the f_i).
   */
  private featureWeights(
    rows: readonly (readonly number[])[],
    bias: readonly number[],
    features: readonly number[],
    fracBitsOf: (maxW: number) => number,
  ) {
    const inFracBits = Math.min(...features);
    let acc = Number.POSITIVE_INFINITY;
    features.forEach((f, i) => {
      let maxW = 0;
      for (const r of rows) maxW = Math.max(maxW, Math.abs(r[i] as number));
      if (maxW > 0) acc = Math.min(acc, f + fracBitsOf(maxW));
    });
    if (!Number.isFinite(acc)) acc = inFracBits;
    this.scale = { rescaled: false, pow2: acc, divisor: 1, poolsOnly: false };
    return {
      weightBits: this.weightBits,
      weightFracBits: acc - inFracBits,
      inFracBits,
      weights: rows.map((r) => r.map((w, i) => roundHalfUp(w * 2 ** (acc - (features[i] as number))))),
      bias: bias.map((b) => roundHalfUp(b * 2 ** acc)),
    };
  }
}

/** Output size and (top, left) padding of a conv or pooling window on `inShape`, explicit pads included. */
function pads(
  inShape: Shape3,
  layer: { kernelSize: [number, number]; strides: [number, number]; padding: "valid" | "same"; pads?: Pads },
) {
  const y = windowGeometry(layer, inShape[0], layer.kernelSize[0], 0);
  const x = windowGeometry(layer, inShape[1], layer.kernelSize[1], 1);
  return { outHW: [y.out, x.out] as [number, number], padding: [y.pads[0], x.pads[0]] as [number, number] };
}

/**
 * A pooling's padding as its quantized layer states it: absent when no window reaches outside the input (today's
 * layers, unchanged), else the (top, left) padding and, for an average, whether padded positions count.
 */
function poolPadding(
  inShape: Shape3,
  layer: {
    kind: string;
    poolSize: [number, number];
    strides: [number, number];
    padding: "valid" | "same";
    pads?: Pads;
    countIncludePad?: boolean;
  },
): { padding?: [number, number]; countIncludePad?: boolean } {
  const g = pads(inShape, { ...layer, kernelSize: layer.poolSize });
  const padded = poolIsPadded({
    inShape,
    outShape: [g.outHW[0], g.outHW[1], inShape[2]],
    poolSize: layer.poolSize,
    strides: layer.strides,
    padding: g.padding,
  });
  if (!padded) return {};
  return layer.kind === "avgPool2d"
    ? { padding: g.padding, countIncludePad: layer.countIncludePad === true }
    : { padding: g.padding };
}

/** A weighted layer's activation: one right before a max pooling waits for the pooled outputs. */
function activate(q: Quantizer, name: string, step: ActivationStep, next: Layer | undefined): void {
  if (step.activation === "linear") return;
  // A smooth activation is not monotone in general: it is never moved past a max pooling.
  if (next?.kind === "maxPool2d" && !isSmoothActivation(step.activation)) q.pending = step;
  else q.rescale(name, step);
}

/** Quantizes one float layer that reads the quantizer's current tensor. */
export function quantizeLayer(
  q: Quantizer,
  layer: Layer,
  inShape: number[],
  outShape: number[],
  next: Layer | undefined,
) {
  if (isDenseLayer(layer)) {
    const rows = layer.kernel[0]?.map((_v, j) => layer.kernel.map((r) => r[j] as number)) ?? [];
    const op: QuantizedDense = {
      kind: "dense",
      name: layer.name,
      nIn: layer.kernel.length,
      nOut: layer.units,
      ...q.weights(layer.name, rows, layer.bias),
    };
    q.linear(op, denseTerms(op), (x) => floatDense(layer.kernel, layer.bias, x));
    activate(q, layer.name, stepOf(layer), next);
    return;
  }
  switch (layer.kind) {
    case "conv2d": {
      const rows = convKernelRows(layer.kernel);
      const geometry = {
        inShape: inShape as Shape3,
        outShape: outShape as Shape3,
        kernelSize: layer.kernelSize,
        strides: layer.strides,
        padding: pads(inShape as Shape3, layer).padding,
      };
      const op: QuantizedConv2d = {
        kind: "conv2d",
        name: layer.name,
        ...geometry,
        ...q.weights(layer.name, rows, layer.bias),
      };
      q.linear(op, conv2dTerms(op), (x) => floatConv2d(geometry, rows, layer.bias, x));
      activate(q, layer.name, stepOf(layer), next);
      return;
    }
    case "avgPool2d":
    case "globalAvgPool2d": {
      const [h, w, c] = inShape as Shape3;
      const poolSize: [number, number] = layer.kind === "avgPool2d" ? layer.poolSize : [h, w];
      const strides: [number, number] = layer.kind === "avgPool2d" ? layer.strides : [h, w];
      const op: QuantizedSumPool2d = {
        kind: "sumPool2d",
        name: layer.name,
        inShape: inShape as Shape3,
        outShape: layer.kind === "avgPool2d" ? (outShape as Shape3) : [1, 1, c],
        poolSize,
        strides,
        ...(layer.kind === "avgPool2d" ? poolPadding(inShape as Shape3, layer) : {}),
      };
      // The divisor of the average (window size, or lcm of the windows' input counts with uncounted padding), and
      // each output's integer weight: the float average is the weighted sum over the divisor.
      const { divisor, weights } = sumPoolScale(op);
      const k = Number(divisor);
      const n = op.outShape[0] * op.outShape[1] * c;
      q.linear(op, sumPool2dTerms(op), (x) => {
        const y = new Float64Array(n);
        for (let j = 0; j < n; j++) {
          let s = 0;
          visitPool(op, j, (i) => {
            s += x[i] as number;
          });
          y[j] = (s * Number(weights[j])) / k;
        }
        return y;
      });
      const s = q.scale;
      q.scale = s.rescaled
        ? { rescaled: false, pow2: s.fracBits, divisor: k, poolsOnly: true }
        : { ...s, divisor: s.divisor * k };
      return;
    }
    case "maxPool2d": {
      // Rescale and ReLU are monotone, so they commute with max: pooling pending accumulators first and rescaling
      // only the pooled outputs is exact and costs k·(B + s + 1) per output of a k-window, against
      // k·(B + s + 1) + (k − 1)(B + 1) when every input is rescaled first.
      const actNext =
        next?.kind === "activation" && next.activation !== "linear" && !isSmoothActivation(next.activation)
          ? stepOf(next)
          : undefined;
      const geometry = {
        inShape: inShape as Shape3,
        outShape: outShape as Shape3,
        poolSize: layer.poolSize,
        strides: layer.strides,
        ...poolPadding(inShape as Shape3, layer),
      };
      if (q.scale.rescaled && actNext) q.rescale(layer.name, actNext);
      const bounds = maxPoolBounds(geometry, q.lo, q.hi);
      if (bounds.diffBits > MAX_RESCALE_BITS) {
        throw new VerinferError(
          "QUANTIZATION_OVERFLOW",
          `layer "${layer.name}" compares ${bounds.diffBits}-bit values`,
          {
            details: "a worst-case difference does not fit the field safely; use fewer input/weight bits",
          },
        );
      }
      const op: QuantizedMaxPool2d = { kind: "maxPool2d", name: layer.name, ...geometry, diffBits: bounds.diffBits };
      q.push(op);
      q.lo = bounds.lo;
      q.hi = bounds.hi;
      const windows = maxPoolWindows(geometry);
      q.real = q.real.map((x) => Float64Array.from(windows, (win) => Math.max(...win.map((i) => x[i] as number))));
      if (!q.scale.rescaled && (q.pending || actNext)) q.rescale(layer.name, q.pending ?? (actNext as ActivationStep));
      return;
    }
    case "activation":
      q.rescale(layer.name, stepOf(layer));
      return;
    case "embedding":
      quantizeEmbedding(q, layer, inShape[0] as number);
      return;
    case "reshape":
      return;
  }
}

/** An embedding's table at the most fractional bits that fit weightBits; its outputs are exact (rescaled) values. */
function quantizeEmbedding(q: Quantizer, layer: EmbeddingLayer, length: number): void {
  let maxW = 0;
  for (const r of layer.table) for (const w of r) maxW = Math.max(maxW, Math.abs(w));
  const weightFracBits = weightFracBitsFor(maxW, q.weightBits);
  const op: QuantizedEmbedding = {
    kind: "embedding",
    name: layer.name,
    vocab: layer.inputDim,
    dim: layer.outputDim,
    length,
    weightBits: q.weightBits,
    weightFracBits,
    table: layer.table.map((r) => r.map((w) => roundHalfUp(w * 2 ** weightFracBits))),
  };
  q.push(op);
  ({ lo: q.lo, hi: q.hi } = embeddingBounds(op));
  q.real = q.real.map((ids) => Float64Array.from(Array.from(ids).flatMap((id) => layer.table[id] as number[])));
  q.scale = { rescaled: true, fracBits: weightFracBits };
}

/**
 * The input quantization of token ids: integers in [0, 2^bits) with 2^bits >= vocabulary (fracBits 0), every
 * calibration value an id of the vocabulary. `inputBits` and `inputRange` do not apply (the ids are exact).
 *
 * @throws VerinferError `INVALID_OPTIONS` for a calibration value that is not an id in [0, vocab).
 */
function idInput(layer: EmbeddingLayer, calibration: readonly (readonly number[])[]): InputQuantization {
  for (const [k, x] of calibration.entries()) {
    if (!x.every((v) => Number.isInteger(v) && v >= 0 && v < layer.inputDim)) {
      throw new VerinferError(
        "INVALID_OPTIONS",
        `calibration sample ${k} holds a value that is not a token id in [0, ${layer.inputDim})`,
      );
    }
  }
  const bits = Math.max(1, Math.ceil(Math.log2(layer.inputDim)));
  return { bits, fracBits: 0, lo: 0n, hi: (1n << BigInt(bits)) - 1n };
}

/**
 * Quantizes a float network to power-of-two fixed point, calibrated on sample inputs, and proves by interval
 * arithmetic that for every input the circuit accepts, every intermediate value stays inside the range its
 * range check allows — so the honest prover never fails and no value can wrap the field.
 *
 * Rescales are lazy: a linear chain (a weighted layer, then average poolings) is rescaled once, at the first
 * nonlinearity (ReLU, max pooling), before the next weighted layer, or at the end.
 *
 * @throws VerinferError `INVALID_OPTIONS` (bad bit widths, empty calibration, calibration samples of the wrong
 *   size); `INVALID_MODEL` (no weighted layer, layers that do not fit); `QUANTIZATION_OVERFLOW` when a worst case
 *   needs more bits than the field allows.
 * @example
 * ```ts
 * const qnet = quantizeNetwork(extractNetwork(model), { calibration: samples });
 * ```
 */
export function quantizeNetwork(net: Network, options: QuantizeOptions): QuantizedNetwork {
  const inputBits = checkBits("inputBits", options.inputBits, 8, 1, 32);
  const weightBits = checkBits("weightBits", options.weightBits, 8, 2, 32);
  const activationBits = checkBits("activationBits", options.activationBits, 16, 2, 64);
  const calibration = options.calibration;
  const precision = options.activationPrecision ?? "default";
  if (precision !== "default" && precision !== "high") {
    throw new VerinferError(
      "INVALID_OPTIONS",
      `activationPrecision must be "default" or "high", not ${String(precision)}`,
    );
  }
  if (calibration.length === 0 && !options.inputRange) {
    throw new VerinferError("INVALID_OPTIONS", "calibration needs at least one sample input (or an inputRange)");
  }
  for (const [k, x] of calibration.entries()) {
    if (x.length !== net.inputSize || !x.every(Number.isFinite)) {
      throw new VerinferError("INVALID_OPTIONS", `calibration sample ${k} must hold ${net.inputSize} finite numbers`);
    }
  }
  const shapes = networkShapes(net);
  if (!net.layers.some((l) => isDenseLayer(l) || l.kind === "conv2d")) {
    throw new VerinferError("INVALID_MODEL", "model has no Dense or Conv2D layer");
  }
  const first = net.layers[0];
  const input =
    first?.kind === "embedding"
      ? idInput(first, calibration)
      : featureScales(quantizeInput(calibration, options.inputRange, inputBits), net, calibration, options);
  const q = new Quantizer(
    weightBits,
    activationBits,
    options.activationPrecision ?? "default",
    input,
    calibration,
    net.inputSize,
  );
  if (isChainNetwork(net)) {
    net.layers.forEach((layer, l) => {
      quantizeLayer(q, layer, shapes[l] as number[], shapes[l + 1] as number[], net.layers[l + 1]);
    });
  } else {
    quantizeGraph(q, net, shapes);
  }
  const lastName = net.layers[net.layers.length - 1]?.name ?? "output";
  if (!q.scale.rescaled) q.rescale(lastName, LINEAR);
  const layers = q.layers;
  // A graph may end in a concat (or max pooling of one): its outputs are range-proven by a rescale of their own.
  if (!lastRescale({ layers }) && q.scale.rescaled) q.emitRescale(lastName, LINEAR, 1n, 0, q.scale.fracBits);
  const rescale = lastRescale({ layers }) as QuantizedRescale;
  // A binary classifier: a sigmoid on one logit, the last layer. Its class is the logit's proven sign.
  const signHead =
    rescale.activation === "sigmoid" && rescale.size === 1 && layers[layers.length - 1] === rescale && !net.head;
  if (rescale.piecewise && !signHead) {
    throw new VerinferError("UNSUPPORTED_LAYER", `the network ends in a ${rescale.activation} ("${rescale.name}")`, {
      details:
        "verinfer proves a smooth activation inside the network, not as its output (but a sigmoid on one logit: a " +
        "binary classifier); end the model with its logits (a softmax head is proven as the argmax of the logits)",
    });
  }
  const outputWidth = outputWidthOf(rescale, signHead);
  if (outputWidth > MAX_OUTPUT_WIDTH) {
    throw new VerinferError("QUANTIZATION_OVERFLOW", `the outputs need ${outputWidth} bits`, {
      details: `receipts and output commitments hold outputs of at most ${MAX_OUTPUT_WIDTH} bits; use fewer bits`,
    });
  }
  const headBits = net.head === "softmax" ? argmaxBits(q.lo, q.hi) : 0;
  if (headBits > MAX_RESCALE_BITS) {
    throw new VerinferError("QUANTIZATION_OVERFLOW", `the softmax head compares ${headBits}-bit logits`);
  }
  return {
    inputShape: net.inputShape.slice(),
    inputSize: net.inputSize,
    input,
    layers,
    outputShape: (shapes[shapes.length - 1] as number[]).slice(),
    outputFracBits: rescale.outFracBits,
    outputWidth,
    ...(net.head === "softmax" ? { head: { kind: "argmax" as const, bits: headBits } } : {}),
    ...(signHead ? { head: { kind: "sign" as const } } : {}),
  };
}
