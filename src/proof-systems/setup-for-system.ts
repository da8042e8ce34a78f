import type { OnProgress } from "../util/progress.js";
import type { ProofSystem } from "./proof-system.js";
import type { ProofSystemSetup } from "./proof-system-module.js";
import { proofSystemModule } from "./systems.js";

/** Parameters of {@link setupForSystem}. */
export interface SetupForSystemParams {
  system: ProofSystem;
  r1cs: Uint8Array;
  /** A prepared ptau of at least `requiredPtauPowerFor(system, …)`. */
  ptauFile: string;
  onProgress?: OnProgress;
}

/** A setup of any proof system (Groth16: the phase-2 contribution made; PLONK/FFLONK: none, and their gates). */
export type SystemSetup = Omit<ProofSystemSetup, "devPtau">;

/**
 * The setup of `system` for an r1cs from a ptau: Groth16 (`zkey new` + one phase-2 contribution of fresh
 * randomness), or the universal PLONK / FFLONK setup from the ptau alone.
 *
 * @throws VerinferError `SETUP_REQUIRED` when the ptau is too small or unreadable; `UNSUPPORTED_MODE` for an
 *   unknown system.
 * @example
 * ```ts
 * const { zkey, vkey, contributions } = await setupForSystem({ system: "plonk", r1cs, ptauFile });
 * ```
 */
export async function setupForSystem(params: SetupForSystemParams): Promise<SystemSetup> {
  const { system, ...rest } = params;
  const { devPtau: _none, ...setup } = await proofSystemModule(system).setup(rest);
  return setup;
}
