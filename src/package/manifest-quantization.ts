import { inputRange } from "../models/quantize-input.js";
import type { QuantizedLayer, QuantizedNetwork } from "../models/quantized-network.js";
import type { ModelManifest } from "./model-manifest.js";

/**
 * The `quantization` a manifest states, derived from the quantized network: what `compileModel` writes and what
 * opening a package checks the manifest against (a manifest may only restate its network, never amend it).
 */
export function manifestQuantization(network: QuantizedNetwork): ModelManifest["quantization"] {
  return {
    input: {
      bits: network.input.bits,
      fracBits: network.input.fracBits,
      lo: network.input.lo.toString(),
      hi: network.input.hi.toString(),
      range: inputRange(network),
      ...(network.input.featureFracBits ? { featureFracBits: [...network.input.featureFracBits] } : {}),
    },
    layers: network.layers.map(layerQuantization),
    output: { fracBits: network.outputFracBits, width: network.outputWidth },
  };
}

function layerQuantization(l: QuantizedLayer): ModelManifest["quantization"]["layers"][number] {
  switch (l.kind) {
    case "dense":
    case "conv2d":
      return { kind: l.kind, weightBits: l.weightBits, weightFracBits: l.weightFracBits };
    case "rescale":
      return {
        kind: l.kind,
        outFracBits: l.outFracBits,
        shift: l.shift,
        multiplier: l.multiplier.toString(),
        maxQBits: Math.max(...l.qBits),
      };
    case "maxPool2d":
      return { kind: l.kind, diffBits: l.diffBits };
    case "sumPool2d":
    case "add":
    case "concat":
    case "mul":
      return { kind: l.kind };
    case "embedding":
      return { kind: l.kind, weightBits: l.weightBits, weightFracBits: l.weightFracBits };
  }
}

function layerSummary(l: QuantizedLayer): ModelManifest["architecture"]["layers"][number] {
  switch (l.kind) {
    case "dense":
      return { kind: l.kind, name: l.name, outputShape: [l.nOut] };
    case "conv2d":
      return {
        kind: l.kind,
        name: l.name,
        outputShape: [...l.outShape],
        kernelSize: [...l.kernelSize],
        strides: [...l.strides],
        padding: [...l.padding],
      };
    case "sumPool2d":
    case "maxPool2d":
      return {
        kind: l.kind,
        name: l.name,
        outputShape: [...l.outShape],
        poolSize: [...l.poolSize],
        strides: [...l.strides],
        ...(l.padding ? { padding: [...l.padding] as [number, number] } : {}),
      };
    case "embedding":
      return { kind: l.kind, name: l.name, outputShape: [1, l.length, l.dim] };
    case "rescale":
      return {
        kind: l.kind,
        name: l.name,
        outputShape: [l.size],
        activation: l.activation,
        ...(l.leakShift === undefined ? {} : { leakShift: l.leakShift }),
      };
    case "add":
    case "mul":
      return { kind: l.kind, name: l.name, outputShape: [l.size] };
    case "concat":
      return { kind: l.kind, name: l.name, outputShape: [l.outer, l.parts.reduce((a, b) => a + b, 0)] };
  }
}

/** The `architecture` a manifest states, derived from the quantized network (checked like the quantization). */
export function manifestArchitecture(network: QuantizedNetwork): ModelManifest["architecture"] {
  return {
    inputShape: network.inputShape.slice(),
    inputSize: network.inputSize,
    outputShape: network.outputShape.slice(),
    head: network.head ? (network.head.kind === "sign" ? "sigmoid" : "softmax") : "none",
    layers: network.layers.map((l) => ({ ...layerSummary(l), ...(l.inputs ? { inputs: l.inputs.slice() } : {}) })),
  };
}
