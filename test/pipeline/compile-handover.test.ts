// compileModel opens the package it has just stored from what it stored, without reading it back (issue 22 house
// keeping: the r1cs of a 682k-constraint model cost seconds to re-read and re-hash). Opening the package later from
// disk must still check everything.
import { readFile, writeFile } from "node:fs/promises";
import { describe, expect, it, vi } from "vitest";
import { isVerinferError } from "../../src/errors.js";
import { loadModelPackage, type ModelPackage } from "../../src/package/model-package.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { ArtifactStore } from "../../src/storage/artifact-store.js";
import { errorOf, tempDirs, tinyCalibration, tinyNetwork } from "../fixtures.js";

const tmp = tempDirs("verinfer-compile-handover-");

describe("compileModel hands its package over without reading it back", () => {
  let cacheDir: string;
  let pkg: ModelPackage;
  let namesRead: string[];

  it("reads no artifact back after storing it (only the small manifest, to index it)", async () => {
    cacheDir = await tmp();
    const get = vi.spyOn(ArtifactStore.prototype, "get");
    try {
      pkg = await compileModel(tinyNetwork, { calibration: tinyCalibration, cacheDir, quiet: true, force: true });
      namesRead = get.mock.calls.map(([, what]) => String(what));
    } finally {
      get.mockRestore();
    }
    expect(namesRead.filter((name) => name !== "manifest")).toEqual([]);
  }, 600_000);

  it("hands over the package a load from the cache opens", async () => {
    const loaded = await loadModelPackage(pkg.id, { cacheDir });
    expect(loaded.manifest).toEqual(pkg.manifest);
    expect(loaded.network).toEqual(pkg.network);
    expect(loaded.floatNetwork).toEqual(pkg.floatNetwork);
    expect(loaded.vkey).toEqual(pkg.vkey);
    expect(loaded.trustDir).toBe(pkg.trustDir);
  });

  it("a load still refuses the package once its r1cs was altered on disk, and so does proving", async () => {
    const store = new ArtifactStore(cacheDir);
    const file = store.pathOf(pkg.manifest.artifacts.r1cs.sha256);
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    await writeFile(file, bytes);
    expect(isVerinferError(await errorOf(loadModelPackage(pkg.id, { cacheDir })), "ARTIFACT_CORRUPT")).toBe(true);
    expect(isVerinferError(await errorOf(pkg.provingArtifacts()), "ARTIFACT_CORRUPT")).toBe(true);
  });
});
