import { isVerinferError, VerinferError } from "../errors.js";
import { ArtifactStore } from "../storage/artifact-store.js";
import { resolveCacheDir } from "../storage/cache-dir.js";
import { normalizeCid } from "../storage/cid.js";
import { canonicalJson } from "../storage/json-objects.js";
import { sha256Hex } from "../storage/sha256-hex.js";
import type { Storage } from "../storage/storage.js";
import { parseStrictJson } from "../util/parse-strict-json.js";
import { type ArtifactName, MODEL_FORMAT, type ModelManifest, ModelManifestSchema } from "./model-manifest.js";
import { indexModelPackage, loadModelPackage, ModelPackage } from "./model-package.js";
import { PROVER_ARTIFACTS, VERIFIER_ARTIFACTS } from "./put-model-package.js";

/** Options of {@link getModelPackage}. */
export interface GetModelPackageOptions {
  /** The local cache the artifacts are copied into and whose audit records count (default: `resolveCacheDir()`). */
  cacheDir?: string;
  /** Also fetch the witness wasm and the zkey (default true: a prover needs them; a verifier can pass false). */
  proving?: boolean;
  /**
   * Also record the package in the local cache under its model id, so `loadModelPackage(id)` and prover-pool jobs
   * by `{ modelId, cacheDir }` find it (default false). It replaces the cache's entry for that id; trust is not
   * affected: audit records are per manifest.
   */
  index?: boolean;
  /**
   * The model id the caller expects (e.g. the one a proof job names): a manifest of another model is
   * `ARTIFACT_CORRUPT` before any artifact is fetched. The id the manifest states is then recomputed from the
   * artifacts as always, so a package that loads is this model.
   */
  modelId?: string;
  /** Gives up (`ARTIFACT_MISSING`) when it fires, e.g. `AbortSignal.timeout(60_000)`. */
  signal?: AbortSignal;
  /** Called after each artifact is in the local cache. */
  onArtifact?: (event: { name: ArtifactName | "manifest"; cid: string; size: number; fetched: boolean }) => void;
}

const MODEL_ID = /^0x[0-9a-f]{64}$/;

async function fetchManifest(storage: Storage, cid: string, signal: AbortSignal | undefined): Promise<ModelManifest> {
  const bytes = await storage.get(cid, signal ? { signal } : {});
  let json: unknown;
  try {
    json = parseStrictJson(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new VerinferError(
      "ARTIFACT_CORRUPT",
      `object ${cid} is not a model manifest (not UTF-8 JSON, or a key repeated)`,
      { cause },
    );
  }
  const parsed = ModelManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new VerinferError("ARTIFACT_CORRUPT", `object ${cid} is not a ${MODEL_FORMAT} manifest`, {
      details: parsed.error.message,
    });
  }
  return parsed.data;
}

/**
 * Fetches a model package by the CID `putModelPackage` returned: the manifest, then every artifact it names by
 * CID, each checked against the manifest's sha256 and size before it is used and copied into the local cache
 * (so provers' worker threads read it from disk like a compiled package). Artifacts already intact in the cache
 * are not fetched again. The package is then opened as `loadModelPackage` opens one: its identity (network and
 * model commitments, vkey CID) is recomputed from the artifacts, and setup trust comes only from audit records in
 * the local cache, never from anything fetched.
 *
 * A model id (`0x…`) instead of a CID loads from the local cache (a storage has no index by id).
 *
 * @throws VerinferError `INVALID_INPUT` (neither a CID nor a model id); `ARTIFACT_MISSING` when the manifest
 *   or an artifact is not on the storage (or `signal` fired first); `ARTIFACT_CORRUPT`, with the reason in
 *   `details`, when an object is not a manifest, the manifest is not of `options.modelId`, an artifact's bytes differ from the manifest's hash or size, or
 *   the artifacts do not have the identity the manifest states.
 * @example
 * ```ts
 * const storage = await createHeliaStorage({ directory: "/tmp/prover-ipfs", peers: [inferenceNode] });
 * const pkg = await getModelPackage(storage, manifestCid, { signal: AbortSignal.timeout(60_000) });
 * const { receipt } = await verifiableInfer(pkg, input);
 * ```
 */
export async function getModelPackage(
  storage: Storage,
  ref: string,
  options: GetModelPackageOptions = {},
): Promise<ModelPackage> {
  const cacheDir = resolveCacheDir(options.cacheDir);
  if (options.modelId !== undefined && !MODEL_ID.test(String(options.modelId))) {
    throw new VerinferError("INVALID_INPUT", "options.modelId is not a model id (0x and 64 hex digits)");
  }
  if (typeof ref === "string" && MODEL_ID.test(ref)) {
    if (options.modelId !== undefined && ref !== options.modelId) {
      throw new VerinferError("INVALID_INPUT", `asked for model ${ref} and expected ${options.modelId}`);
    }
    return loadModelPackage(ref, { cacheDir });
  }
  const cid = normalizeCid(ref);
  const manifest = await fetchManifest(storage, cid, options.signal);
  if (options.modelId !== undefined && manifest.id !== options.modelId) {
    throw new VerinferError("ARTIFACT_CORRUPT", `manifest ${cid} is of model ${manifest.id}, not ${options.modelId}`, {
      details: "the CID names another model's package than the one asked for",
      meta: { manifest: cid, expected: options.modelId, actual: manifest.id },
    });
  }
  options.onArtifact?.({ name: "manifest", cid, size: 0, fetched: true });
  const local = new ArtifactStore(cacheDir);
  const names = [...VERIFIER_ARTIFACTS, ...(options.proving === false ? [] : PROVER_ARTIFACTS)];
  for (const name of names) {
    options.signal?.throwIfAborted();
    const want = manifest.artifacts[name];
    const cached = await local.get(want, name).then(
      () => true,
      () => false,
    );
    if (!cached) {
      let bytes: Uint8Array;
      try {
        bytes = await storage.get(want.cid, options.signal ? { signal: options.signal } : {});
      } catch (error) {
        if (isVerinferError(error, "ARTIFACT_MISSING") || isVerinferError(error, "ARTIFACT_CORRUPT")) {
          throw new VerinferError(error.code, `model ${manifest.id}: ${name} ${want.cid}: ${error.shortMessage}`, {
            cause: error,
            details: error.details ?? "",
          });
        }
        throw error;
      }
      // The storage promised these bytes hash to the CID; this check does not rely on that promise.
      const actual = sha256Hex(bytes);
      if (actual !== want.sha256 || bytes.byteLength !== want.size) {
        throw new VerinferError("ARTIFACT_CORRUPT", `model ${manifest.id}: ${name} ${want.cid} is corrupted`, {
          details: `expected sha256 ${want.sha256} (${want.size} bytes), got ${actual} (${bytes.byteLength} bytes)`,
          meta: { artifact: name, expected: want.sha256, actual },
        });
      }
      await local.put(bytes);
    }
    options.onArtifact?.({ name, cid: want.cid, size: want.size, fetched: !cached });
  }
  const pkg = await ModelPackage.fromManifest(manifest, local, { trustDir: cacheDir });
  if (options.index) {
    const manifestRef = await local.put(canonicalJson(manifest));
    await indexModelPackage(cacheDir, `fetched-${cid}`, manifestRef, pkg.id);
  }
  return pkg;
}
