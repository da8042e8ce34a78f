export { type ArtifactAddress, type ArtifactRef, ArtifactStore, sha256Hex } from "./artifact-store.js";
export { atomicWrite } from "./atomic-write.js";
export {
  AUDIT_FORMAT,
  AUDIT_SOURCES,
  type AuditFindings,
  type AuditRecord,
  AuditRecordSchema,
  findAuditRecord,
  manifestSha256,
} from "./audit-record.js";
export { resolveCacheDir } from "./cache-dir.js";
export { cidFromSha256, cidOf, normalizeCid, parseCid, sha256FromCid } from "./cid.js";
export {
  type ExportedModelPackage,
  type ExportModelPackageOptions,
  exportModelPackage,
} from "./export-model-package.js";
export { defaultStorage, FsStorage } from "./fs-storage.js";
export { type GetModelPackageOptions, getModelPackage } from "./get-model-package.js";
export {
  CHUNK_SIZE,
  type CreateHeliaStorageParams,
  CreateHeliaStorageParamsSchema,
  createHeliaStorage,
  DEFAULT_FETCH_TIMEOUT_MS,
  DEFAULT_MAX_OBJECT_SIZE,
  HeliaStorage,
  LOCATE_PROTOCOL,
  OBJECT_RECORD_FORMAT,
  type ObjectRecord,
  ObjectRecordSchema,
} from "./helia-storage.js";
export { canonicalJson, getJson, putJson } from "./json-objects.js";
export { MemoryStorage } from "./memory-storage.js";
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
export type { Storage, StorageGetOptions } from "./storage.js";
export { isStorageFault, type StorageErrorContext, storageError } from "./storage-error.js";
export { loadReceipt, storeReceipt } from "./store-receipt.js";
