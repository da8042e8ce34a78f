import { VerinferError } from "../errors.js";
import { moduleOf } from "../layers/registry.js";
import { argmaxForward } from "./layers/argmax.js";
import { conv2dTerms } from "./layers/conv2d.js";
import { denseTerms } from "./layers/dense.js";
import { embeddingForward } from "./layers/embedding.js";
import { linearForward } from "./layers/linear.js";
import { maxPoolForward } from "./layers/max-pool2d.js";
import { rescaleForward } from "./layers/rescale.js";
import { sumPool2dTerms } from "./layers/sum-pool2d.js";
import { walkNetwork } from "./network-graph.js";
import type { QuantizedLayer, QuantizedNetwork } from "./quantized-network.js";

/** Result of {@link integerForward}. */
export interface IntegerForwardResult {
  /** Each layer's output (accumulators for linear layers), the last one being the network's quantized output. */
  layerOutputs: bigint[][];
  /** The quantized output. */
  output: bigint[];
  /** With a softmax head: the proven class, argmax of `output` (lowest index on ties). */
  class?: number;
}

/** One layer of the integer semantics (see each kind's file in `src/models/layers`). */
export function layerForward(layer: QuantizedLayer, a: readonly bigint[]): bigint[] {
  switch (layer.kind) {
    case "dense":
      return linearForward(denseTerms(layer), a);
    case "conv2d":
      return linearForward(conv2dTerms(layer), a);
    case "sumPool2d":
      return linearForward(sumPool2dTerms(layer), a);
    case "rescale":
      return rescaleForward(layer, a);
    case "maxPool2d":
      return maxPoolForward(layer, a);
    case "embedding":
      return embeddingForward(layer, a);
    default:
      // Merges (add, concat, mul) and every later kind: the module's integer semantics.
      return moduleOf(layer).forward(layer, a);
  }
}

/**
 * verinfer's exact integer semantics — the reference the circuit reproduces bit for bit: linear layers
 * (`acc = bias + Σ w·a`, sum pooling), rescales (`q = floor(m·acc / 2^shift)`, `y = relu ? max(q, 0) : q`), max
 * pooling, merges of earlier tensors (`add`: `Σ_k in_k · 2^shift_k`, exact left shifts aligning the inputs'
 * scales; `concat` along the last axis; `mul`: `a_j · b_j`), and with a softmax head the argmax of the outputs. Each
 * layer reads the tensors its `inputs` name (0: the input, t: layer t − 1's output), by default the previous one.
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
      throw new VerinferError(
        "INVALID_INPUT",
        `quantized input ${v} at index ${i} is outside [${net.input.lo}, ${net.input.hi}]`,
      );
    }
  }
  const layerOutputs: bigint[][] = [];
  // A sign head's class is [logit >= 0]: floor(m·acc / 2^s) >= 0 exactly when acc >= 0 (m >= 1).
  let lastInput: readonly bigint[] = [];
  // Each layer reads the tensors its wiring names (the previous output in a chain), joined in order.
  const a = walkNetwork<readonly bigint[]>(
    net,
    xq,
    (parts) => parts.flat(),
    (layer, input) => {
      lastInput = input;
      const y = layerForward(layer, input);
      layerOutputs.push(y);
      return y;
    },
  );
  const output = a.slice();
  if (net.head?.kind === "sign") return { layerOutputs, output, class: (lastInput[0] as bigint) >= 0n ? 1 : 0 };
  return net.head ? { layerOutputs, output, class: argmaxForward(output) } : { layerOutputs, output };
}

/** The float value of a quantized output: y / 2^outputFracBits. */
export function dequantizeOutput(net: QuantizedNetwork, output: readonly bigint[]): number[] {
  return output.map((y) => Number(y) / 2 ** net.outputFracBits);
}
