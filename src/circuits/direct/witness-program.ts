import { z } from "zod";
import { modelCommitment, modelIdFromCommitment } from "../../attest/model-commitment.js";
import { VerinferError } from "../../errors.js";
import {
  type QuantizedNetwork,
  quantizedNetworkFromJson,
  quantizedNetworkToJson,
} from "../../models/quantized-network.js";
import { DECIMAL_STRING } from "../../util/field.js";
import { parseStrictJson } from "../../util/parse-strict-json.js";
import type { CircuitInputs } from "../prove-groth16.js";
import { buildModelCircuit, checkNetworkSize } from "./build-model-circuit.js";
import { writeWtns } from "./write-wtns.js";

/** Format tag of a direct-backend witness program. */
export const DIRECT_WITNESS_FORMAT = "verinfer/direct-witness@1";

/**
 * Largest witness program read (256 MiB): far above any network the backend's size limits let through in practice,
 * and under V8's largest string, so a hostile program is refused before it is decoded.
 */
export const MAX_WITNESS_PROGRAM_BYTES = 256 * 1024 * 1024;

/** zod schema of a direct-backend witness program. */
export const DirectWitnessProgramSchema = z
  .object({
    format: z.literal(DIRECT_WITNESS_FORMAT),
    modelCommitment: z.string().regex(DECIMAL_STRING),
    network: z.unknown(),
  })
  .strict();

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
 * @throws VerinferError `ARTIFACT_CORRUPT` when the program is over {@link MAX_WITNESS_PROGRAM_BYTES}, is not strict
 *   JSON (`parseStrictJson`: a key twice is refused), does not parse, or declares a network over the backend's size
 *   limits (`checkNetworkSize`).
 */
export function directWitness(bytes: Uint8Array): (inputs: CircuitInputs) => Uint8Array {
  return witnessFunction(readWitnessProgram(bytes));
}

/**
 * {@link directWitness} for the package of model `modelId`: the program's network must be the one that id commits
 * to (its model commitment recomputed from the network) and the program's stated commitment that same one. A
 * package's program is hash-checked against its manifest, but the manifest's id is recomputed from the package's
 * network, not from the program: a program of another network would otherwise be run under this model's name.
 *
 * @throws VerinferError `ARTIFACT_CORRUPT` as {@link directWitness}, or when the program is another model's.
 */
export async function directWitnessOfModel(
  bytes: Uint8Array,
  modelId: string,
): Promise<(inputs: CircuitInputs) => Uint8Array> {
  const program = readWitnessProgram(bytes);
  const recomputed = await modelCommitment(program.network);
  if (recomputed !== program.modelCommitment || modelIdFromCommitment(recomputed) !== modelId) {
    throw new VerinferError("ARTIFACT_CORRUPT", `the witness program is not the one of model ${modelId}`, {
      details: `its network commits to ${modelIdFromCommitment(recomputed)}, and it states ${modelIdFromCommitment(program.modelCommitment)}`,
    });
  }
  return witnessFunction(program);
}

interface WitnessProgram {
  network: QuantizedNetwork;
  modelCommitment: bigint;
}

function readWitnessProgram(bytes: Uint8Array): WitnessProgram {
  if (bytes.byteLength > MAX_WITNESS_PROGRAM_BYTES) {
    throw new VerinferError("ARTIFACT_CORRUPT", "the witness program is too large", {
      details: `${bytes.byteLength} bytes; at most ${MAX_WITNESS_PROGRAM_BYTES}`,
    });
  }
  try {
    const program = DirectWitnessProgramSchema.parse(
      parseStrictJson(new TextDecoder("utf-8", { fatal: true }).decode(bytes)),
    );
    const network = quantizedNetworkFromJson(program.network);
    checkNetworkSize(network);
    return { network, modelCommitment: BigInt(program.modelCommitment) };
  } catch (cause) {
    throw new VerinferError("ARTIFACT_CORRUPT", "the witness program does not parse", {
      details: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
}

function witnessFunction({ network, modelCommitment }: WitnessProgram): (inputs: CircuitInputs) => Uint8Array {
  // The network is this closure's own, so it is checked once (on the first witness, after that witness's input
  // length is: see buildModelCircuit), not on every proof.
  let checked = false;
  return (inputs) => {
    const cs = buildModelCircuit({ network, modelCommitment, inputs, track: false, checked });
    checked = true;
    return writeWtns(cs.witness());
  };
}
