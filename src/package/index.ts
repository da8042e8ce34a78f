/**
 * verinfer/package: the compiled model package — its manifest, loading, export, put/get by CID through a
 * `Storage`, the audit record of its setup checks — and receipts kept in a `Storage`.
 */

export { loadReceipt, storeReceipt } from "../receipts/store-receipt.js";
export {
  AUDIT_FORMAT,
  AUDIT_SOURCES,
  type AuditFindings,
  type AuditRecord,
  AuditRecordSchema,
  findAuditRecord,
  manifestSha256,
} from "./audit-record.js";
export {
  type ExportedModelPackage,
  type ExportModelPackageOptions,
  exportModelPackage,
} from "./export-model-package.js";
export { type GetModelPackageOptions, getModelPackage } from "./get-model-package.js";
export {
  type ArtifactName,
  ArtifactRefSchema,
  MODEL_FORMAT,
  type ModelManifest,
  ModelManifestSchema,
  SETUP_KINDS,
  type SetupKind,
} from "./model-manifest.js";
export { type LoadModelPackageOptions, loadModelPackage, ModelPackage } from "./model-package.js";
export {
  PROVER_ARTIFACTS,
  type PutModelPackageOptions,
  type PutModelPackageResult,
  putModelPackage,
  VERIFIER_ARTIFACTS,
} from "./put-model-package.js";
