export { exportVerificationKey } from "./export-verification-key.js";
export { fflonk } from "./fflonk.js";
export { groth16 } from "./groth16.js";
export { Groth16VkeySchema, groth16VerifierSource } from "./groth16-verifier-source.js";
export { plonk } from "./plonk.js";
export {
  type PlonkGateCount,
  plonkGateCount,
  type R1csHeader,
  readR1csHeader,
} from "./plonk-gates.js";
export {
  fflonkCalldata,
  type Groth16Calldata,
  groth16Calldata,
  plonkCalldata,
  type UniversalCalldata,
} from "./proof-calldata.js";
export { PROOF_SYSTEMS, type ProofSystem, parseProofSystem } from "./proof-system.js";
export type {
  CircuitSize,
  ProofSystemModule,
  ProofSystemProof,
  ProofSystemProveParams,
  ProofSystemSetup,
  ProofSystemSetupParams,
  ProofSystemVerifyParams,
  RegistryProofCall,
} from "./proof-system-module.js";
export { type ProveCircuitParams, proveCircuit, type SnarkProofBundle } from "./prove-circuit.js";
export { setupFflonk } from "./setup-fflonk.js";
export { type SetupForSystemParams, type SystemSetup, setupForSystem } from "./setup-for-system.js";
export { devSetupPtauName, type Groth16Setup, type SetupGroth16Params, setupGroth16 } from "./setup-groth16.js";
export { setupPlonk } from "./setup-plonk.js";
export { hasPhase2, PROOF_SYSTEM_MODULES, proofSystemModule, requiredPtauPowerFor } from "./systems.js";
export type { SetupUniversalParams, UniversalSetup } from "./universal-setup.js";
export {
  FflonkVkeySchema,
  fflonkVerifierSource,
  PlonkVkeySchema,
  plonkVerifierSource,
  universalVerifierSource,
} from "./universal-verifier-source.js";
export { type VerifySnarkProofParams, verifySnarkProof } from "./verify-snark-proof.js";
