export { type ArtifactRef, ArtifactStore, sha256Hex } from "./artifact-store.js";
export { atomicWrite } from "./atomic-write.js";
export { resolveCacheDir } from "./cache-dir.js";
export { type ArtifactName, MODEL_FORMAT, type ModelManifest, ModelManifestSchema } from "./model-manifest.js";
export { type LoadModelPackageOptions, loadModelPackage, ModelPackage } from "./model-package.js";
