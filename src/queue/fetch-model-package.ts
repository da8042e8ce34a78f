import { VerinferError } from "../errors.js";
import { ArtifactStore } from "../storage/artifact-store.js";
import { cidFromSha256 } from "../storage/cid.js";
import { getJson } from "../storage/json-objects.js";
import { type ArtifactName, MODEL_FORMAT, ModelManifestSchema } from "../storage/model-manifest.js";
import { ModelPackage } from "../storage/model-package.js";
import type { Storage } from "../storage/storage.js";

/** Parameters of {@link fetchModelPackage}. */
export interface FetchModelPackageParams {
  storage: Storage;
  /** CID of the manifest (as `publishModelPackage` returns it and a proof job names it). */
  manifest: string;
  /** The model id the caller expects; a manifest of another model is `ARTIFACT_CORRUPT`. */
  modelId: string;
  /** Local cache whose artifact store receives the artifacts (the prover pool's workers read them there). */
  cacheDir: string;
  /** Also fetch the witness wasm and the zkey (default true); a verifier needs neither. */
  proving?: boolean;
}

const VERIFIER: readonly ArtifactName[] = ["network", "floatNetwork", "vkey"];
const PROVER: readonly ArtifactName[] = ["wasm", "zkey"];

/**
 * Loads a model package from a `Storage` by its manifest's CID into a local cache: each artifact already in the
 * cache is re-hashed, each absent or damaged one is fetched from the storage (which hash-checks what it
 * returns against the CID) and stored. The package is then opened as any other — its identity (model
 * commitment, id, vkey CID) recomputed from its artifacts — and must be the model the caller asked for.
 *
 * @throws VerinferError `ARTIFACT_MISSING` when the storage lacks an object, `ARTIFACT_CORRUPT` when one does
 *   not hash to its CID, the manifest is malformed, or it is another model's.
 * @example
 * ```ts
 * const pkg = await fetchModelPackage({ storage, manifest: job.manifest, modelId, cacheDir });
 * ```
 */
export async function fetchModelPackage(params: FetchModelPackageParams): Promise<ModelPackage> {
  const { storage, modelId } = params;
  const json = await getJson(storage, params.manifest);
  const parsed = ModelManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new VerinferError("ARTIFACT_CORRUPT", `object ${params.manifest} is not a ${MODEL_FORMAT} manifest`, {
      details: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    });
  }
  const manifest = parsed.data;
  if (manifest.id !== modelId) {
    throw new VerinferError(
      "ARTIFACT_CORRUPT",
      `manifest ${params.manifest} is of model ${manifest.id}, not ${modelId}`,
    );
  }
  const local = new ArtifactStore(params.cacheDir);
  const names = [...VERIFIER, ...(params.proving === false ? [] : PROVER)];
  for (const name of names) {
    const ref = manifest.artifacts[name];
    const intact = await local.get(ref, name).then(
      () => true,
      () => false,
    );
    if (intact) continue;
    const cid = cidFromSha256(ref.sha256);
    let bytes: Uint8Array;
    try {
      bytes = await storage.get(cid);
    } catch (error) {
      if (error instanceof VerinferError) {
        throw new VerinferError(error.code, `${name} of model ${modelId}: ${error.shortMessage}`, {
          cause: error,
          ...(error.details ? { details: error.details } : {}),
          meta: { artifact: name, cid },
        });
      }
      throw error;
    }
    if (bytes.byteLength !== ref.size) {
      throw new VerinferError(
        "ARTIFACT_CORRUPT",
        `${name} of model ${modelId} has ${bytes.byteLength} bytes, not ${ref.size}`,
      );
    }
    await local.put(bytes);
  }
  const pkg = await ModelPackage.fromManifest(manifest, local);
  if (pkg.id !== modelId) throw new VerinferError("ARTIFACT_CORRUPT", `model ${pkg.id} is not ${modelId}`);
  return pkg;
}
