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
})
  // The network commitment hashes sizes, then weights and biases flat, and not `input.hi`: these make its
  // parse unique and keep every field the integer reference reads determined by what is hashed.
  .superRefine((net, ctx) => {
    const issue = (message: string, path: (string | number)[]) => ctx.addIssue({ code: "custom", message, path });
    if (net.input.hi !== net.input.lo + (1n << BigInt(net.input.bits)) - 1n) {
      issue("input.hi must be lo + 2^bits - 1 (what the circuit's range check accepts)", ["input", "hi"]);
    }
    let nIn = net.inputSize;
    for (const [l, layer] of net.layers.entries()) {
      if (layer.nIn !== nIn) issue(`layer ${l} reads ${layer.nIn} values, its input has ${nIn}`, ["layers", l, "nIn"]);
      if (layer.qBits.length !== layer.nOut) issue(`layer ${l} needs ${layer.nOut} qBits`, ["layers", l, "qBits"]);
      if (layer.bias.length !== layer.nOut) issue(`layer ${l} needs ${layer.nOut} biases`, ["layers", l, "bias"]);
      if (layer.weights.length !== layer.nOut || layer.weights.some((row) => row.length !== layer.nIn)) {
        issue(`layer ${l} weights must be ${layer.nOut} rows of ${layer.nIn}`, ["layers", l, "weights"]);
      }
      nIn = layer.nOut;
    }
    const last = net.layers[net.layers.length - 1];
    if (last && net.outputWidth !== Math.max(...last.qBits)) {
      issue("outputWidth must be the widest qBits of the last layer", ["outputWidth"]);
    }
  });

/** Serializes a {@link QuantizedNetwork} to JSON-safe data (bigints as decimal strings). */
export function quantizedNetworkToJson(net: QuantizedNetwork): unknown {
  return JSON.parse(JSON.stringify(net, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}

/** Parses the JSON form produced by {@link quantizedNetworkToJson}. */
export function quantizedNetworkFromJson(json: unknown): QuantizedNetwork {
  return QuantizedNetworkSchema.parse(json);
}
