import * as snarkjs from "snarkjs";
import { VerinferError } from "../errors.js";
import { toField } from "../field.js";

/** Private inputs of a verinfer model circuit. */
export interface CircuitInputs {
  /** Quantized input values (signed). */
  input: readonly bigint[];
  inputSalt: bigint;
  outputSalt: bigint;
}

/** A Groth16 proof and public signals exactly as snarkjs writes `proof.json` and `public.json`. */
export interface Groth16ProofBundle {
  proof: snarkjs.Groth16Proof;
  publicSignals: string[];
}

/** The circuit's input object (field elements as decimal strings) for witness generation. */
export function circuitInputJson(inputs: CircuitInputs): Record<string, string | string[]> {
  return {
    in: inputs.input.map((v) => toField(v).toString()),
    inputSalt: inputs.inputSalt.toString(),
    outputSalt: inputs.outputSalt.toString(),
  };
}

/**
 * Computes the witness with the circuit's witness wasm.
 *
 * @returns the `.wtns` file bytes.
 * @throws VerinferError `PROVE_FAILED` when the witness does not satisfy the circuit (e.g. out-of-range input).
 */
export async function computeWitness(wasm: Uint8Array, inputs: CircuitInputs): Promise<Uint8Array> {
  const wtns = { type: "mem" } as { type: "mem"; data?: Uint8Array };
  try {
    await snarkjs.wtns.calculate(circuitInputJson(inputs), wasm, wtns);
  } catch (cause) {
    throw new VerinferError("PROVE_FAILED", "witness generation failed", {
      details: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
  if (!wtns.data) throw new VerinferError("PROVE_FAILED", "witness generation produced no witness");
  return wtns.data;
}

/**
 * Witness generation and Groth16 proving with snarkjs, entirely in memory.
 *
 * @example
 * ```ts
 * const { proof, publicSignals } = await proveGroth16({ wasm, zkey, inputs });
 * ```
 */
export async function proveGroth16(params: {
  wasm: Uint8Array;
  zkey: Uint8Array;
  inputs: CircuitInputs;
}): Promise<Groth16ProofBundle> {
  const wtns = await computeWitness(params.wasm, params.inputs);
  try {
    return await snarkjs.groth16.prove({ type: "mem", data: params.zkey }, { type: "mem", data: wtns });
  } catch (cause) {
    throw new VerinferError("PROVE_FAILED", "groth16 proving failed", {
      details: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
}
