import { VerinferError } from "../errors.js";
import { canonicalJson } from "../storage/json-objects.js";
import type { Storage } from "../storage/storage.js";
import type { ArtifactName } from "./model-manifest.js";
import type { ModelPackage } from "./model-package.js";

/** Artifacts a verifier needs (and an auditor: circuit source and r1cs). */
export const VERIFIER_ARTIFACTS: readonly ArtifactName[] = ["network", "floatNetwork", "circuit", "r1cs", "vkey"];
/** Artifacts only a prover needs (the large ones). */
export const PROVER_ARTIFACTS: readonly ArtifactName[] = ["wasm", "zkey"];

/** Options of {@link putModelPackage}. */
export interface PutModelPackageOptions {
  /** Also put the witness wasm and the zkey, so a prover can fetch them (default true). */
  proving?: boolean;
}

/** What {@link putModelPackage} stored. */
export interface PutModelPackageResult {
  /** CID of the manifest's canonical JSON: the one handle a prover or verifier needs to fetch the package. */
  manifestCid: string;
  /** CID of each artifact put (the manifest's `artifacts.<name>.cid`). */
  artifacts: Partial<Record<ArtifactName, string>>;
}

/**
 * Puts a model package on a {@link Storage}: each artifact (hash-checked as it is read from the package) under
 * its CID, then the manifest, whose canonical JSON's CID is returned. Anyone holding that CID can fetch the
 * whole package with `getModelPackage`. What goes on the storage is public by design — the manifest, the
 * quantized and float networks, the circuit, r1cs, vkey, and (with `proving`) the witness wasm and zkey — and
 * never an input, an output or a salt.
 *
 * @throws VerinferError `ARTIFACT_MISSING` / `ARTIFACT_CORRUPT` when the package's own artifacts are unreadable;
 *   `INTERNAL` when the storage stores an artifact under a CID other than the manifest's.
 * @example
 * ```ts
 * const { manifestCid } = await putModelPackage(storage, pkg);   // "bafkrei…"
 * // on a prover machine:
 * const same = await getModelPackage(storage, manifestCid);
 * ```
 */
export async function putModelPackage(
  storage: Storage,
  pkg: ModelPackage,
  options: PutModelPackageOptions = {},
): Promise<PutModelPackageResult> {
  const names = [...VERIFIER_ARTIFACTS, ...(options.proving === false ? [] : PROVER_ARTIFACTS)];
  const artifacts: Partial<Record<ArtifactName, string>> = {};
  for (const name of names) {
    const cid = await storage.put(await pkg.artifact(name));
    if (cid !== pkg.manifest.artifacts[name].cid) {
      throw new VerinferError(
        "INTERNAL",
        `the storage named ${name} ${cid}, the manifest ${pkg.manifest.artifacts[name].cid}`,
      );
    }
    artifacts[name] = cid;
  }
  const manifestCid = await storage.put(new TextEncoder().encode(canonicalJson(pkg.manifest)));
  return { manifestCid, artifacts };
}
