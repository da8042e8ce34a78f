import { VerinferError } from "../errors.js";
import { cidFromSha256 } from "../storage/cid.js";
import { putJson } from "../storage/json-objects.js";
import type { ArtifactName } from "../storage/model-manifest.js";
import { ModelPackage } from "../storage/model-package.js";
import type { Storage } from "../storage/storage.js";

/** Parameters of {@link publishModelPackage}. */
export interface PublishModelPackageParams {
  pkg: ModelPackage;
  /** Where provers will read it (the same content-addressed store, or one that syncs with it). */
  storage: Storage;
}

/** What {@link publishModelPackage} stored. */
export interface PublishedModelPackage {
  /** CID of the manifest's canonical JSON: what a proof job names. */
  manifest: string;
  /** CID of each artifact (the manifest names each by its sha256; the CID is the same hash). */
  artifacts: Record<ArtifactName, string>;
}

const published = new WeakMap<Storage, Map<string, Promise<PublishedModelPackage>>>();

/**
 * Puts a model package into a `Storage`: every artifact the manifest names (each hash-checked as it is read),
 * then the manifest itself as canonical JSON. A prover that has never seen the model loads it from there by the
 * manifest's CID (see `startProver`). Idempotent, and done once per package and storage in a process.
 *
 * @throws VerinferError `ARTIFACT_MISSING` / `ARTIFACT_CORRUPT` when the package's own artifacts are unreadable.
 * @example
 * ```ts
 * const { manifest } = await publishModelPackage({ pkg, storage: new FsStorage("/srv/verinfer/objects") });
 * ```
 */
export function publishModelPackage(params: PublishModelPackageParams): Promise<PublishedModelPackage> {
  const { pkg, storage } = params;
  if (!(pkg instanceof ModelPackage)) throw new VerinferError("INVALID_INPUT", "pkg is not a ModelPackage");
  let byModel = published.get(storage);
  if (!byModel) {
    byModel = new Map();
    published.set(storage, byModel);
  }
  const key = `${pkg.id}\n${pkg.manifest.artifacts.zkey.sha256}`;
  let done = byModel.get(key);
  if (!done) {
    done = publish(pkg, storage);
    byModel.set(key, done);
    done.catch(() => byModel?.delete(key));
  }
  return done;
}

async function publish(pkg: ModelPackage, storage: Storage): Promise<PublishedModelPackage> {
  const artifacts = {} as Record<ArtifactName, string>;
  for (const name of Object.keys(pkg.manifest.artifacts) as ArtifactName[]) {
    const cid = cidFromSha256(pkg.manifest.artifacts[name].sha256);
    if (!(await storage.has(cid))) {
      const stored = await storage.put(new Uint8Array(await pkg.artifact(name)));
      if (stored !== cid) throw new VerinferError("INTERNAL", `storage named artifact ${name} ${stored}, not ${cid}`);
    }
    artifacts[name] = cid;
  }
  return { manifest: await putJson(storage, pkg.manifest), artifacts };
}
