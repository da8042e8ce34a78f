import * as snarkjs from "snarkjs";
import { type Runner, type SetupUniversalParams, type UniversalSetup, universalSetup } from "./universal-setup.js";

/**
 * FFLONK setup (snarkjs `fflonk setup`): like {@link setupPlonk} universal and deterministic; needs a ptau about
 * 2^3 times the circuit's domain and computes commitments to the preprocessed polynomials, so it is slower.
 *
 * @throws VerinferError `SETUP_REQUIRED` when the ptau is too small or unreadable.
 * @example
 * ```ts
 * const { zkey, vkey } = await setupFflonk({ r1cs, ptauFile });
 * ```
 */
export function setupFflonk(params: SetupUniversalParams): Promise<UniversalSetup> {
  return universalSetup("fflonk", snarkjs.fflonk.setup as Runner, params);
}
