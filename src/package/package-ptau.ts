import { access } from "node:fs/promises";
import path from "node:path";
import { VerinferError } from "../errors.js";
import { ceremonyPtau } from "../setup/ceremony-ptau.js";
import { findPtauByHash, inspectPtau, type PtauInfo } from "../setup/inspect-ptau.js";
import type { ModelPackage } from "./model-package.js";

/**
 * The ptau file to check a package's zkey against: `file` when given (inspected, not trusted: callers compare
 * its hash with the manifest's), else the file of the manifest's BLAKE2b-512 in the cache's `ptau/` folder,
 * where the dev ptau lives.
 *
 * @throws VerinferError `ARTIFACT_MISSING` when `file` is unreadable or no cached ptau has that hash.
 * @example
 * ```ts
 * const ptau = await packagePtau(pkg); // the cached dev ptau of a dev package
 * ```
 */
export async function packagePtau(pkg: ModelPackage, file?: string): Promise<PtauInfo> {
  const setup = pkg.manifest.setup;
  if (file) {
    try {
      await access(file);
    } catch (cause) {
      throw new VerinferError("ARTIFACT_MISSING", `cannot read ptau file ${file}`, { cause });
    }
    return inspectPtau(file);
  }
  const found = await findPtauByHash(path.join(pkg.store.cacheDir, "ptau"), setup.ptauBlake2b, setup.ptauPower);
  if (found) return found;
  const pinned = ceremonyPtau(setup.ptauBlake2b);
  throw new VerinferError("ARTIFACT_MISSING", `the ptau of model ${pkg.id} is not in the cache: pass it`, {
    details: pinned
      ? `the manifest names ${pinned.file} (${pinned.url})`
      : `the manifest names a "${setup.kind}" ptau of blake2b ${setup.ptauBlake2b}`,
  });
}
