export {
  type AttestDataOptions,
  type AttestDataResult,
  attestData,
  type DataPayload,
  type InputFormat,
  quantizationHash,
} from "./attest-data.js";
export {
  type CommitValuesParams,
  commitValues,
  MAX_COMMITMENT_OFFSET,
  packValues,
  randomSalt,
  VECTOR_COMMITMENT_TAG,
  type VectorFormat,
  vectorCommitmentHeader,
} from "./commitments.js";
export {
  DEFAULT_EAS_DOMAIN,
  EAS_EIP712_NAME,
  type EasDomainOptions,
  type EasTypedDataDomain,
  easDomain,
  OFFCHAIN_ATTEST_FIELDS,
  OFFCHAIN_ATTESTATION_VERSION,
  type OffchainAttestationCheck,
  type OffchainAttestationMessage,
  type OffchainAttestationVerification,
  type OffchainUidMessage,
  offchainUid,
  type SharedAttestation,
  SharedAttestationSchema,
  type SignedOffchainAttestation,
  type SignOffchainAttestationOptions,
  type SignOffchainAttestationParams,
  signOffchainAttestation,
  type TypedDataSigner,
  type VerifyOffchainAttestationOptions,
  verifyOffchainAttestation,
} from "./eas-offchain.js";
export {
  DATA_SCHEMA,
  DATA_SCHEMA_UID,
  type DataAttestationFields,
  decodeDataAttestationData,
  decodeInferenceData,
  encodeDataAttestationData,
  encodeInferenceData,
  INFERENCE_SCHEMA,
  INFERENCE_SCHEMA_UID,
  type InferenceAttestationFields,
  type SchemaUidOptions,
  schemaUid,
} from "./eas-schemas.js";
export { commitInput, commitOutput } from "./io-commitments.js";
export {
  architectureDescriptor,
  ioDescriptor,
  MODEL_COMMITMENT_TAG,
  type ModelCommitmentParts,
  type ModelIo,
  modelCommitment,
  modelCommitmentOf,
  modelIdFromCommitment,
  modelIo,
  NETWORK_COMMITMENT_TAG,
  networkCommitment,
} from "./model-commitment.js";
export { outputHash } from "./output-hash.js";
export { getPoseidon, poseidonChain } from "./poseidon.js";
export {
  Groth16ProofSchema,
  RECEIPT_FORMAT,
  RECEIPT_MODES,
  type Receipt,
  type ReceiptAttestation,
  ReceiptAttestationSchema,
  type ReceiptMode,
  type ReceiptProof,
  ReceiptSchema,
  type Salts,
} from "./receipt.js";
export { vkeyCid } from "./vkey-cid.js";
