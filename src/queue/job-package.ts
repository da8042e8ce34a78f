/**
 * How the queue moves model packages: through the storage pair (`putModelPackage` / `getModelPackage`), with
 * what only a queue needs on top — a producer publishes each package once per storage, and a prover accepts a
 * job's manifest only if it is of the job's model. Internal to src/queue.
 *
 * @module
 */
import { getModelPackage } from "../package/get-model-package.js";
import type { ModelPackage } from "../package/model-package.js";
import { putModelPackage } from "../package/put-model-package.js";
import type { Storage } from "../storage/storage.js";

const published = new WeakMap<Storage, Map<string, Promise<string>>>();

/**
 * Puts a package on a storage once per process and storage (`putModelPackage`, every artifact, the prover's
 * included) → its manifest's CID, what a proof job names. A failed put is forgotten, so the next job retries it.
 *
 * @example
 * ```ts
 * const manifest = await publishOnce(storage, pkg);
 * ```
 */
export function publishOnce(storage: Storage, pkg: ModelPackage): Promise<string> {
  let byPackage = published.get(storage);
  if (!byPackage) {
    byPackage = new Map();
    published.set(storage, byPackage);
  }
  // The id names the network; the zkey's hash names the setup (two setups of one network share the id).
  const key = `${pkg.id}\n${pkg.manifest.artifacts.zkey.sha256}`;
  let done = byPackage.get(key);
  if (!done) {
    done = putModelPackage(storage, pkg).then((put) => put.manifestCid);
    byPackage.set(key, done);
    done.catch(() => byPackage?.delete(key));
  }
  return done;
}

/** Parameters of {@link fetchJobPackage}. */
export interface FetchJobPackageParams {
  storage: Storage;
  /** The job's manifest CID. */
  manifest: string;
  /** The job's model id: a manifest of another model is `ARTIFACT_CORRUPT`, before any artifact is fetched. */
  modelId: string;
  cacheDir: string;
  /** Also fetch the witness wasm and zkey (default true; a producer verifying a proof needs neither). */
  proving?: boolean;
}

/**
 * Loads a job's model package (`getModelPackage` with the job's model id as the expected one).
 *
 * @throws VerinferError `ARTIFACT_MISSING` / `ARTIFACT_CORRUPT` (with the reason), as `getModelPackage`.
 * @example
 * ```ts
 * const pkg = await fetchJobPackage({ storage, manifest: job.manifest, modelId: job.modelId, cacheDir });
 * ```
 */
export function fetchJobPackage(params: FetchJobPackageParams): Promise<ModelPackage> {
  return getModelPackage(params.storage, params.manifest, {
    cacheDir: params.cacheDir,
    modelId: params.modelId,
    ...(params.proving === undefined ? {} : { proving: params.proving }),
  });
}
