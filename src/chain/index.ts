/**
 * verinfer/chain — the on-chain side: snarkjs Groth16 / PLONK / FFLONK verifiers and the `InferenceRegistry` contract, compiled with
 * solc-js, deployed and used with ethers v6, and a local anvil node for tests and examples.
 *
 * @packageDocumentation
 */

export { Groth16VkeySchema, groth16VerifierSource } from "../proof-systems/groth16-verifier-source.js";
export {
  fflonkCalldata,
  type Groth16Calldata,
  groth16Calldata,
  plonkCalldata,
  type UniversalCalldata,
} from "../proof-systems/proof-calldata.js";
export {
  FflonkVkeySchema,
  PlonkVkeySchema,
  universalVerifierSource,
} from "../proof-systems/universal-verifier-source.js";
export { ANVIL_MNEMONIC, type AnvilNode, anvilBinary, type StartAnvilOptions, startAnvil } from "./anvil.js";
export { type ChainErrorMeta, chainError } from "./chain-error.js";
export { type CompiledContracts, compileContracts } from "./compile-contracts.js";
export type { Deployed } from "./deploy-compiled.js";
export { type DeployRegistryOptions, deployRegistry } from "./deploy-registry.js";
export { compileVerifier, deployVerifier, type VerifierSource } from "./deploy-verifier.js";
export { exportSolidityVerifier, verifierContractName } from "./export-solidity-verifier.js";
export { getInference, type InferenceRecord, type InferenceStatement } from "./get-inference.js";
export { getModel, type RegisteredModelInfo } from "./get-model.js";
export { type ModelKeyParams, modelKey } from "./model-key.js";
export { type InferenceEvent, type OnInferenceOptions, onInference } from "./on-inference.js";
export {
  REGISTRY_PROOF_SYSTEMS,
  type RegisteredModel,
  type RegisterModelParams,
  registerModel,
} from "./register-model.js";
export { connectRegistry, type InferenceRegistryContract } from "./registry-contract.js";
export type { SendOptions, SentTransaction } from "./send-transaction.js";
export { type SetAttesterParams, setAttester } from "./set-attester.js";
export { type CompiledContract, SOLC_SETTINGS, solcVersion } from "./solc-compile.js";
export { type SubmitReceiptParams, type SubmitReceiptResult, submitReceipt } from "./submit-receipt.js";
export { type VerifierMatch, type VerifierMatchesVkeyParams, verifierMatchesVkey } from "./verifier-matches-vkey.js";
