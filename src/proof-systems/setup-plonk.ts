import * as snarkjs from "snarkjs";
import { type Runner, type SetupUniversalParams, type UniversalSetup, universalSetup } from "./universal-setup.js";

/**
 * PLONK setup (snarkjs `plonk setup`): the zkey follows from the r1cs and the ptau alone — deterministic, no
 * circuit-specific secret, so with a ceremony ptau no one beyond its contributors is trusted.
 *
 * @throws VerinferError `SETUP_REQUIRED` when the ptau is too small or unreadable.
 * @example
 * ```ts
 * const { zkey, vkey } = await setupPlonk({ r1cs, ptauFile });
 * ```
 */
export function setupPlonk(params: SetupUniversalParams): Promise<UniversalSetup> {
  return universalSetup("plonk", snarkjs.plonk.setup as Runner, params);
}
