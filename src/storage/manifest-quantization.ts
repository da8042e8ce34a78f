import { inputRange } from "../models/quantize-input.js";
import type { QuantizedNetwork } from "../models/quantized-network.js";
import type { ModelManifest } from "./model-manifest.js";

/**
 * The `quantization` a manifest states, derived from the quantized network: what `compileModel` writes and what
 * opening a package checks the manifest against (a manifest may only restate its network, never amend it).
 */
export function manifestQuantization(network: QuantizedNetwork): ModelManifest["quantization"] {
  const last = network.layers[network.layers.length - 1] as QuantizedNetwork["layers"][number];
  return {
    input: {
      bits: network.input.bits,
      fracBits: network.input.fracBits,
      lo: network.input.lo.toString(),
      hi: network.input.hi.toString(),
      range: inputRange(network),
    },
    layers: network.layers.map((l) => ({
      weightBits: l.weightBits,
      weightFracBits: l.weightFracBits,
      outFracBits: l.outFracBits,
      shift: l.shift,
      maxQBits: Math.max(...l.qBits),
    })),
    output: { fracBits: last.outFracBits, width: network.outputWidth },
  };
}
