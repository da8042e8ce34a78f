import * as snarkjs from "snarkjs";
import { VerinferError } from "../errors.js";
import { exportVerificationKey } from "./export-verification-key.js";
import { plonkGateCount } from "./plonk-gates.js";
import { plonkCalldata } from "./proof-calldata.js";
import type { CircuitSize, ProofSystemModule } from "./proof-system-module.js";
import { proveUniversal } from "./prove-universal.js";
import { QUIET_LOGGER } from "./quiet-logger.js";
import { setupPlonk } from "./setup-plonk.js";
import { setupFromPtau } from "./universal-setup.js";
import { PlonkVkeySchema, plonkVerifierSource } from "./universal-verifier-source.js";

const bits = (n: number) => Math.max(1, n).toString(2).length;

/** The gates of a PLONK-family circuit size, which must have been counted. */
export function gatesOf(size: CircuitSize, system: string): number {
  if (size.gates === undefined) throw new VerinferError("INVALID_INPUT", `a ${system} circuit size states its gates`);
  return size.gates;
}

/**
 * PLONK: universal setup — the zkey follows from the r1cs and the ptau alone, nobody else is trusted; every
 * linear combination becomes addition gates, so circuits grow. A domain of `2^c ≥ gates` (c ≥ 3), and the ptau's
 * power at least c.
 */
export const plonk: ProofSystemModule = {
  name: "plonk",
  hasPhase2: false,
  provesWithR1cs: false,
  verifierContract: "PlonkVerifier",
  vkeySchema: PlonkVkeySchema,
  circuitSize: plonkGateCount,
  requiredPtauPower: (size) => Math.max(3, bits(gatesOf(size, "plonk") - 1)),
  setup: (params) => setupFromPtau(params, plonk, setupPlonk),
  prove: (params) => proveUniversal("plonk", snarkjs.plonk, params),
  verify: (params) =>
    snarkjs.plonk.verify(params.vkey as never, [...params.publicSignals], params.proof as never, QUIET_LOGGER),
  exportVerificationKey: (zkey) => exportVerificationKey(zkey, "plonk"),
  solidityVerifier: plonkVerifierSource,
  registryCall: (proof) => {
    if (proof.system !== "plonk") {
      throw new VerinferError("MALFORMED_RECEIPT", `a ${proof.system} proof is not a plonk proof`);
    }
    const { proof: words, publicSignals } = plonkCalldata(proof);
    return { method: "submitUniversalProof", args: [words, publicSignals] };
  },
};
