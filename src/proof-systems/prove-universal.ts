import type * as snarkjs from "snarkjs";
import { WitnessGenerator } from "../circuits/prove-groth16.js";
import { unrefIdleCurveWorkers } from "../circuits/unref-idle-curve-workers.js";
import { VerinferError } from "../errors.js";
import type { ProofSystemProof, ProofSystemProveParams } from "./proof-system-module.js";

/**
 * Witness generation and a PLONK or FFLONK proof with snarkjs, in memory (what `plonk.ts` and `fflonk.ts` prove
 * with; Groth16 proves with `proveGroth16`).
 *
 * @throws VerinferError `PROVE_FAILED` when the witness does not satisfy the circuit or the zkey is not of
 *   `protocol`.
 * @example
 * ```ts
 * const { proof, publicSignals } = await proveUniversal("plonk", snarkjs.plonk, { witness: wasm, zkey, inputs });
 * ```
 */
export async function proveUniversal(
  protocol: "plonk" | "fflonk",
  prover: Pick<typeof snarkjs.plonk, "prove">,
  params: ProofSystemProveParams,
): Promise<ProofSystemProof> {
  const generator =
    params.witness instanceof WitnessGenerator ? params.witness : await WitnessGenerator.create(params.witness);
  const wtns = await generator.compute(params.inputs);
  unrefIdleCurveWorkers();
  const options = params.singleThread ? { singleThread: true } : undefined;
  try {
    return await prover.prove({ type: "mem", data: params.zkey }, { type: "mem", data: wtns }, undefined, options);
  } catch (cause) {
    throw new VerinferError("PROVE_FAILED", `${protocol} proving failed`, {
      details: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
}
