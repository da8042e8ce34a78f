import path from "node:path";
import * as snarkjs from "snarkjs";
import { proveGroth16 } from "../circuits/prove-groth16.js";
import { VerinferError } from "../errors.js";
import { exportVerificationKey } from "./export-verification-key.js";
import { Groth16VkeySchema, groth16VerifierSource } from "./groth16-verifier-source.js";
import { readR1csHeader } from "./plonk-gates.js";
import { groth16Calldata } from "./proof-calldata.js";
import type { ProofSystemModule } from "./proof-system-module.js";
import { QUIET_LOGGER } from "./quiet-logger.js";
import { setupGroth16 } from "./setup-groth16.js";

const bits = (n: number) => Math.max(1, n).toString(2).length;

/**
 * Groth16: smallest proof and cheapest verification; a circuit-specific phase-2 setup whose contributors are
 * trusted (one honest one suffices). Pays for R1CS constraints; `2^power ≥ constraints + public signals`.
 */
export const groth16: ProofSystemModule = {
  name: "groth16",
  hasPhase2: true,
  provesWithR1cs: true,
  verifierContract: "Groth16Verifier",
  vkeySchema: Groth16VkeySchema,
  circuitSize: (r1cs) => ({ ...readR1csHeader(r1cs), gates: undefined }),
  requiredPtauPower: (size) => bits(size.constraints + size.nPublic),
  setup: ({ r1cs, ptauFile, devCacheDir, onProgress }) =>
    setupGroth16({
      r1cs,
      ...(ptauFile !== undefined ? { ptauFile } : {}),
      ...(devCacheDir !== undefined ? { devPtauDir: path.join(devCacheDir, "ptau") } : {}),
      ...(onProgress ? { onProgress } : {}),
    }),
  prove: (params) => proveGroth16(params),
  verify: (params) =>
    snarkjs.groth16.verify(params.vkey as never, [...params.publicSignals], params.proof as never, QUIET_LOGGER),
  exportVerificationKey: (zkey) => exportVerificationKey(zkey, "groth16"),
  solidityVerifier: groth16VerifierSource,
  registryCall: (proof) => {
    if (proof.system !== "groth16") {
      throw new VerinferError("MALFORMED_RECEIPT", `a ${proof.system} proof is not a groth16 proof`);
    }
    const { a, b, c, publicSignals } = groth16Calldata(proof);
    return { method: "submitProof", args: [a, b, c, publicSignals] };
  },
};
