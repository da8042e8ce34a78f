import { z } from "zod";
import { VerinferError } from "../../errors.js";
import {
  type QuantizedNetwork,
  QuantizedNetworkSchema,
  quantizedNetworkToJson,
} from "../../models/quantized-network.js";
import type { CircuitInputs } from "../prove-groth16.js";
import { buildModelCircuit, checkNetworkSize } from "./build-model-circuit.js";
import { writeWtns } from "./write-wtns.js";

/** Format tag of a direct-backend witness program. */
export const DIRECT_WITNESS_FORMAT = "verinfer/direct-witness@1";

/** zod schema of a direct-backend witness program. */
export const DirectWitnessProgramSchema = z.object({
  format: z.literal(DIRECT_WITNESS_FORMAT),
  modelCommitment: z.string().regex(/^\d{1,80}$/),
  network: z.unknown(),
});

/**
 * The witness program of a circuit written by the direct backend — what a circom wasm is to a circom circuit: the
 * quantized network and the model commitment, from which {@link directWitness} computes the witness by the same
 * walk that wrote the R1CS. A package stores it where a circom package stores its wasm (`artifacts.wasm`).
 *
 * @example
 * ```ts
 * const program = writeWitnessProgram({ network: qnet, modelCommitment: c });
 * ```
 */
export function writeWitnessProgram(params: { network: QuantizedNetwork; modelCommitment: bigint }): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      format: DIRECT_WITNESS_FORMAT,
      modelCommitment: params.modelCommitment.toString(),
      network: quantizedNetworkToJson(params.network),
    }),
  );
}

/** Whether some witness-program bytes are a direct-backend program (else a circom wasm). */
export function isDirectWitnessProgram(bytes: Uint8Array): boolean {
  return bytes[0] === 0x7b; // "{": a wasm module starts with "\0asm"
}

/**
 * Reads a direct-backend witness program and returns its witness function (inputs → `.wtns` bytes).
 *
 * @throws VerinferError `ARTIFACT_CORRUPT` when the program does not parse or declares a network over the backend's
 *   size limits (`checkNetworkSize`).
 */
export function directWitness(bytes: Uint8Array): (inputs: CircuitInputs) => Uint8Array {
  let network: QuantizedNetwork;
  let modelCommitment: bigint;
  try {
    const program = DirectWitnessProgramSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
    network = QuantizedNetworkSchema.parse(program.network) as QuantizedNetwork;
    modelCommitment = BigInt(program.modelCommitment);
    checkNetworkSize(network);
  } catch (cause) {
    throw new VerinferError("ARTIFACT_CORRUPT", "the witness program does not parse", {
      details: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
  return (inputs) => writeWtns(buildModelCircuit({ network, modelCommitment, inputs, track: false }).witness());
}
