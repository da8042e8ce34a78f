import * as snarkjs from "snarkjs";
import { vkeyCid } from "../attest/vkey-cid.js";
import { VerinferError } from "../errors.js";
import { findAuditRecord, recordAudit } from "../package/audit-record.js";
import type { ModelManifest } from "../package/model-manifest.js";
import { indexModelPackage, ModelPackage } from "../package/model-package.js";
import { packagePtau } from "../package/package-ptau.js";
import { hasPhase2 } from "../proof-systems/systems.js";
import { assertContributionName, contributeZkey } from "../setup/contribute-zkey.js";
import { verifyZkey } from "../setup/verify-zkey.js";
import type { OnProgress } from "../util/progress.js";
import { compileCacheKey } from "./compile-model.js";

/** Options of {@link contributeSetup}. */
export interface ContributeSetupOptions {
  /** The contributor's name, recorded in the zkey and the manifest: 1–64 printable ASCII characters. */
  name: string;
  /** The package's ptau file (default: the cached file of the manifest's hash, i.e. the dev ptau). */
  ptau?: string;
  onProgress?: OnProgress;
}

/**
 * Adds a Groth16 phase-2 contribution to a package: a fresh secret from the OS CSPRNG (never stored) is
 * folded into the zkey, the whole chain is verified against the package's r1cs and ptau (`zkey verify`), and
 * a new package is stored with the new zkey and vkey and the verified contribution list. The model id and
 * commitment do not change; the vkey does, so receipts proven with the old zkey verify only against the old
 * package. The cache then serves the new package for this model (by id and for `compileModel`).
 *
 * Groth16 is sound if at least one phase-2 contributor was honest: each independent contributor removes the
 * need to trust the earlier ones. If the old package was audited (or set up in this cache), the new one
 * inherits that record; otherwise run `verifyPackage` on it.
 *
 * @throws VerinferError `INVALID_INPUT` (name), `UNSUPPORTED_MODE` (a PLONK/FFLONK package), `INVALID_OPTIONS` (a ptau that is not the package's),
 *   `ARTIFACT_MISSING` (ptau or artifacts), `SETUP_REQUIRED` (the zkey chain does not verify).
 * @example
 * ```ts
 * const next = await contributeSetup(pkg, { name: "alice" });
 * next.manifest.setup.contributions; // [{ name: "verinfer", hash }, { name: "alice", hash }]
 * ```
 */
export async function contributeSetup(pkg: ModelPackage, options: ContributeSetupOptions): Promise<ModelPackage> {
  const { onProgress } = options;
  assertContributionName(options.name);
  const { manifest, store } = pkg;
  if (!hasPhase2(manifest.proofSystem)) {
    throw new VerinferError("UNSUPPORTED_MODE", `a ${manifest.proofSystem} setup has no phase 2 to contribute to`, {
      details: "its zkey follows from the r1cs and the ptau alone: there is no circuit-specific secret",
    });
  }
  const ptau = await packagePtau(pkg, options.ptau);
  if (ptau.blake2b !== manifest.setup.ptauBlake2b) {
    throw new VerinferError("INVALID_OPTIONS", `${ptau.file} is not the ptau model ${pkg.id} was set up with`, {
      details: `manifest blake2b ${manifest.setup.ptauBlake2b}, file ${ptau.blake2b}`,
    });
  }
  const prior = await findAuditRecord(pkg);
  const [r1cs, zkey] = await Promise.all([pkg.artifact("r1cs"), pkg.artifact("zkey")]);
  const contributed = await contributeZkey({
    zkey: new Uint8Array(zkey),
    name: options.name,
    ...(onProgress ? { onProgress } : {}),
  });

  onProgress?.({ stage: "setup", message: "verifying the contribution chain against the r1cs and the ptau" });
  const verified = await verifyZkey({
    r1cs: new Uint8Array(r1cs),
    ptauFile: ptau.file,
    zkey: contributed.zkey,
    ...(onProgress ? { onProgress } : {}),
  });
  if (!verified.valid) {
    throw new VerinferError("SETUP_REQUIRED", `the zkey of model ${pkg.id} does not verify against its r1cs and ptau`, {
      details: verified.reason,
    });
  }
  const last = verified.contributions[verified.contributions.length - 1];
  if (last?.hash !== contributed.contributionHash || last.name !== options.name) {
    throw new VerinferError("INTERNAL", "the verified chain does not end with the new contribution");
  }

  const vkey = await snarkjs.zKey.exportVerificationKey({ type: "mem", data: contributed.zkey });
  // Only the setup changes: network, circuit, r1cs and wasm are the same artifacts. Any manifest field derived
  // from the zkey or vkey must be recomputed here.
  const next: ModelManifest = {
    ...manifest,
    createdAt: new Date().toISOString(),
    artifacts: {
      ...manifest.artifacts,
      zkey: await store.put(contributed.zkey),
      vkey: await store.put(JSON.stringify(vkey, null, 1)),
    },
    setup: { ...manifest.setup, contributions: verified.contributions },
    vkey: vkeyCid(vkey),
  };
  const manifestRef = await store.put(JSON.stringify(next, null, 1));
  const cacheKey = compileCacheKey({
    networkJson: (await pkg.artifact("network")).toString("utf8"),
    ptauSha256: manifest.setup.kind === "dev" ? undefined : manifest.setup.ptauSha256,
    toolchain: manifest.toolchain,
  });
  await indexModelPackage(store.cacheDir, cacheKey, manifestRef, pkg.id);
  const result = await ModelPackage.fromManifest(next, store, { trustDir: pkg.trustDir });
  if (prior) {
    await recordAudit(
      result,
      {
        ptauBlake2b: ptau.blake2b,
        via: "contribute",
        checks: [
          {
            name: "contribution",
            ok: true,
            detail: `"${options.name}" verified against the r1cs and ptau on top of a package recorded by "${prior.via}"`,
          },
        ],
      },
      { persist: true },
    );
  }
  onProgress?.({ stage: "setup", message: `${verified.contributions.length} contributions`, done: true });
  return result;
}
