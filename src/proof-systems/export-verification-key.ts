import * as snarkjs from "snarkjs";
import { unrefIdleCurveWorkers } from "../circuits/unref-idle-curve-workers.js";
import { VerinferError } from "../errors.js";
import type { ProofSystem } from "./proof-system.js";

/**
 * The verification key a zkey holds (snarkjs `zkey export verificationkey`), which must be of `system`.
 *
 * @throws VerinferError `ARTIFACT_CORRUPT` when the zkey is of another system (or not a zkey).
 * @example
 * ```ts
 * const vkey = await exportVerificationKey(zkey, "plonk");
 * ```
 */
export async function exportVerificationKey(zkey: Uint8Array, system: ProofSystem): Promise<Record<string, unknown>> {
  unrefIdleCurveWorkers();
  let vkey: Record<string, unknown>;
  try {
    vkey = await snarkjs.zKey.exportVerificationKey({ type: "mem", data: zkey });
  } catch (cause) {
    throw new VerinferError("ARTIFACT_CORRUPT", "the zkey holds no readable verification key", {
      details: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
  if (vkey.protocol !== system) {
    throw new VerinferError("ARTIFACT_CORRUPT", `the zkey is ${String(vkey.protocol)}, not ${system}`);
  }
  return vkey;
}
