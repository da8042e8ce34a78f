import { z } from "zod";
import { ACTIVATIONS, type Activation } from "./dense-network.js";

/** How one input scalar is represented: x ≈ xq / 2^fracBits with xq in [lo, hi] (hi = lo + 2^bits - 1). */
export interface InputQuantization {
  bits: number;
  fracBits: number;
  lo: bigint;
  hi: bigint;
}

/**
 * A dense layer in verinfer's integer semantics:
 * `acc_j = bias_j + Σ_i weights[j][i] · a_i`, `q_j = floor(acc_j / 2^shift)`, `y_j = relu ? max(q_j, 0) : q_j`,
 * with q_j proven to lie in [-2^(qBits_j - 1), 2^(qBits_j - 1)).
 */
export interface QuantizedLayer {
  name: string;
  nIn: number;
  nOut: number;
  activation: Activation;
  weightBits: number;
  /** weights ≈ wq / 2^weightFracBits */
  weightFracBits: number;
  /** Scale of this layer's input (the previous layer's outFracBits, or the input's). */
  inFracBits: number;
  /** Scale of this layer's output; shift = inFracBits + weightFracBits - outFracBits. */
  outFracBits: number;
  shift: number;
  /** Signed bit width each q_j is range-checked to, from worst-case interval analysis. */
  qBits: number[];
  /** Integer weights, indexed [out][in]. */
  weights: bigint[][];
  /** Integer biases at scale inFracBits + weightFracBits. */
  bias: bigint[];
}

/** A whole network in verinfer's exact integer semantics: what the circuit computes and the model commitment covers. */
export interface QuantizedNetwork {
  inputShape: number[];
  inputSize: number;
  input: InputQuantization;
  layers: QuantizedLayer[];
  /** Output packing width: the widest qBits of the last layer. */
  outputWidth: number;
}

const bigintString = z
  .string()
  .regex(/^-?\d+$/, "must be a decimal integer")
  .transform((s) => BigInt(s));
const int = z.number().int();

/** zod schema of a serialized {@link QuantizedNetwork} (bigints as decimal strings). */
export const QuantizedNetworkSchema = z.object({
  inputShape: z.array(int.positive()),
  inputSize: int.positive(),
  input: z.object({ bits: int.min(1).max(64), fracBits: int, lo: bigintString, hi: bigintString }),
  layers: z
    .array(
      z.object({
        name: z.string(),
        nIn: int.positive(),
        nOut: int.positive(),
        activation: z.enum(ACTIVATIONS),
        weightBits: int.min(2).max(32),
        weightFracBits: int,
        inFracBits: int,
        outFracBits: int,
        shift: int.min(0),
        qBits: z.array(int.min(2).max(250)),
        weights: z.array(z.array(bigintString)),
        bias: z.array(bigintString),
      }),
    )
    .min(1),
  outputWidth: int.min(2).max(250),
});

/** Serializes a {@link QuantizedNetwork} to JSON-safe data (bigints as decimal strings). */
export function quantizedNetworkToJson(net: QuantizedNetwork): unknown {
  return JSON.parse(JSON.stringify(net, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}

/** Parses the JSON form produced by {@link quantizedNetworkToJson}. */
export function quantizedNetworkFromJson(json: unknown): QuantizedNetwork {
  return QuantizedNetworkSchema.parse(json);
}
