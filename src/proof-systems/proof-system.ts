import { VerinferError } from "../errors.js";

/**
 * The proof systems verinfer sets up, proves and verifies with (all snarkjs, bn128):
 * - `groth16`: smallest proof and cheapest verification; a circuit-specific phase-2 setup whose contributors
 *   are trusted (one honest one suffices).
 * - `plonk`: universal setup — the zkey follows from the r1cs and the ptau alone, nobody else is trusted; every
 *   linear combination becomes addition gates, so circuits grow.
 * - `fflonk`: universal setup like PLONK, cheaper on-chain verification, a much larger ptau (about 2^3 × the
 *   domain) and a slower setup.
 */
export const PROOF_SYSTEMS = ["groth16", "plonk", "fflonk"] as const;

/** One of {@link PROOF_SYSTEMS}. */
export type ProofSystem = (typeof PROOF_SYSTEMS)[number];

/** Whether `value` names one of {@link PROOF_SYSTEMS} (the one membership test of a name read from outside). */
export function isProofSystem(value: unknown): value is ProofSystem {
  return typeof value === "string" && (PROOF_SYSTEMS as readonly string[]).includes(value);
}

/**
 * Validates a proof-system option.
 *
 * @throws VerinferError `INVALID_OPTIONS` for anything but one of {@link PROOF_SYSTEMS}.
 * @example
 * ```ts
 * const system = parseProofSystem(options.proofSystem ?? "groth16");
 * ```
 */
export function parseProofSystem(value: unknown): ProofSystem {
  if (isProofSystem(value)) return value;
  throw new VerinferError("INVALID_OPTIONS", `proofSystem must be one of ${PROOF_SYSTEMS.join(", ")}`, {
    meta: { proofSystem: value },
  });
}
