export { type PlonkGateCount, plonkGateCount } from "../proof-systems/plonk-gates.js";
export { PROOF_SYSTEMS, type ProofSystem, parseProofSystem } from "../proof-systems/proof-system.js";
export { type ProveCircuitParams, proveCircuit, type SnarkProofBundle } from "../proof-systems/prove-circuit.js";
export { setupFflonk } from "../proof-systems/setup-fflonk.js";
export { type SetupForSystemParams, type SystemSetup, setupForSystem } from "../proof-systems/setup-for-system.js";
export {
  devSetupPtauName,
  type Groth16Setup,
  type SetupGroth16Params,
  setupGroth16,
} from "../proof-systems/setup-groth16.js";
export { setupPlonk } from "../proof-systems/setup-plonk.js";
export { hasPhase2, requiredPtauPowerFor } from "../proof-systems/systems.js";
export type { SetupUniversalParams, UniversalSetup } from "../proof-systems/universal-setup.js";
export {
  createProverPool,
  type ProverPool,
  type ProverPoolJob,
  type ProverPoolOptions,
  type ProverPoolProof,
  type ProverPoolStats,
} from "../receipts/prover-pool.js";
export { CEREMONY_PTAU_SOURCE, CEREMONY_PTAUS, type CeremonyPtau, ceremonyPtau } from "../setup/ceremony-ptau.js";
export {
  type ContributedZkey,
  type ContributeZkeyParams,
  contributeZkey,
  MAX_CONTRIBUTION_NAME,
} from "../setup/contribute-zkey.js";
export { type EnsureDevPtauParams, ensureDevPtau, MAX_DEV_PTAU_POWER } from "../setup/dev-ptau.js";
export { type DevZkey, type WriteDevZkeyParams, writeDevZkey } from "../setup/dev-zkey.js";
export { findPtauByHash, inspectPtau, type PtauInfo } from "../setup/inspect-ptau.js";
export {
  DEV_CONTRIBUTION_NAME,
  type WriteDevPtauParams,
  type WriteDevPtauResult,
  writeDevPtau,
} from "../setup/ptau-writer.js";
export {
  type VerifyZkeyParams,
  verifyZkey,
  type ZkeyContribution,
  type ZkeyVerification,
} from "../setup/verify-zkey.js";
export { GADGET_FILE, type GenerateCircuitParams, generateCircuit } from "./codegen.js";
export { type CompileCircuitParams, type CompiledCircuit, compileCircuit, GADGETS_DIR } from "./compile-circuit.js";
export {
  type CircuitInputs,
  circuitInputJson,
  computeWitness,
  type Groth16Proof,
  type Groth16ProofBundle,
  proveGroth16,
  WitnessGenerator,
} from "./prove-groth16.js";
