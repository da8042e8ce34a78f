/**
 * verinfer — verifiable ML inference. Run a model on TensorFlow.js, compute the same network in exact
 * fixed-point integers, and return a receipt with a proof (Groth16, PLONK or FFLONK) anyone can check.
 *
 * @packageDocumentation
 */
export { type AttestDataOptions, type AttestDataResult, attestData, type DataPayload } from "./attest/attest-data.js";
export {
  DEFAULT_EAS_DOMAIN,
  type EasDomainOptions,
  type SharedAttestation,
  SharedAttestationSchema,
  verifyOffchainAttestation,
} from "./attest/eas-offchain.js";
export { DATA_SCHEMA, DATA_SCHEMA_UID, INFERENCE_SCHEMA, INFERENCE_SCHEMA_UID } from "./attest/eas-schemas.js";
export {
  type ModelCommitmentParts,
  type ModelIo,
  modelCommitment,
  modelCommitmentOf,
  modelIo,
  networkCommitment,
} from "./attest/model-commitment.js";
export {
  RECEIPT_FORMAT,
  RECEIPT_MODES,
  type Receipt,
  type ReceiptMode,
  ReceiptSchema,
  type Salts,
} from "./attest/receipt.js";
export { vkeyCid } from "./attest/vkey-cid.js";
export { ERROR_CODES, type ErrorCode, isVerinferError, VerinferError, type VerinferErrorOptions } from "./errors.js";
export type { BackendName } from "./models/backend.js";
export { loadModel } from "./models/load-model.js";
export { type Fidelity, fidelityWarnings, measureFidelity } from "./models/measure-fidelity.js";
export { loadOnnxModel } from "./models/onnx/load-onnx-model.js";
export { nchwToHwc } from "./models/onnx/nchw-to-hwc.js";
export type { ModelInput, NestedInput, NumericTypedArray, TensorInput } from "./models/quantize-input.js";
export { directorySaveHandler, saveModel } from "./models/save-model.js";
export {
  AUDIT_FORMAT,
  type AuditRecord,
  AuditRecordSchema,
  findAuditRecord,
  manifestSha256,
} from "./package/audit-record.js";
export {
  type ExportedModelPackage,
  type ExportModelPackageOptions,
  exportModelPackage,
} from "./package/export-model-package.js";
export { type GetModelPackageOptions, getModelPackage } from "./package/get-model-package.js";
export {
  ArtifactRefSchema,
  MODEL_FORMAT,
  type ModelManifest,
  ModelManifestSchema,
  SETUP_KINDS,
  type SetupKind,
} from "./package/model-manifest.js";
export { loadModelPackage, ModelPackage } from "./package/model-package.js";
export {
  type PutModelPackageOptions,
  type PutModelPackageResult,
  putModelPackage,
} from "./package/put-model-package.js";
export { CEREMONY_CHECK_LIMITS, setupTrustCheck, type TrustCheck } from "./package/setup-trust-check.js";
export {
  PACKAGE_CHECKS,
  type PackageCheckName,
  type VerifyPackageOptions,
  type VerifyPackageResult,
  verifyPackage,
} from "./package/verify-package.js";
export {
  type CompileModelOptions,
  compileModel,
  type ModelSource,
  requiredPtauPower,
} from "./pipeline/compile-model.js";
export { type ContributeSetupOptions, contributeSetup } from "./pipeline/contribute-setup.js";
export { type QuantizeModelOptions, quantizeModel } from "./pipeline/quantize-model.js";
export { type ReexecuteOptions, type ReexecuteResult, reexecute } from "./pipeline/reexecute.js";
export {
  type InferMode,
  type InferResult,
  type VerifiableInferOptions,
  verifiableInfer,
  verifiableInferBatch,
} from "./pipeline/verifiable-infer.js";
export { PROOF_SYSTEMS, type ProofSystem } from "./proof-systems/proof-system.js";
// The queue itself is in "verinfer/queue" (it loads BullMQ and ioredis); its type is what verifiableInfer takes.
export type { ProofHandle, ProofQueue } from "./queue/create-proof-queue.js";
export {
  configureProofRetry,
  DEFAULT_PROOF_RETRY,
  type DeferredProof,
  PROOF_FAILURE_FORMAT,
  PROOF_JOB_FORMAT,
  type ProofFailure,
  type ProofFailureReason,
  ProofFailureSchema,
  type ProofJob,
  ProofJobSchema,
  type ProofRetryPolicy,
  type ResumePendingProofsOptions,
  resumePendingProofs,
} from "./receipts/deferred-proofs.js";
export {
  createProverPool,
  type ProverPool,
  type ProverPoolJob,
  type ProverPoolOptions,
  type ProverPoolProof,
  type ProverPoolStats,
} from "./receipts/prover-pool.js";
export { loadReceipt, storeReceipt } from "./receipts/store-receipt.js";
export {
  type UnverifiedField,
  type VerifyCheck,
  type VerifyReceiptOptions,
  type VerifyResult,
  verifyReceipt,
} from "./receipts/verify-receipt.js";
export {
  CEREMONY_PTAU_SOURCE,
  CEREMONY_PTAUS,
  type CeremonyPtau,
  ceremonyPtau,
} from "./setup/ceremony-ptau.js";
export { inspectPtau, type PtauInfo } from "./setup/inspect-ptau.js";
export type { ZkeyContribution } from "./setup/verify-zkey.js";
export { cidFromSha256, cidOf, sha256FromCid } from "./storage/cid.js";
export { defaultStorage, FsStorage } from "./storage/fs-storage.js";
export {
  type CreateHeliaStorageParams,
  createHeliaStorage,
  HeliaStorage,
} from "./storage/helia-storage.js";
export { canonicalJson, getJson, putJson } from "./storage/json-objects.js";
export { MemoryStorage } from "./storage/memory-storage.js";
export type { Storage, StorageGetOptions } from "./storage/storage.js";
export { FIELD_PRIME } from "./util/field.js";
export type { OnProgress, ProgressEvent, ProgressStage } from "./util/progress.js";
