import type { QuantizedNetwork } from "../models/quantized-network.js";
import { commitValues } from "./commitments.js";

/**
 * The input commitment exactly as the circuit's `RangeCheckedCommitment` computes it: the network's input format
 * (length, bits, lo) and a salt. A data node's commitment to the same integers under the same format is equal.
 */
export function commitInput(net: QuantizedNetwork, xq: readonly bigint[], salt: bigint): Promise<bigint> {
  return commitValues({ values: xq, lo: net.input.lo, width: net.input.bits, salt });
}

/** The output commitment exactly as the circuit's `PackedCommitment` computes it (offset -2^(outputWidth-1)). */
export function commitOutput(net: QuantizedNetwork, output: readonly bigint[], salt: bigint): Promise<bigint> {
  return commitValues({ values: output, lo: -(1n << BigInt(net.outputWidth - 1)), width: net.outputWidth, salt });
}
