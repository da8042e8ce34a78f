import * as snarkjs from "snarkjs";
import { type CircuitInputs, proveGroth16, WitnessGenerator } from "../circuits/prove-groth16.js";
import { unrefIdleCurveWorkers } from "../circuits/unref-idle-curve-workers.js";
import { VerinferError } from "../errors.js";
import type { ProofSystem } from "./proof-system.js";

/** A proof of any {@link ProofSystem}, in snarkjs's own JSON shapes (`proof.json`, `public.json`). */
export interface SnarkProofBundle {
  system: ProofSystem;
  proof: snarkjs.Groth16Proof | snarkjs.UniversalProof;
  publicSignals: string[];
}

/** Parameters of {@link proveCircuit}. */
export interface ProveCircuitParams {
  /** The zkey's proof system (a package's `manifest.proofSystem`). */
  system: ProofSystem;
  witness: WitnessGenerator | Uint8Array;
  zkey: Uint8Array;
  inputs: CircuitInputs;
  /** Prove on this thread only, without snarkjs's thread pool (what a pool worker wants: one core each). */
  singleThread?: boolean;
}

/**
 * Witness generation and proving with snarkjs in the zkey's proof system (Groth16, PLONK or FFLONK), in memory.
 *
 * @throws VerinferError `PROVE_FAILED` when the witness does not satisfy the circuit or the zkey is not of
 *   `system`.
 * @example
 * ```ts
 * const { proof, publicSignals } = await proveCircuit({ system: "plonk", witness: wasm, zkey, inputs });
 * ```
 */
export async function proveCircuit(params: ProveCircuitParams): Promise<SnarkProofBundle> {
  const { system } = params;
  if (system === "groth16") {
    const bundle = await proveGroth16(params);
    return { system, ...bundle };
  }
  const generator =
    params.witness instanceof WitnessGenerator ? params.witness : await WitnessGenerator.create(params.witness);
  const wtns = await generator.compute(params.inputs);
  unrefIdleCurveWorkers();
  const options = params.singleThread ? { singleThread: true } : undefined;
  try {
    const prover = system === "plonk" ? snarkjs.plonk : snarkjs.fflonk;
    const { proof, publicSignals } = await prover.prove(
      { type: "mem", data: params.zkey },
      { type: "mem", data: wtns },
      undefined,
      options,
    );
    return { system, proof, publicSignals };
  } catch (cause) {
    throw new VerinferError("PROVE_FAILED", `${system} proving failed`, {
      details: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
}
