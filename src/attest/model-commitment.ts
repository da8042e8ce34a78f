import { VerinferError } from "../errors.js";
import type { LayerCommitment } from "../layers/layer-module.js";
import { LAYER_MODULES, moduleOf } from "../layers/registry.js";
import { isChain, layerInputTensors } from "../models/network-graph.js";
import type { QuantizedLayer, QuantizedNetwork } from "../models/quantized-network.js";
import { isCommittableOffset, toField } from "../util/field.js";
import { poseidonChain } from "./poseidon.js";

/** Domain tag of model commitments, format version 3 (ASCII "mdl3"). */
export const MODEL_COMMITMENT_TAG = 0x6d646c33n;
/**
 * Domain tag of the model commitments of networks with per-feature input scales (ASCII "mdf3"): the I/O descriptor
 * ends in one scale per input value. A shared scale keeps the "mdl3" form (and so its model id); no per-feature
 * descriptor hashes like a shared one.
 */
export const FEATURE_SCALES_COMMITMENT_TAG = 0x6d646633n;
/** Domain tag of network commitments (architecture + weights), format version 3 (ASCII "net3"). */
export const NETWORK_COMMITMENT_TAG = 0x6e657433n;
/**
 * Domain tag of the commitments of networks that are not chains (ASCII "ngr3"): their descriptor states each
 * layer's input tensors too. A chain keeps the "net3" form (and so its model id); no graph hashes like a chain.
 */
export const GRAPH_COMMITMENT_TAG = 0x6e677233n;

/**
 * What a model's inputs and outputs mean: shapes and fixed-point formats. It is the part of a model's identity a
 * verifier needs to read a receipt, so a receipt states it and the verifier recomputes the model commitment
 * from it — which binds the output scale and the input quantization to the proof with nothing but a vkey.
 */
export interface ModelIo {
  inputShape: readonly number[];
  /**
   * Inputs are integers in [lo, lo + 2^bits), read as xq / 2^fracBits, or input i as xq_i / 2^featureFracBits[i]
   * when the model has per-feature input scales.
   */
  input: { bits: number; fracBits: number; lo: bigint; featureFracBits?: readonly number[] };
  outputShape: readonly number[];
  /** Outputs are integers in [-2^(width-1), 2^(width-1)), read as q / 2^fracBits. */
  output: { width: number; fracBits: number };
  /**
   * `"argmax"`: the outputs are a softmax head's logits and the proof states their argmax too; `"sign"`: the output
   * is a sigmoid of one logit and the proof states [logit >= 0] too.
   */
  head: "none" | "argmax" | "sign";
}

/** The I/O format of a quantized network. */
export function modelIo(net: QuantizedNetwork): ModelIo {
  return {
    inputShape: net.inputShape,
    input: {
      bits: net.input.bits,
      fracBits: net.input.fracBits,
      lo: net.input.lo,
      ...(net.input.featureFracBits ? { featureFracBits: net.input.featureFracBits } : {}),
    },
    outputShape: net.outputShape,
    output: { width: net.outputWidth, fracBits: net.outputFracBits },
    head: net.head ? net.head.kind : "none",
  };
}

/**
 * The I/O descriptor as field elements: rank and dims of each shape, then each fixed-point format, then the head,
 * then (per-feature input scales only) one scale per input value — as many as the input shape holds.
 *
 * @throws VerinferError `INVALID_MODEL` for an input offset outside [-2^127, 2^127) (lo and lo + p would hash alike).
 */
export function ioDescriptor(io: ModelIo): bigint[] {
  if (!isCommittableOffset(io.input.lo)) {
    throw new VerinferError("INVALID_MODEL", "the input offset lo must lie in [-2^127, 2^127)");
  }
  const features = io.input.featureFracBits ?? [];
  return [
    BigInt(io.inputShape.length),
    ...io.inputShape.map(BigInt),
    BigInt(io.input.bits),
    toField(BigInt(io.input.fracBits)),
    toField(io.input.lo),
    BigInt(io.outputShape.length),
    ...io.outputShape.map(BigInt),
    BigInt(io.output.width),
    toField(BigInt(io.output.fracBits)),
    io.head === "argmax" ? 1n : io.head === "sign" ? 2n : 0n,
    ...features.map((f) => toField(BigInt(f))),
  ];
}

/** Codes of the layer kinds in the architecture descriptor (each module's `code`). */
export const LAYER_KIND_CODES: Record<QuantizedLayer["kind"], bigint> = Object.fromEntries(
  Object.values(LAYER_MODULES).map((m) => [m.kind, m.code]),
) as Record<QuantizedLayer["kind"], bigint>;

/**
 * The architecture descriptor: every number that fixes the integer semantics of the layers apart from weights
 * and biases — each layer's kind and shapes, kernel, strides, padding, pool size, activation, scales,
 * multipliers and range-check widths, and the softmax head — as field elements.
 */
export function architectureDescriptor(net: QuantizedNetwork): bigint[] {
  return descriptorOf(
    net,
    net.layers.map((l) => moduleOf(l).commitment(l)),
  );
}

/** The architecture descriptor from the layers' commitments (each layer's descriptor comes from its module). */
function descriptorOf(net: QuantizedNetwork, layers: readonly LayerCommitment[]): bigint[] {
  const d: bigint[] = [
    BigInt(net.inputSize),
    net.head ? (net.head.kind === "sign" ? 2n : 1n) : 0n,
    BigInt(net.head?.kind === "argmax" ? net.head.bits : 0),
    BigInt(net.layers.length),
  ];
  const graph = !isChain(net);
  for (const [i, l] of layers.entries()) {
    // A graph's wiring: per layer the number of tensors it reads, then their indices, before its descriptor.
    if (graph) {
      const from = layerInputTensors(net.layers[i] as QuantizedLayer, i);
      d.push(BigInt(from.length), ...from.map(BigInt));
    }
    // Kind code first, then a fixed number of fields.
    d.push(...l.descriptor);
  }
  return d;
}

/** A tag in the low 32 bits and the number of elements that follow it above: the first element of a chain. */
function header(tag: bigint, count: number): bigint {
  return tag + (BigInt(count) << 32n);
}

/**
 * Poseidon commitment to a network's layers: a header (tag and element count), the architecture descriptor,
 * then each layer's constants as its module states them (src/layers: a weighted layer's weights packed,
 * w + 2^(weightBits-1) in weightBits-wide slots row by row, then its biases; their counts follow from the descriptor). Unsalted: it is public, and stated in every receipt.
 *
 * @example
 * ```ts
 * const network = await networkCommitment(qnet);
 * ```
 */
export async function networkCommitment(net: QuantizedNetwork): Promise<bigint> {
  // Each layer's commitment computed once (its weights packed once), for its descriptor and its constants.
  const layers = net.layers.map((l) => moduleOf(l).commitment(l));
  const elements = descriptorOf(net, layers);
  // Every layer's constants, from its module: what a module computes with is what it commits to. Appended one by
  // one: a spread of a large layer's constants into push() would overflow the call stack.
  for (const l of layers) for (const c of l.constants) elements.push(c);
  const tag = isChain(net) ? NETWORK_COMMITMENT_TAG : GRAPH_COMMITMENT_TAG;
  return poseidonChain([header(tag, elements.length), ...elements]);
}

/** Parameters of {@link modelCommitmentOf}. */
export interface ModelCommitmentParts {
  io: ModelIo;
  /** {@link networkCommitment} of the layers. */
  network: bigint;
}

/**
 * The model commitment from its two parts, `PoseidonChain(header, ioDescriptor(io), network)`: what a verifier
 * recomputes from a receipt's stated shapes and scales and its `model.network`, and compares with the proof's
 * first public signal.
 *
 * @example
 * ```ts
 * const c = await modelCommitmentOf({ io: modelIo(qnet), network: await networkCommitment(qnet) });
 * ```
 */
export async function modelCommitmentOf(parts: ModelCommitmentParts): Promise<bigint> {
  const elements = [...ioDescriptor(parts.io), parts.network];
  const tag = parts.io.input.featureFracBits ? FEATURE_SCALES_COMMITMENT_TAG : MODEL_COMMITMENT_TAG;
  return poseidonChain([header(tag, elements.length), ...elements]);
}

/**
 * Poseidon commitment to a quantized model: its I/O format and its network commitment (see
 * {@link modelCommitmentOf}). Unsalted: a model commitment is public. The circuit emits it as a constant
 * public signal.
 *
 * @example
 * ```ts
 * const commitment = await modelCommitment(qnet); // bigint < p
 * ```
 */
export async function modelCommitment(net: QuantizedNetwork): Promise<bigint> {
  return modelCommitmentOf({ io: modelIo(net), network: await networkCommitment(net) });
}

/** The model id: the model commitment as 0x-prefixed 32-byte hex, so anyone can check it against the proof. */
export function modelIdFromCommitment(commitment: bigint): string {
  return `0x${commitment.toString(16).padStart(64, "0")}`;
}
