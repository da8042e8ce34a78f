/**
 * verinfer — verifiable ML inference. Run a model on TensorFlow.js, compute the same network in exact
 * fixed-point integers, and return a receipt with a Groth16 proof anyone can check.
 *
 * @packageDocumentation
 */
export { RECEIPT_FORMAT, type Receipt, ReceiptSchema, type Salts } from "./attest/receipt.js";
export { type CompileModelOptions, compileModel, type ModelSource, requiredPtauPower } from "./compile-model.js";
export { ERROR_CODES, type ErrorCode, isVerinferError, VerinferError, type VerinferErrorOptions } from "./errors.js";
export { FIELD_PRIME } from "./field.js";
export type { BackendName } from "./models/backend.js";
export { loadModel } from "./models/load-model.js";
export type { OnProgress, ProgressEvent, ProgressStage } from "./progress.js";
export { MODEL_FORMAT, type ModelManifest, ModelManifestSchema } from "./storage/model-manifest.js";
export { loadModelPackage, ModelPackage } from "./storage/model-package.js";
export {
  type InferMode,
  type InferResult,
  type VerifiableInferOptions,
  verifiableInfer,
  verifiableInferBatch,
} from "./verifiable-infer.js";
export { type VerifyReceiptOptions, type VerifyResult, verifyReceipt } from "./verify-receipt.js";
