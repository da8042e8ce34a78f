export { type CommitValuesParams, commitValues, packValues, randomSalt } from "./commitments.js";
export {
  architectureDescriptor,
  MODEL_COMMITMENT_VERSION,
  modelCommitment,
  modelIdFromCommitment,
} from "./model-commitment.js";
export { getPoseidon, poseidonChain } from "./poseidon.js";
export { Groth16ProofSchema, RECEIPT_FORMAT, type Receipt, ReceiptSchema, type Salts } from "./receipt.js";
