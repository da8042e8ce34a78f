export { type ArtifactAddress, type ArtifactRef, ArtifactStore, sha256Hex } from "./artifact-store.js";
export { atomicWrite } from "./atomic-write.js";
export { resolveCacheDir } from "./cache-dir.js";
export { cidFromSha256, cidOf, normalizeCid, parseCid, sha256FromCid } from "./cid.js";
export { defaultStorage, FsStorage } from "./fs-storage.js";
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
export type { Storage, StorageGetOptions } from "./storage.js";
export { isStorageFault, type StorageErrorContext, storageError } from "./storage-error.js";
