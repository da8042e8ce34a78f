import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { cp, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import {
  compileModel,
  loadModelPackage,
  type ModelManifest,
  type ModelPackage,
  verifiableInfer,
  verifyReceipt,
} from "../../src/index.js";
import { CEREMONY_CHECK_LIMITS } from "../../src/package/setup-trust-check.js";
import { verifyPackage } from "../../src/package/verify-package.js";
import { contributeSetup } from "../../src/pipeline/contribute-setup.js";
import type * as CeremonyPtauModule from "../../src/setup/ceremony-ptau.js";
import { ensureDevPtau } from "../../src/setup/dev-ptau.js";
import { asZk, TEST_CACHE, tempDirs, tinyCalibration, tinyNetwork, type ZkReceipt } from "../fixtures.js";

// No real ceremony file can be fetched here, so this file pins the test cache's dev ptau as if it were one:
// everything else (compile, audit, requireCeremony) runs unchanged.
const pinned = vi.hoisted(() => ({ blake2b: "" }));
vi.mock("../../src/setup/ceremony-ptau.js", async (importOriginal) => {
  const real = await importOriginal<typeof CeremonyPtauModule>();
  return {
    ...real,
    ceremonyPtau: (blake2b: string) =>
      blake2b === pinned.blake2b
        ? { file: "test-pinned.ptau", power: 10, blake2b, url: "file:test-pinned.ptau" }
        : real.ceremonyPtau(blake2b),
  };
});

const tempDir = tempDirs("verinfer-ceremony-pin-");
/** A shared dev ptau of the test cache (the pinned stand-in for a ceremony file). */
let devPtau: string;

async function manifestFile(manifest: ModelManifest): Promise<string> {
  const file = path.join(await tempDir(), "manifest.json");
  await writeFile(file, JSON.stringify(manifest));
  return file;
}

/** A verifier's own cache holding the package's artifacts (content-addressed) but none of its audit records. */
async function verifierCache(from: ModelPackage): Promise<string> {
  const cacheDir = await tempDir();
  await cp(from.store.root, path.join(cacheDir, "objects"), { recursive: true });
  return cacheDir;
}

describe("requireCeremony with a pinned ptau", () => {
  let pkg: ModelPackage;
  let receipt: ZkReceipt;
  const requireCeremony = (modelPackage: ModelPackage) =>
    verifyReceipt(receipt, { modelPackage, requireCeremony: true });

  beforeAll(async () => {
    devPtau = (await ensureDevPtau({ power: 10, cacheDir: TEST_CACHE })).file;
    pinned.blake2b = createHash("blake2b512").update(readFileSync(devPtau)).digest("hex");
    pkg = await compileModel(tinyNetwork, {
      calibration: tinyCalibration,
      cacheDir: await tempDir(),
      ptau: devPtau,
      quiet: true,
    });
    receipt = asZk((await verifiableInfer(pkg, [0.5, 0.25, 0.75, 0.1])).receipt);
  });

  it("calls a setup on the pinned ptau a ceremony, and accepts it where it was set up", async () => {
    expect(pkg.manifest.setup).toMatchObject({ kind: "ceremony", ptauBlake2b: pinned.blake2b });
    const result = await requireCeremony(pkg);
    expect(result.valid).toBe(true);
    const setup = result.checks.find((c) => c.name === "setup");
    expect(setup?.detail).toContain("test-pinned.ptau");
    expect(setup?.detail).toContain(CEREMONY_CHECK_LIMITS);
    const reloaded = await loadModelPackage(await manifestFile(pkg.manifest), { cacheDir: pkg.store.cacheDir });
    expect((await requireCeremony(reloaded)).valid).toBe(true);
  });

  it("does not trust the same manifest in another cache until verifyPackage passes there", async () => {
    const cacheDir = await verifierCache(pkg);
    const file = await manifestFile(pkg.manifest);
    const loaded = await loadModelPackage(file, { cacheDir });
    expect((await requireCeremony(loaded)).valid).toBe(false);
    expect((await verifyPackage(loaded, { ptau: devPtau })).ok).toBe(true);
    expect((await requireCeremony(loaded)).valid).toBe(true);
    // The record persists: a later load of that exact manifest finds it.
    expect((await requireCeremony(await loadModelPackage(file, { cacheDir }))).valid).toBe(true);
  });

  it("rejects an edited manifest although its ptau hash is pinned", async () => {
    const cacheDir = await verifierCache(pkg);
    const edited = { ...pkg.manifest, name: "renamed" };
    const loaded = await loadModelPackage(await manifestFile(edited), { cacheDir: pkg.store.cacheDir });
    expect((await requireCeremony(loaded)).valid).toBe(false);
    const swapped = await loadModelPackage(
      await manifestFile({
        ...pkg.manifest,
        artifacts: { ...pkg.manifest.artifacts, zkey: pkg.manifest.artifacts.r1cs },
      }),
      { cacheDir },
    );
    expect((await requireCeremony(swapped)).valid).toBe(false);
  });

  it("keeps a contributed package trusted, and accepts its proofs", async () => {
    const next = await contributeSetup(pkg, { name: "dana", ptau: devPtau });
    const r = asZk((await verifiableInfer(next, [0.1, 0.2, 0.3, 0.4])).receipt);
    const result = await verifyReceipt(r, { modelPackage: next, requireCeremony: true });
    expect(result.valid).toBe(true);
    expect(result.checks.find((c) => c.name === "setup")?.detail).toContain("2 (");
  });
});
