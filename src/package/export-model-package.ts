import { mkdir } from "node:fs/promises";
import path from "node:path";
import { VerinferError } from "../errors.js";
import { ArtifactStore } from "../storage/artifact-store.js";
import { atomicWrite } from "../storage/atomic-write.js";
import type { ArtifactName } from "./model-manifest.js";
import type { ModelPackage } from "./model-package.js";
import { PROVER_ARTIFACTS, VERIFIER_ARTIFACTS } from "./put-model-package.js";

/** Options of {@link exportModelPackage}. */
export interface ExportModelPackageOptions {
  /** Directory to write; created if absent. */
  dir: string;
  /** Also export the witness wasm and the zkey, so the export can prove (default false: verifier only). */
  proving?: boolean;
}

/** What {@link exportModelPackage} wrote. */
export interface ExportedModelPackage {
  /** `<dir>/manifest.json`: pass it to `loadModelPackage` or `verinfer verify --model`. */
  manifest: string;
  /** `<dir>/vkey.json`: the snarkjs verification key. */
  vkey: string;
  /** CIDv1 of each exported artifact. */
  cids: Partial<Record<ArtifactName, string>>;
}

/**
 * Writes a model package to a directory a second party can use: `manifest.json`, `vkey.json` (snarkjs's shape),
 * and the artifacts under `objects/` (an `FsStorage`: the cache's layout, by CID), verifier artifacts always and the proving
 * ones with `proving`. Whoever loads it recomputes its identity (model commitment from the network, vkey CID
 * from the key), so an export cannot claim another model or key; setup trust still has to be earned by an audit.
 *
 * @throws VerinferError `ARTIFACT_MISSING` / `ARTIFACT_CORRUPT` when the package's own artifacts are unreadable.
 * @example
 * ```ts
 * const { manifest } = await exportModelPackage(pkg, { dir: "out/model" });
 * const again = await loadModelPackage(manifest);
 * ```
 */
export async function exportModelPackage(
  pkg: ModelPackage,
  options: ExportModelPackageOptions,
): Promise<ExportedModelPackage> {
  if (typeof options?.dir !== "string" || options.dir.length === 0) {
    throw new VerinferError("INVALID_OPTIONS", "exportModelPackage needs a directory");
  }
  const dir = path.resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const target = new ArtifactStore(dir);
  const names = [...VERIFIER_ARTIFACTS, ...(options.proving ? PROVER_ARTIFACTS : [])];
  const cids: Partial<Record<ArtifactName, string>> = {};
  for (const name of names) {
    const ref = await target.put(await pkg.artifact(name));
    cids[name] = ref.cid;
  }
  const manifest = path.join(dir, "manifest.json");
  const vkey = path.join(dir, "vkey.json");
  await atomicWrite(manifest, JSON.stringify(pkg.manifest, null, 1));
  await atomicWrite(vkey, JSON.stringify(pkg.vkey, null, 1));
  return { manifest, vkey, cids };
}
