import { VerinferError } from "../errors.js";
import { fflonk } from "./fflonk.js";
import { groth16 } from "./groth16.js";
import { plonk } from "./plonk.js";
import { isProofSystem, PROOF_SYSTEMS, type ProofSystem } from "./proof-system.js";
import type { CircuitSize, ProofSystemModule } from "./proof-system-module.js";

/**
 * Every proof system verinfer sets up, proves and verifies with, by name. A new system is one module file and one
 * entry here; being a `Record` over {@link PROOF_SYSTEMS}, the compiler refuses the table until the entry exists,
 * and the module type lists what it must provide.
 */
export const PROOF_SYSTEM_MODULES: Readonly<Record<ProofSystem, ProofSystemModule>> = Object.freeze({
  groth16,
  plonk,
  fflonk,
});

/**
 * The module of a proof system, looked up by name: the one place a name becomes behaviour.
 *
 * @throws VerinferError `UNSUPPORTED_MODE` for a name that is not one of {@link PROOF_SYSTEMS} (never a default).
 * @example
 * ```ts
 * const { zkey, vkey } = await proofSystemModule(pkg.manifest.proofSystem).setup({ r1cs, ptauFile });
 * ```
 */
export function proofSystemModule(system: unknown): ProofSystemModule {
  if (isProofSystem(system)) return PROOF_SYSTEM_MODULES[system];
  throw new VerinferError("UNSUPPORTED_MODE", `unknown proof system ${JSON.stringify(system) ?? String(system)}`, {
    details: `verinfer knows ${PROOF_SYSTEMS.join(", ")}`,
  });
}

/**
 * Whether a setup of this system has circuit-specific (phase-2) contributors that must be trusted.
 *
 * @example
 * ```ts
 * if (!hasPhase2(manifest.proofSystem)) console.log("the zkey follows from the r1cs and the ptau");
 * ```
 */
export function hasPhase2(system: ProofSystem): boolean {
  return proofSystemModule(system).hasPhase2;
}

/**
 * The smallest ptau power a setup of `system` accepts for a circuit (snarkjs's own size checks; see each
 * system's module for its rule).
 *
 * @throws VerinferError `INVALID_INPUT` for a PLONK-family system and a size without gates.
 * @example
 * ```ts
 * const power = requiredPtauPowerFor("plonk", plonkGateCount(r1cs));
 * ```
 */
export function requiredPtauPowerFor(
  system: ProofSystem,
  size: CircuitSize | (Omit<CircuitSize, "gates"> & { gates?: number }),
): number {
  return proofSystemModule(system).requiredPtauPower({ ...size, gates: size.gates });
}
