export { CEREMONY_PTAU_SOURCE, CEREMONY_PTAUS, type CeremonyPtau, ceremonyPtau } from "./ceremony-ptau.js";
export { GADGET_FILE, type GenerateCircuitParams, generateCircuit } from "./codegen.js";
export { type CompileCircuitParams, type CompiledCircuit, compileCircuit, GADGETS_DIR } from "./compile-circuit.js";
export {
  type ContributedZkey,
  type ContributeZkeyParams,
  contributeZkey,
  MAX_CONTRIBUTION_NAME,
} from "./contribute-zkey.js";
export { type EnsureDevPtauParams, ensureDevPtau, MAX_DEV_PTAU_POWER } from "./dev-ptau.js";
export { type DevZkey, type WriteDevZkeyParams, writeDevZkey } from "./dev-zkey.js";
export { findPtauByHash, inspectPtau, type PtauInfo } from "./inspect-ptau.js";
export { type PlonkGateCount, plonkGateCount, requiredPtauPowerFor } from "./plonk-gates.js";
export { hasPhase2, PROOF_SYSTEMS, type ProofSystem, parseProofSystem } from "./proof-system.js";
export { type ProveCircuitParams, proveCircuit, type SnarkProofBundle } from "./prove-circuit.js";
export {
  type CircuitInputs,
  circuitInputJson,
  computeWitness,
  type Groth16Proof,
  type Groth16ProofBundle,
  proveGroth16,
  WitnessGenerator,
} from "./prove-groth16.js";
export {
  createProverPool,
  type ProverPool,
  type ProverPoolJob,
  type ProverPoolOptions,
  type ProverPoolProof,
  type ProverPoolStats,
} from "./prover-pool.js";
export {
  DEV_CONTRIBUTION_NAME,
  type WriteDevPtauParams,
  type WriteDevPtauResult,
  writeDevPtau,
} from "./ptau-writer.js";
export { setupFflonk } from "./setup-fflonk.js";
export { type SetupForSystemParams, type SystemSetup, setupForSystem } from "./setup-for-system.js";
export { devSetupPtauName, type Groth16Setup, type SetupGroth16Params, setupGroth16 } from "./setup-groth16.js";
export { setupPlonk } from "./setup-plonk.js";
export type { SetupUniversalParams, UniversalSetup } from "./universal-setup.js";
export {
  type VerifyZkeyParams,
  verifyZkey,
  type ZkeyContribution,
  type ZkeyVerification,
} from "./verify-zkey.js";
