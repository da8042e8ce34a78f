import { VerinferError } from "../errors.js";
import type { QuantizedNetwork } from "./quantized-network.js";

/** Result of {@link integerForward}. */
export interface IntegerForwardResult {
  /** Each layer's output y (after activation), the last one being the network's quantized output. */
  layerOutputs: bigint[][];
  /** The quantized output. */
  output: bigint[];
}

/**
 * verinfer's exact integer semantics — the reference the circuit reproduces bit for bit:
 * `acc = bias + Σ w·a`, `q = floor(acc / 2^shift)`, `y = relu ? max(q, 0) : q`.
 *
 * @param xq - quantized input, each value in [input.lo, input.hi] (see {@link quantizeInput}).
 * @throws VerinferError `INVALID_INPUT` when a value is outside the input range, `INTERNAL` if a value ever
 *   left the range proven by quantization (a bug, never expected).
 * @example
 * ```ts
 * const { output } = integerForward(qnet, quantizeInput(qnet, [0.1, 0.5, …]));
 * ```
 */
export function integerForward(net: QuantizedNetwork, xq: readonly bigint[]): IntegerForwardResult {
  if (xq.length !== net.inputSize) {
    throw new VerinferError("INVALID_INPUT", `expected ${net.inputSize} quantized values, got ${xq.length}`);
  }
  for (const [i, v] of xq.entries()) {
    if (v < net.input.lo || v > net.input.hi) {
      throw new VerinferError("INVALID_INPUT", `quantized input ${v} at index ${i} is outside [${net.input.lo}, ${net.input.hi}]`);
    }
  }
  const layerOutputs: bigint[][] = [];
  let a: readonly bigint[] = xq;
  for (const layer of net.layers) {
    const shift = BigInt(layer.shift);
    const y: bigint[] = [];
    for (let j = 0; j < layer.nOut; j++) {
      const row = layer.weights[j] as bigint[];
      let acc = layer.bias[j] as bigint;
      for (let i = 0; i < layer.nIn; i++) acc += (row[i] as bigint) * (a[i] as bigint);
      // BigInt >> is an arithmetic shift: floor division for negative values too, as the circuit's Rescale.
      const q = acc >> shift;
      const half = 1n << BigInt((layer.qBits[j] as number) - 1);
      if (q < -half || q >= half) {
        throw new VerinferError("INTERNAL", `layer "${layer.name}" unit ${j} left its proven range`);
      }
      y.push(layer.activation === "relu" && q < 0n ? 0n : q);
    }
    layerOutputs.push(y);
    a = y;
  }
  return { layerOutputs, output: a.slice() };
}

/** The float value of a quantized output: y / 2^outFracBits of the last layer. */
export function dequantizeOutput(net: QuantizedNetwork, output: readonly bigint[]): number[] {
  const frac = (net.layers[net.layers.length - 1] as QuantizedNetwork["layers"][number]).outFracBits;
  return output.map((y) => Number(y) / 2 ** frac);
}
