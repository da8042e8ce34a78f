import { toField } from "../field.js";
import type { QuantizedNetwork } from "../models/quantized-network.js";
import { packValues } from "./commitments.js";
import { poseidonChain } from "./poseidon.js";

/** Version tag of the architecture descriptor; bump when the integer semantics change. */
export const MODEL_COMMITMENT_VERSION = 1n;

/**
 * The architecture descriptor: every number that fixes the integer semantics apart from weights and biases
 * (sizes, activations, scales, range-check widths), as field elements.
 */
export function architectureDescriptor(net: QuantizedNetwork): bigint[] {
  const d: bigint[] = [
    MODEL_COMMITMENT_VERSION,
    BigInt(net.inputSize),
    BigInt(net.input.bits),
    toField(BigInt(net.input.fracBits)),
    toField(net.input.lo),
    BigInt(net.layers.length),
    BigInt(net.outputWidth),
  ];
  for (const l of net.layers) {
    d.push(
      BigInt(l.nIn),
      BigInt(l.nOut),
      l.activation === "relu" ? 1n : 0n,
      BigInt(l.weightBits),
      toField(BigInt(l.weightFracBits)),
      toField(BigInt(l.inFracBits)),
      toField(BigInt(l.outFracBits)),
      BigInt(l.shift),
      ...l.qBits.map(BigInt),
    );
  }
  return d;
}

/**
 * Poseidon commitment to a quantized model: the descriptor, then each layer's weights packed
 * (w + 2^(weightBits-1) in weightBits-wide slots, row by row) and its biases as field elements.
 * Unsalted: a model commitment is public. The circuit emits it as a constant public signal.
 *
 * @example
 * ```ts
 * const commitment = await modelCommitment(qnet); // bigint < p
 * ```
 */
export async function modelCommitment(net: QuantizedNetwork): Promise<bigint> {
  const elements = architectureDescriptor(net);
  for (const l of net.layers) {
    const offset = 1n << BigInt(l.weightBits - 1);
    elements.push(
      ...packValues(
        l.weights.flat().map((w) => w + offset),
        l.weightBits,
      ),
    );
    elements.push(...l.bias.map(toField));
  }
  return poseidonChain(elements);
}

/** The model id: the model commitment as 0x-prefixed 32-byte hex, so anyone can check it against the proof. */
export function modelIdFromCommitment(commitment: bigint): string {
  return `0x${commitment.toString(16).padStart(64, "0")}`;
}
