/**
 * The constraint count of a dense network's circuit, from its quantized form alone — what `circom --O2` leaves of
 * the gadgets in circuits/verinfer.circom: `inputBits` bits per input range check, `shift + qBits` bits per rescale
 * (+1 for a ReLU), and circomlib Poseidon (3 constraints per S-box: t S-boxes in each of 8 full rounds, one in each
 * partial round) for the two packed commitments. Linear constraints are folded away by --O2. The sweep prints it
 * beside the compiled count, to cover settings it does not compile; the compiled count is the measurement.
 */
import type { QuantizedNetwork } from "../src/models/quantized-network.js";

/** circomlib's partial rounds for t = 2 … 17. */
const PARTIAL_ROUNDS = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68];

function poseidon(nInputs: number): number {
  const t = nInputs + 1;
  return 3 * (8 * t + (PARTIAL_ROUNDS[t - 2] as number));
}

function poseidonChain(n: number): number {
  let cost = poseidon(Math.min(n, 16));
  for (let left = n - 16; left > 0; left -= 15) cost += poseidon(Math.min(left, 15) + 1);
  return cost;
}

function packedCommitment(n: number, width: number): number {
  return poseidonChain(Math.ceil(n / Math.floor(253 / width)) + 2);
}

/** Estimated constraints of a dense network (dense layers only: `nOut`, `shift`, `qBits`, `activation`). */
export function estimateDenseConstraints(network: QuantizedNetwork): number {
  let n = network.inputSize * network.input.bits + packedCommitment(network.inputSize, network.input.bits);
  for (const layer of network.layers as unknown as {
    shift: number;
    qBits: number[];
    activation: string;
  }[]) {
    for (const b of layer.qBits) n += layer.shift + b + (layer.activation === "relu" ? 1 : 0);
  }
  const last = network.layers[network.layers.length - 1] as unknown as { nOut: number };
  return n + packedCommitment(last.nOut, network.outputWidth);
}
