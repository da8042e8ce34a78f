import * as snarkjs from "snarkjs";
import { VerinferError } from "../errors.js";
import { exportVerificationKey } from "./export-verification-key.js";
import { gatesOf, plonk } from "./plonk.js";
import { fflonkCalldata } from "./proof-calldata.js";
import type { ProofSystemModule } from "./proof-system-module.js";
import { proveUniversal } from "./prove-universal.js";
import { QUIET_LOGGER } from "./quiet-logger.js";
import { setupFflonk } from "./setup-fflonk.js";
import { setupFromPtau } from "./universal-setup.js";
import { FflonkVkeySchema, fflonkVerifierSource } from "./universal-verifier-source.js";

const bits = (n: number) => Math.max(1, n).toString(2).length;

/**
 * FFLONK: universal setup like PLONK (same gates), cheaper on-chain verification, a much larger ptau and a slower
 * setup. A domain of `2^c > gates + 1` (c ≥ 3), and at least `9·2^c + 18` G1 powers of tau, which a ptau of power p
 * holds from `2^(p+1) − 1 ≥ 9·2^c + 18`: three powers more than the domain.
 */
export const fflonk: ProofSystemModule = {
  name: "fflonk",
  hasPhase2: false,
  provesWithR1cs: false,
  verifierContract: "FflonkVerifier",
  vkeySchema: FflonkVkeySchema,
  circuitSize: plonk.circuitSize,
  requiredPtauPower: (size) => {
    const c = Math.max(3, bits(gatesOf(size, "fflonk") + 1));
    let p = c;
    while (2 ** (p + 1) - 1 < 9 * 2 ** c + 18) p++;
    return p;
  },
  setup: (params) => setupFromPtau(params, fflonk, setupFflonk),
  prove: (params) => proveUniversal("fflonk", snarkjs.fflonk, params),
  verify: (params) =>
    snarkjs.fflonk.verify(params.vkey as never, [...params.publicSignals], params.proof as never, QUIET_LOGGER),
  exportVerificationKey: (zkey) => exportVerificationKey(zkey, "fflonk"),
  solidityVerifier: fflonkVerifierSource,
  registryCall: (proof) => {
    if (proof.system !== "fflonk") {
      throw new VerinferError("MALFORMED_RECEIPT", `a ${proof.system} proof is not an fflonk proof`);
    }
    const { proof: words, publicSignals } = fflonkCalldata(proof);
    return { method: "submitUniversalProof", args: [words, publicSignals] };
  },
};
