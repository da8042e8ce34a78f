import type { OnProgress } from "../progress.js";
import type { ZkeyContribution } from "../setup/verify-zkey.js";
import type { ProofSystem } from "./proof-system.js";
import { setupFflonk } from "./setup-fflonk.js";
import { setupGroth16 } from "./setup-groth16.js";
import { setupPlonk } from "./setup-plonk.js";

/** Parameters of {@link setupForSystem}. */
export interface SetupForSystemParams {
  system: ProofSystem;
  r1cs: Uint8Array;
  /** A prepared ptau of at least `requiredPtauPowerFor(system, …)`. */
  ptauFile: string;
  onProgress?: OnProgress;
}

/** A setup of any proof system. */
export interface SystemSetup {
  zkey: Uint8Array;
  /** Verification key in snarkjs's JSON shape. */
  vkey: Record<string, unknown>;
  /** Groth16: the phase-2 contribution made; PLONK/FFLONK: none (nothing circuit-specific is secret). */
  contributions: ZkeyContribution[];
  /** PLONK/FFLONK: the gates snarkjs made of the r1cs. */
  gates?: number;
}

/**
 * The setup of `system` for an r1cs: Groth16 (`zkey new` + one phase-2 contribution of fresh randomness), or the
 * universal PLONK / FFLONK setup from the ptau alone.
 *
 * @throws VerinferError `SETUP_REQUIRED` when the ptau is too small or unreadable.
 * @example
 * ```ts
 * const { zkey, vkey, contributions } = await setupForSystem({ system: "plonk", r1cs, ptauFile });
 * ```
 */
export async function setupForSystem(params: SetupForSystemParams): Promise<SystemSetup> {
  const { system, ...rest } = params;
  if (system === "groth16") return setupGroth16(rest);
  const setup = system === "plonk" ? await setupPlonk(rest) : await setupFflonk(rest);
  return {
    zkey: setup.zkey,
    vkey: setup.vkey,
    contributions: [],
    ...(setup.gates !== undefined ? { gates: setup.gates } : {}),
  };
}
