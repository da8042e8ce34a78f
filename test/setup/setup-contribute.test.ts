import { writeFile } from "node:fs/promises";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  compileModel,
  isVerinferError,
  loadModelPackage,
  type ModelPackage,
  verifiableInfer,
  verifyReceipt,
} from "../../src/index.js";
import { findAuditRecord } from "../../src/package/audit-record.js";
import { verifyPackage } from "../../src/package/verify-package.js";
import { contributeSetup } from "../../src/pipeline/contribute-setup.js";
import { ensureDevPtau } from "../../src/setup/dev-ptau.js";
import { DEV_CONTRIBUTION_NAME } from "../../src/setup/ptau-writer.js";
import { asZk, errorOf, runCli, tempDirs, tinyCalibration, tinyNetwork } from "../fixtures.js";

const tempDir = tempDirs("verinfer-contribute-");
const input = [0.5, 0.25, 0.75, 0.1];

/** The tiny model compiled into a fresh cache (its dev setup writes its own dev ptau there). */
async function freshTinyPackage(): Promise<ModelPackage> {
  const cacheDir = await tempDir();
  return compileModel(tinyNetwork, { calibration: tinyCalibration, cacheDir, quiet: true });
}

describe("Groth16 phase-2 contributions", () => {
  let base: ModelPackage;
  let alice: ModelPackage;

  beforeAll(async () => {
    base = await freshTinyPackage();
    alice = await contributeSetup(base, { name: "alice" });
  });

  it("adds a second contribution: same model, new zkey and vkey, both contributions recorded", () => {
    expect(alice.id).toBe(base.id);
    expect(alice.manifest.commitments).toEqual(base.manifest.commitments);
    expect(alice.manifest.artifacts.r1cs).toEqual(base.manifest.artifacts.r1cs);
    expect(alice.manifest.artifacts.zkey.sha256).not.toBe(base.manifest.artifacts.zkey.sha256);
    expect(alice.manifest.artifacts.vkey.sha256).not.toBe(base.manifest.artifacts.vkey.sha256);
    expect(alice.manifest.setup.contributions.map((c) => c.name)).toEqual([DEV_CONTRIBUTION_NAME, "alice"]);
    expect(alice.manifest.setup.contributions[0]).toEqual(base.manifest.setup.contributions[0]);
    expect(alice.manifest.setup.contributions[1]?.hash).toMatch(/^[0-9a-f]{128}$/);
  });

  it("carries the audit record of the package it contributed to", async () => {
    expect((await findAuditRecord(base))?.via).toBe("setup");
    expect((await findAuditRecord(alice))?.via).toBe("contribute");
  });

  it("produces a package whose contribution chain verifies against the r1cs and ptau", async () => {
    const result = await verifyPackage(alice);
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.checks.find((c) => c.name === "contributions")?.detail).toContain('"alice"');
  });

  it("proves with the contributed zkey: snarkjs and verifyReceipt accept the proof with the new package only", async () => {
    const receipt = asZk((await verifiableInfer(alice, input)).receipt);
    expect(await snarkjs.groth16.verify(alice.vkey, receipt.proof.publicSignals, receipt.proof.proof)).toBe(true);
    expect(await verifyReceipt(receipt, { modelPackage: alice })).toMatchObject({ valid: true });
    expect(await snarkjs.groth16.verify(base.vkey, receipt.proof.publicSignals, receipt.proof.proof)).toBe(false);
    expect((await verifyReceipt(receipt, { modelPackage: base })).valid).toBe(false);
  });

  it("keeps receipts proven before the contribution verifiable: the cache finds their package by the key they name", async () => {
    const cacheDir = base.store.cacheDir;
    // The receipt is proven with the first key; the contribution made the model id's package the second key.
    const receipt = asZk((await verifiableInfer(base, input)).receipt);
    expect(receipt.model.vkey).toBe(base.vkeyCid);
    const byKey = await loadModelPackage(receipt.model.vkey as string, { cacheDir });
    expect(byKey.manifest.artifacts.zkey).toEqual(base.manifest.artifacts.zkey);
    expect(await verifyReceipt(receipt, { modelPackage: byKey })).toMatchObject({ valid: true });
    // Against the model id's (contributed) package, the reason says what happened.
    const latest = await loadModelPackage(base.id, { cacheDir });
    const stale = await verifyReceipt(receipt, { modelPackage: latest });
    expect(stale.valid).toBe(false);
    expect(stale.reason).toContain("2 phase-2 contributions");
    expect(stale.reason).toContain(receipt.model.vkey);
    expect(stale.reason).not.toContain("two compiles");
    // The CLI verifies it by the receipt alone, finding the package by its key.
    const file = path.join(await tempDir(), "receipt.json");
    await writeFile(file, JSON.stringify(receipt));
    const run = await runCli(["verify", file, "--cache-dir", cacheDir]);
    expect(run.stdout).toMatch(/^VALID$/m);
    expect(run.code).toBe(0);
    const unknown = await errorOf(loadModelPackage(`b${"a".repeat(58)}`, { cacheDir }));
    expect(isVerinferError(unknown, "ARTIFACT_MISSING")).toBe(true);
  });

  it("makes the cache serve the contributed package, by id and to compileModel", async () => {
    const cacheDir = base.store.cacheDir;
    expect((await loadModelPackage(base.id, { cacheDir })).manifest.setup.contributions).toHaveLength(2);
    const again = await compileModel(tinyNetwork, { calibration: tinyCalibration, cacheDir, quiet: true });
    expect(again.manifest.artifacts.zkey).toEqual(alice.manifest.artifacts.zkey);
  });

  it("rejects a contribution name that is empty, too long or not printable ASCII", async () => {
    for (const name of ["", "x".repeat(65), "line\nbreak", "ünicode"]) {
      expect(isVerinferError(await errorOf(contributeSetup(base, { name })), "INVALID_INPUT")).toBe(true);
    }
  });

  it("rejects a ptau that is not the package's, and a file that is not a ptau", async () => {
    const other = await ensureDevPtau({ power: 4, cacheDir: await tempDir() });
    const error = await errorOf(contributeSetup(base, { name: "x", ptau: other.file }));
    expect(isVerinferError(error, "INVALID_OPTIONS")).toBe(true);
    const junk = path.join(await tempDir(), "junk.ptau");
    await writeFile(junk, "not a ptau");
    expect(isVerinferError(await errorOf(contributeSetup(base, { name: "x", ptau: junk })), "SETUP_REQUIRED")).toBe(
      true,
    );
  });
});

describe("verinfer setup contribute / verinfer audit", () => {
  let pkg: ModelPackage;
  let cacheDir: string;

  beforeAll(async () => {
    pkg = await freshTinyPackage();
    cacheDir = pkg.store.cacheDir;
  });

  it("contributes to a cached model by id and audits the result (exit 0)", async () => {
    const contributed = await runCli(["setup", "contribute", pkg.id, "--name", "carol", "--cache-dir", cacheDir]);
    expect(contributed.code).toBe(0);
    expect(contributed.stdout).toContain(pkg.id);
    const next = await loadModelPackage(pkg.id, { cacheDir });
    expect(next.manifest.setup.contributions.map((c) => c.name)).toEqual([DEV_CONTRIBUTION_NAME, "carol"]);
    const audit = await runCli(["audit", pkg.id, "--cache-dir", cacheDir]);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toContain("AUDIT OK");
  });

  it("exits 1 for a manifest whose vkey was swapped, naming the failed check", async () => {
    const next = await loadModelPackage(pkg.id, { cacheDir });
    const file = path.join(await tempDir(), "manifest.json");
    await writeFile(
      file,
      JSON.stringify({
        ...next.manifest,
        artifacts: { ...next.manifest.artifacts, vkey: pkg.manifest.artifacts.vkey },
        vkey: pkg.manifest.vkey,
      }),
    );
    const audit = await runCli(["audit", file, "--cache-dir", cacheDir, "--json"]);
    expect(audit.code).toBe(1);
    const result = JSON.parse(audit.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(result.ok).toBe(false);
    expect(result.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["verification key"]);
  });

  it("exits 2 for a missing ptau file and for a missing model", async () => {
    const missing = path.join(await tempDir(), "none.ptau");
    expect((await runCli(["audit", pkg.id, "--cache-dir", cacheDir, "--ptau", missing])).code).toBe(2);
    expect((await runCli(["audit", `0x${"0".repeat(64)}`, "--cache-dir", cacheDir])).code).toBe(2);
    expect((await runCli(["setup", "contribute", pkg.id, "--cache-dir", cacheDir])).code).toBe(2);
  });
});
