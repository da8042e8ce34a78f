import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  compileModel,
  isVerinferError,
  loadModelPackage,
  type ModelManifest,
  type ModelPackage,
  verifiableInfer,
  verifyReceipt,
} from "../../src/index.js";
import { findAuditRecord, recordAudit } from "../../src/package/audit-record.js";
import { PACKAGE_CHECKS, verifyPackage } from "../../src/package/verify-package.js";
import { devSetupPtauName } from "../../src/proof-systems/setup-groth16.js";
import { CEREMONY_PTAUS, ceremonyPtau } from "../../src/setup/ceremony-ptau.js";
import { DEV_CONTRIBUTION_NAME } from "../../src/setup/ptau-writer.js";
import {
  asZk,
  demoPackage,
  demoSamples,
  errorOf,
  ROOT,
  TEST_CACHE,
  tempDirs,
  tinyCalibration,
  tinyNetwork,
  tinyPackage,
  type ZkReceipt,
} from "../fixtures.js";

const tempDir = tempDirs("verinfer-setup-trust-");

/** The hash snarkjs's README publishes for powersOfTau28_hez_final_10.ptau. */
const HEZ_10_BLAKE2B =
  "6cfeb8cda92453099d20120bdd0e8a5c4e7706c2da9a8f09ccc157ed2464d921fd0437fb70db42104769efd7d6f3c1f964bcf448c455eab6f6c7d863e88a5849";

/** Writes an edited copy of a package's manifest to a file and loads it as a verifier would. */
async function editedPackage(
  pkg: ModelPackage,
  edit: (m: ModelManifest) => void | Promise<void>,
): Promise<ModelPackage> {
  const manifest = structuredClone(pkg.manifest);
  await edit(manifest);
  const file = path.join(await tempDir(), "manifest.json");
  await writeFile(file, JSON.stringify(manifest));
  return loadModelPackage(file, { cacheDir: pkg.store.cacheDir });
}

/** Names of the checks that failed. */
const failed = (result: { checks: { name: string; ok: boolean }[] }) =>
  result.checks.filter((c) => !c.ok).map((c) => c.name);

/** A dev package's own ptau: the dev setup names it by power and the start of its hash. */
const devPtauOf = (pkg: ModelPackage) =>
  path.join(TEST_CACHE, "ptau", devSetupPtauName(pkg.manifest.setup.ptauPower, pkg.manifest.setup.ptauBlake2b));

describe("setup trust is earned, never declared", () => {
  let demo: ModelPackage;
  let receipt: ZkReceipt;

  beforeAll(async () => {
    demo = await demoPackage();
    receipt = asZk((await verifiableInfer(demo, demoSamples.inputs[0])).receipt);
  });

  it("pins exactly the ceremony files snarkjs's README lists, with their blake2b hashes", () => {
    const readme = readFileSync(path.join(ROOT, "node_modules", "snarkjs", "README.md"), "utf8");
    const rows = [
      ...readme.matchAll(
        /^\|\s+(\d+)\s+\|[^|]+\|\s*\[(powersOfTau28_hez_final[\w.]*)\]\([^)]+\)\s*\|\s*([0-9a-f]{128})\s*\|/gm,
      ),
    ];
    expect(rows.length).toBe(21);
    expect(CEREMONY_PTAUS.map((p) => [p.power, p.file, p.blake2b])).toEqual(
      rows.map((m) => [Number(m[1]), m[2], m[3]]),
    );
    expect(ceremonyPtau(HEZ_10_BLAKE2B)?.file).toBe("powersOfTau28_hez_final_10.ptau");
  });

  it("records the ptau's blake2b and the setup's phase-2 contribution in the manifest", () => {
    const blake2b = createHash("blake2b512")
      .update(readFileSync(devPtauOf(demo)))
      .digest("hex");
    expect(demo.manifest.setup).toMatchObject({ kind: "dev", ptauBlake2b: blake2b });
    expect(demo.manifest.setup.contributions).toEqual([
      { name: DEV_CONTRIBUTION_NAME, hash: expect.stringMatching(/^[0-9a-f]{128}$/) },
    ]);
  });

  it("does not call a setup on the dev ptau passed as --ptau a ceremony", async () => {
    const pkg = await compileModel(tinyNetwork, {
      calibration: tinyCalibration,
      cacheDir: await tempDir(),
      ptau: devPtauOf(demo),
      quiet: true,
    });
    expect(pkg.manifest.setup.kind).toBe("unrecognized");
    const r = asZk((await verifiableInfer(pkg, [0.5, 0.25, 0.75, 0.1])).receipt);
    const result = await verifyReceipt(r, { modelPackage: pkg, requireCeremony: true });
    expect(result.valid).toBe(false);
    expect(failed(result)).toEqual(["setup"]);
  });

  it("rejects a manifest edited to say ceremony", async () => {
    const forged = await editedPackage(demo, (m) => {
      m.setup.kind = "ceremony";
    });
    const result = await verifyReceipt(receipt, { modelPackage: forged, requireCeremony: true });
    expect(result.valid).toBe(false);
    expect(failed(result)).toEqual(["setup"]);
  });

  it("rejects a manifest edited to claim a pinned ceremony ptau hash", async () => {
    const forged = await editedPackage(demo, (m) => {
      m.setup.kind = "ceremony";
      m.setup.ptauBlake2b = HEZ_10_BLAKE2B;
    });
    const result = await verifyReceipt(receipt, { modelPackage: forged, requireCeremony: true });
    expect(result.valid).toBe(false);
    expect(failed(result)).toEqual(["setup"]);
  });

  it("rejects a dev package for requireCeremony even after it passed its audit", async () => {
    expect((await verifyPackage(demo)).ok).toBe(true);
    const result = await verifyReceipt(receipt, { modelPackage: demo, requireCeremony: true });
    expect(failed(result)).toEqual(["setup"]);
  });
});

describe("verifyPackage", () => {
  let demo: ModelPackage;
  let tiny: ModelPackage;

  beforeAll(async () => {
    demo = await demoPackage();
    tiny = await tinyPackage();
  });

  it("passes every check on an honest package, and reports progress", async () => {
    const stages = new Set<string>();
    const result = await verifyPackage(demo, { onProgress: (e) => stages.add(e.stage) });
    expect(result.checks.map((c) => c.name)).toEqual([...PACKAGE_CHECKS]);
    expect(failed(result)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(stages.has("audit")).toBe(true);
    expect((await findAuditRecord(demo))?.via).toBe("audit");
  });

  it("fails 'verification key' on a package whose vkey was swapped for another model's", async () => {
    // The attacker restates the vkey's CID too, or the package would not even open (see model-package.ts).
    const forged = await editedPackage(demo, (m) => {
      m.artifacts.vkey = tiny.manifest.artifacts.vkey;
      m.vkey = tiny.manifest.vkey;
    });
    const result = await verifyPackage(forged);
    expect(result.ok).toBe(false);
    expect(failed(result)).toEqual(["verification key"]);
    expect(await findAuditRecord(forged)).toBeUndefined();
  });

  it("fails 'zkey' on a package whose zkey comes from another circuit", async () => {
    const forged = await editedPackage(demo, (m) => {
      m.artifacts.zkey = tiny.manifest.artifacts.zkey;
    });
    const result = await verifyPackage(forged);
    expect(result.ok).toBe(false);
    expect(failed(result)).toContain("zkey");
    expect(failed(result)).not.toContain("model commitment");
  });

  it("fails 'circuit source' on a package whose circuit source was tampered with", async () => {
    const forged = await editedPackage(demo, async (m) => {
      const source = (await demo.artifact("circuit")).toString("utf8");
      const tampered = source.replace(
        /(var W\d*\[\d+\]\[\d+\] = \[\[)(-?\d+)/,
        (_s, head: string, w: string) => `${head}${-Number(w) || 1}`,
      );
      expect(tampered).not.toBe(source);
      m.artifacts.circuit = await demo.store.put(tampered);
    });
    const result = await verifyPackage(forged);
    expect(result.ok).toBe(false);
    expect(failed(result)).toEqual(["circuit source"]);
  });

  it("never opens a package whose network commits to another model (the load recomputes the commitment)", async () => {
    const error = await editedPackage(demo, async (m) => {
      const net = JSON.parse((await demo.artifact("network")).toString("utf8"));
      // The last weighted layer (a dense layer is followed by its rescale in the quantized network).
      const weighted = (net.layers as { bias?: (string | number)[] }[]).filter((l) => Array.isArray(l.bias));
      const bias = weighted[weighted.length - 1]?.bias as (string | number)[];
      bias[0] = typeof bias[0] === "string" ? String(BigInt(bias[0]) + 1n) : (bias[0] as number) + 1;
      m.artifacts.network = await demo.store.put(JSON.stringify(net));
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
  });

  it("fails 'setup kind' on a dev package edited to say ceremony", async () => {
    const forged = await editedPackage(demo, (m) => {
      m.setup.kind = "ceremony";
    });
    expect(failed(await verifyPackage(forged))).toEqual(["setup kind"]);
  });

  it("fails 'contributions' on a manifest that lists contributions the zkey does not hold", async () => {
    const forged = await editedPackage(demo, (m) => {
      m.setup.contributions = [...m.setup.contributions, { name: "ghost", hash: "ab".repeat(64) }];
    });
    expect(failed(await verifyPackage(forged))).toEqual(["contributions"]);
  });

  it("fails 'ptau' when the given ptau is not the manifest's, and needs the ptau a manifest claims", async () => {
    const forged = await editedPackage(demo, (m) => {
      m.setup.kind = "ceremony";
      m.setup.ptauBlake2b = HEZ_10_BLAKE2B;
    });
    expect(failed(await verifyPackage(forged, { ptau: devPtauOf(demo) }))).toEqual(["ptau"]);
    expect(isVerinferError(await errorOf(verifyPackage(forged)), "ARTIFACT_MISSING")).toBe(true);
  });

  it("throws ARTIFACT_MISSING for a ptau file that does not exist", async () => {
    const error = await errorOf(verifyPackage(demo, { ptau: path.join(await tempDir(), "none.ptau") }));
    expect(isVerinferError(error, "ARTIFACT_MISSING")).toBe(true);
  });

  it("finds an audit record only for the exact manifest it was written for", async () => {
    await recordAudit(
      demo,
      { ptauBlake2b: demo.manifest.setup.ptauBlake2b, via: "audit", checks: [] },
      { persist: true },
    );
    const file = path.join(await tempDir(), "manifest.json");
    await writeFile(file, JSON.stringify(demo.manifest));
    expect(await findAuditRecord(await loadModelPackage(file, { cacheDir: TEST_CACHE }))).toBeDefined();
    const text = await readFile(file, "utf8");
    await writeFile(file, text.replace(demo.manifest.createdAt, "2000-01-01T00:00:00.000Z"));
    expect(await findAuditRecord(await loadModelPackage(file, { cacheDir: TEST_CACHE }))).toBeUndefined();
  });
});
