import { VerinferError } from "../../errors.js";
import type { Bounds } from "../../layers/layer-module.js";
import { moduleOf } from "../../layers/registry.js";
import { rescaleUnit } from "../../layers/rescale.js";
import { walkNetwork } from "../../models/network-graph.js";
import {
  type QuantizedNetwork,
  QuantizedNetworkSchema,
  quantizedNetworkToJson,
} from "../../models/quantized-network.js";
import type { CircuitInputs } from "../prove-groth16.js";
import { packedCommitmentConstraints, packedCommitmentGadget } from "./commitment-gadgets.js";
import { ConstraintSystem, type Lc } from "./constraint-system.js";
import { argmaxGadget, rangeBits, rescaleGadgetWithSign } from "./gadgets.js";

/** Largest magnitude any value of a circuit may reach: far below p/2 (p > 2^253), so nothing wraps the field. */
export const FIELD_SAFE_BOUND = 1n << 251n;

/**
 * Most values one layer of a circuit may hold, and most constraints a circuit may have (2^28: the largest
 * powers-of-tau snarkjs proves with). Checked from the declared shapes before anything is allocated, so a network
 * read from an untrusted package cannot make the backend allocate or compute in proportion to sizes it merely states.
 */
export const MAX_LAYER_VALUES = 1 << 24;
export const MAX_CIRCUIT_CONSTRAINTS = 2 ** 28;

/**
 * Checks a network's declared sizes against {@link MAX_LAYER_VALUES} and {@link MAX_CIRCUIT_CONSTRAINTS} from its
 * shapes alone (no allocation proportional to them).
 *
 * @throws VerinferError `INVALID_MODEL` naming the layer and the size.
 */
export function checkNetworkSize(net: QuantizedNetwork): void {
  if (!(net.inputSize <= MAX_LAYER_VALUES)) {
    throw new VerinferError("INVALID_MODEL", `the network declares ${net.inputSize} inputs`, {
      details: `at most ${MAX_LAYER_VALUES} values per layer`,
    });
  }
  for (const [l, layer] of net.layers.entries()) {
    const m = moduleOf(layer);
    const size = Math.max(m.inputSize(layer), m.outputSize(layer));
    if (!(size <= MAX_LAYER_VALUES)) {
      throw new VerinferError("INVALID_MODEL", `layer ${l} ("${layer.name}") declares ${size} values`, {
        details: `at most ${MAX_LAYER_VALUES} values per layer`,
      });
    }
  }
  const constraints = estimateConstraints(net);
  if (!(constraints <= MAX_CIRCUIT_CONSTRAINTS)) {
    throw new VerinferError("INVALID_MODEL", `the network's circuit would have ${constraints} constraints`, {
      details: `at most 2^28 (the largest powers of tau)`,
    });
  }
}

/** Parameters of {@link buildModelCircuit}. */
export interface BuildModelCircuitParams {
  network: QuantizedNetwork;
  /** The model commitment, a constant public signal. */
  modelCommitment: bigint;
  /** Private inputs; without them an honest placeholder (every input at `lo`, zero salts) is used. */
  inputs?: CircuitInputs;
  /** Record the constraints (to write the .r1cs); without it only the witness is computed. */
  track: boolean;
  /**
   * The network already passed {@link checkNetworkForCircuit} and cannot have changed since (a witness program's
   * own network, checked on its first witness): skips the schema re-parse and the interval analysis.
   */
  checked?: boolean;
}

/** Number of public signals of a network's circuit: model, input and output commitments, outputs, [class]. */
export function publicSignalCount(net: QuantizedNetwork): number {
  return 3 + outputCount(net) + (net.head ? 1 : 0);
}

function outputCount(net: QuantizedNetwork): number {
  const last = net.layers[net.layers.length - 1];
  return last ? moduleOf(last).outputSize(last) : 0;
}

/**
 * Checks what the backend relies on before anything is built: the network is well formed (the schema's shape
 * rules), and no value any gadget meets can reach 2^251 in magnitude over inputs in their range — the interval
 * analysis of every module — so that each identity the circuit proves modulo p holds over the integers.
 *
 * @throws VerinferError `INVALID_MODEL` for inconsistent shapes or sizes, `QUANTIZATION_OVERFLOW` when bounds
 *   overflow the field.
 */
export function checkNetworkForCircuit(net: QuantizedNetwork): void {
  const parsed = QuantizedNetworkSchema.safeParse(quantizedNetworkToJson(net));
  if (!parsed.success) {
    throw new VerinferError("INVALID_MODEL", "the quantized network is not consistent", {
      details: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    });
  }
  const input: Bounds = {
    lo: Array.from({ length: net.inputSize }, () => net.input.lo),
    hi: Array.from({ length: net.inputSize }, () => net.input.hi),
  };
  // The interval analysis follows the graph: a layer's input bounds are those of the tensors it reads, joined.
  walkNetwork<Bounds>(
    net,
    input,
    (parts) => ({ lo: parts.flatMap((b) => b.lo), hi: parts.flatMap((b) => b.hi) }),
    (layer, bounds, l) => {
      const out = moduleOf(layer).bounds(layer, bounds);
      for (const v of [out.peak, ...out.lo, ...out.hi]) {
        if (v >= FIELD_SAFE_BOUND || v <= -FIELD_SAFE_BOUND) {
          throw new VerinferError("QUANTIZATION_OVERFLOW", `layer ${l} ("${layer.name}") can overflow the field`, {
            details: `a value of magnitude up to 2^${v.toString(2).length} is possible; the circuit needs < 2^251`,
          });
        }
      }
      return { lo: out.lo, hi: out.hi };
    },
  );
}

/** The exact number of constraints {@link buildModelCircuit} emits for a network. */
export function estimateConstraints(net: QuantizedNetwork): number {
  const nOut = outputCount(net);
  // Every public signal takes the place of a wire of the value it states (free), but the constant model commitment
  // and the constant class of a one-output head, which cost one constraint each.
  let n = 1 + (net.head?.kind === "argmax" && nOut === 1 ? 1 : 0);
  n += net.inputSize * net.input.bits + packedCommitmentConstraints(net.inputSize, net.input.bits);
  for (const layer of net.layers) n += moduleOf(layer).estimate(layer);
  n += packedCommitmentConstraints(nOut, net.outputWidth);
  // The first step's index product is with the constant 0: folded.
  if (net.head?.kind === "argmax" && nOut > 1) n += (nOut - 1) * (net.head.bits + 2) - 1;
  return n;
}

/**
 * Builds a quantized network's circuit as a constraint system with its witness, directly (no circom): public
 * signals in the order of the circom circuits (model commitment, input commitment, output commitment, the
 * quantized outputs, then with a softmax head the proven class); private inputs the input values offset by
 * `input.lo` (so they are small non-negative wires) and the two salts. Each input is range-checked to
 * [0, 2^bits), which makes the input packing binding; the outputs are range-proven by the rescale (or max
 * pooling of rescaled values) that made them, which makes the output packing binding.
 *
 * @throws VerinferError `INVALID_MODEL` / `QUANTIZATION_OVERFLOW` (see {@link checkNetworkForCircuit}),
 *   `INVALID_INPUT` for inputs of the wrong length or outside [lo, hi].
 * @example
 * ```ts
 * const cs = buildModelCircuit({ network: qnet, modelCommitment: await modelCommitment(qnet), track: true });
 * const r1cs = writeR1cs(cs);
 * ```
 */
export function buildModelCircuit(params: BuildModelCircuitParams): ConstraintSystem {
  const { network: net, track } = params;
  // The given input's length first: the work a witness costs is chosen by the input a prover was given, never by
  // sizes a network merely states.
  if (params.inputs && params.inputs.input.length !== net.inputSize) {
    throw new VerinferError(
      "INVALID_INPUT",
      `expected ${net.inputSize} quantized values, got ${params.inputs.input.length}`,
    );
  }
  if (!params.checked) {
    checkNetworkSize(net);
    checkNetworkForCircuit(net);
  }
  const inputs = params.inputs ?? {
    input: Array.from({ length: net.inputSize }, () => net.input.lo),
    inputSalt: 0n,
    outputSalt: 0n,
  };
  for (const [i, v] of inputs.input.entries()) {
    if (v < net.input.lo || v > net.input.hi) {
      throw new VerinferError("INVALID_INPUT", `quantized input ${v} at index ${i} is outside its range`);
    }
  }
  const nOut = outputCount(net);
  const cs = new ConstraintSystem({ track, nPublic: publicSignalCount(net) });
  const shifted = cs.privateInputs(inputs.input.map((v) => v - net.input.lo));
  const [inputSalt, outputSalt] = cs.privateInputs([inputs.inputSalt, inputs.outputSalt]) as [Lc, Lc];

  cs.setPublic(0, cs.constant(params.modelCommitment));
  for (const v of shifted) rangeBits(cs, v, net.input.bits, "input");
  cs.setPublic(
    1,
    packedCommitmentGadget(cs, { values: shifted, width: net.input.bits, lo: net.input.lo, salt: inputSalt }),
  );

  // A sign head reads the proven sign of the last rescale's one logit (its class), free.
  let logitSign: Lc | undefined;
  const last = net.layers.length - 1;
  const a = walkNetwork<Lc[]>(
    net,
    shifted.map((v) => cs.affine(v, 1n, net.input.lo)),
    (parts) => parts.flat(),
    (layer, input, l) => {
      if (net.head?.kind === "sign" && l === last && layer.kind === "rescale" && layer.size === 1) {
        const r = rescaleGadgetWithSign(cs, input[0] as Lc, rescaleUnit(layer, 0));
        logitSign = r.sign;
        return [r.out];
      }
      return moduleOf(layer).emit(cs, layer, input);
    },
  );

  const out = a.map((v, j) => cs.setPublic(3 + j, v));
  const half = 1n << BigInt(net.outputWidth - 1);
  cs.setPublic(
    2,
    packedCommitmentGadget(cs, {
      values: out.map((v) => cs.affine(v, 1n, half)),
      width: net.outputWidth,
      lo: -half,
      salt: outputSalt,
    }),
  );
  if (net.head?.kind === "sign") {
    if (!logitSign) throw new VerinferError("INTERNAL", "a sign head whose last layer is not a one-unit rescale");
    cs.setPublic(3 + nOut, logitSign);
  } else if (net.head) {
    cs.setPublic(3 + nOut, nOut > 1 ? argmaxGadget(cs, out, net.head.bits) : cs.constant(0n));
  }
  return cs;
}
