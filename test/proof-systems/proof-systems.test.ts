import path from "node:path";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { vkeyCid } from "../../src/attest/vkey-cid.js";
import {
  type AnvilNode,
  deployRegistry,
  deployVerifier,
  exportSolidityVerifier,
  fflonkCalldata,
  getInference,
  getModel,
  type InferenceRegistryContract,
  plonkCalldata,
  registerModel,
  startAnvil,
  submitReceipt,
  verifierMatchesVkey,
} from "../../src/chain/index.js";
import { isVerinferError, type ModelPackage, type Receipt, verifiableInfer } from "../../src/index.js";
import { ModelPackage as PackageClass } from "../../src/package/model-package.js";
import { UNIVERSAL_CEREMONY_CHECK_LIMITS } from "../../src/package/setup-trust-check.js";
import { verifyPackage } from "../../src/package/verify-package.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { contributeSetup } from "../../src/pipeline/contribute-setup.js";
import { plonkGateCount } from "../../src/proof-systems/plonk-gates.js";
import { setupPlonk } from "../../src/proof-systems/setup-plonk.js";
import { requiredPtauPowerFor } from "../../src/proof-systems/systems.js";
import { createProverPool } from "../../src/receipts/prover-pool.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import type * as CeremonyPtauModule from "../../src/setup/ceremony-ptau.js";
import { ensureDevPtau } from "../../src/setup/dev-ptau.js";
import { ArtifactStore } from "../../src/storage/artifact-store.js";
import {
  type AnyZkReceipt,
  asAnyZk,
  asZk,
  DEMO_MODEL_DIR,
  demoPackage,
  demoSamples,
  errorOf,
  ROOT,
} from "../fixtures.js";

// No real ceremony file can be fetched here: one test pins this file's dev ptau as if it were one (see
// ceremony-pin.test.ts); everything else sees the real pins.
const pinned = vi.hoisted(() => ({ blake2b: "" }));
vi.mock("../../src/setup/ceremony-ptau.js", async (importOriginal) => {
  const real = await importOriginal<typeof CeremonyPtauModule>();
  return {
    ...real,
    ceremonyPtau: (blake2b: string) =>
      blake2b === pinned.blake2b
        ? { file: "test-pinned.ptau", power: 16, blake2b, url: "file:test-pinned.ptau" }
        : real.ceremonyPtau(blake2b),
  };
});

const SYSTEMS = ["plonk", "fflonk"] as const;

/**
 * Tests that prove, re-run a setup or recompile: well within the default on a quiet machine, but snarkjs's PLONK
 * and FFLONK provers are JavaScript-bound and a shared 2-core machine stretches them many times over.
 */
const SLOW = 900_000;

const clone = <T>(v: T): T => structuredClone(v);

/**
 * A cache of its own: a PLONK package of the demo model has the demo's model id, and the shared test cache's
 * by-id index must keep naming the Groth16 package other test files load.
 */
const SYSTEMS_CACHE = path.join(ROOT, ".verinfer-cache", "test-systems");

/** The demo model compiled for a universal-setup proof system (cached after the first run). */
function demoPackageOf(system: (typeof SYSTEMS)[number]): Promise<ModelPackage> {
  return compileModel(DEMO_MODEL_DIR, {
    calibration: demoSamples.calibration,
    cacheDir: SYSTEMS_CACHE,
    quiet: true,
    proofSystem: system,
  });
}

const receipts = new Map<string, Promise<Receipt>>();

/**
 * One receipt per proof system, proven once for the whole file: PLONK and FFLONK proofs cost seconds to minutes
 * in snarkjs's JavaScript provers.
 */
function receiptOf(system: "groth16" | (typeof SYSTEMS)[number]): Promise<Receipt> {
  let r = receipts.get(system);
  if (!r) {
    r = (system === "groth16" ? demoPackage() : demoPackageOf(system)).then(
      async (pkg) => (await verifiableInfer(pkg, demoSamples.inputs[0])).receipt,
    );
    receipts.set(system, r);
  }
  return r;
}

/** The numbers in a snarkjs `exportSolidityCallData` string, in order. */
function calldataNumbers(text: string): bigint[] {
  return (text.match(/0x[0-9a-fA-F]+/g) ?? []).map((h) => BigInt(h));
}

/** A proof receipt with one evaluation of its proof changed (the point data stays on the curve). */
function withBadEvaluation(r: AnyZkReceipt): AnyZkReceipt {
  const bad = clone(r);
  if (bad.proof.system === "plonk") bad.proof.proof.eval_a = (BigInt(bad.proof.proof.eval_a) + 1n).toString();
  else if (bad.proof.system === "fflonk") {
    bad.proof.proof.evaluations.a = (BigInt(bad.proof.proof.evaluations.a) + 1n).toString();
  }
  return bad;
}

/** The receipt with its output commitment (public signal 2) changed consistently in the receipt and the signals. */
function withOtherOutputCommitment(r: AnyZkReceipt): AnyZkReceipt {
  const bad = clone(r);
  const other = (BigInt(r.output.commitment) + 1n).toString();
  bad.output.commitment = other;
  bad.proof.publicSignals[2] = other;
  return bad;
}

describe.each(SYSTEMS)("%s: universal setup through every layer (demo model)", (system) => {
  let pkg: ModelPackage;
  let receipt: AnyZkReceipt;

  beforeAll(async () => {
    pkg = await demoPackageOf(system);
    receipt = asAnyZk(await receiptOf(system));
  });

  it("sets up from the ptau alone: the manifest names the system, no phase-2 contribution, and its gate count", async () => {
    const { manifest } = pkg;
    expect(manifest.proofSystem).toBe(system);
    expect(pkg.vkey.protocol).toBe(system);
    expect(manifest.setup.contributions).toEqual([]);
    const count = plonkGateCount(new Uint8Array(await pkg.artifact("r1cs")));
    // snarkjs's own count of the gates it made (read from its setup log) is the one predicted from the r1cs alone.
    expect(manifest.circuit.gates).toBe(count.gates);
    expect(count.constraints).toBe(manifest.circuit.constraints);
    // Linear combinations are free in R1CS but cost addition gates here.
    expect(count.gates).toBeGreaterThan(count.constraints + count.nPublic);
    expect(manifest.circuit.power).toBe(requiredPtauPowerFor(system, count));
    expect(manifest.setup.ptauPower).toBeGreaterThanOrEqual(manifest.circuit.power);
  });

  it("proves in process with the package's system, and verifyReceipt accepts the proof", async () => {
    expect(receipt.proof.system).toBe(system);
    expect(receipt.proof.proof.protocol).toBe(system);
    const result = await verifyReceipt(receipt, { modelPackage: pkg });
    expect(result.reason).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(result.checks.map((c) => c.name)).toContain(`${system} proof`);
    // With nothing but the bare vkey, too.
    expect((await verifyReceipt(receipt, { vkey: pkg.vkey })).valid).toBe(true);
  });

  // The pool runs one prover per system through the same worker code; FFLONK's single-threaded proof is the
  // slowest of all (minutes on a shared 2-core machine), so the pool is exercised with PLONK.
  it.runIf(system === "plonk")(
    "proves on the prover pool's workers too",
    async () => {
      const pool = createProverPool({ workers: 1 });
      try {
        const { receipt: pooled } = await verifiableInfer(pkg, demoSamples.inputs[1], { pool });
        expect(asAnyZk(pooled).proof.system).toBe(system);
        expect((await verifyReceipt(pooled, { modelPackage: pkg })).valid).toBe(true);
      } finally {
        await pool.close();
      }
    },
    SLOW,
  );

  it("rejects a receipt whose public signal was changed (receipt and signals alike)", async () => {
    const result = await verifyReceipt(withOtherOutputCommitment(receipt), { modelPackage: pkg });
    expect(result.valid).toBe(false);
    expect(result.checks.find((c) => !c.ok)?.name).toBe(`${system} proof`);
  });

  it("rejects a receipt whose proof was changed", async () => {
    const result = await verifyReceipt(withBadEvaluation(receipt), { modelPackage: pkg });
    expect(result.valid).toBe(false);
    expect(result.checks.find((c) => !c.ok)?.name).toBe(`${system} proof`);
  });

  it("rejects a receipt that claims another proof system", async () => {
    // Relabelled: the proof is not of the shape the claimed system has.
    const other = system === "plonk" ? "fflonk" : "plonk";
    const relabelled = clone(receipt) as unknown as { proof: { system: string } };
    relabelled.proof.system = other;
    expect(isVerinferError(await errorOf(verifyReceipt(relabelled, { modelPackage: pkg })), "MALFORMED_RECEIPT")).toBe(
      true,
    );
    relabelled.proof.system = "groth16";
    expect(isVerinferError(await errorOf(verifyReceipt(relabelled, { modelPackage: pkg })), "MALFORMED_RECEIPT")).toBe(
      true,
    );
    // A well-formed Groth16 receipt of the same model (same commitment) is not checked against this key.
    const groth = asZk(await receiptOf("groth16"));
    const { vkey: _vkey, ...model } = groth.model;
    const unnamed = { ...clone(groth), model };
    const result = await verifyReceipt(unnamed, { modelPackage: pkg });
    expect(result.valid).toBe(false);
    expect(result.checks.find((c) => !c.ok)?.name).toBe("proof system");
  });

  it("refuses a manifest that states another proof system than its key's", async () => {
    const store = new ArtifactStore(SYSTEMS_CACHE);
    const edited = { ...clone(pkg.manifest), proofSystem: "groth16", setup: clone(pkg.manifest.setup) };
    edited.setup.contributions = [{ name: "x", hash: "0".repeat(128) }];
    expect(isVerinferError(await errorOf(PackageClass.fromManifest(edited, store)), "ARTIFACT_CORRUPT")).toBe(true);
    const withContributions = { ...clone(pkg.manifest), setup: clone(pkg.manifest.setup) };
    withContributions.setup.contributions = [{ name: "x", hash: "0".repeat(128) }];
    expect(
      isVerinferError(await errorOf(PackageClass.fromManifest(withContributions, store)), "ARTIFACT_CORRUPT"),
    ).toBe(true);
  });

  it("requireCeremony, with a pinned ptau, reports no per-circuit trusted party", async () => {
    expect((await verifyReceipt(receipt, { modelPackage: pkg, requireCeremony: true })).valid).toBe(false);
    pinned.blake2b = pkg.manifest.setup.ptauBlake2b;
    try {
      const result = await verifyReceipt(receipt, { modelPackage: pkg, requireCeremony: true });
      expect(result.valid).toBe(true);
      const setup = result.checks.find((c) => c.name === "setup");
      expect(setup?.detail).toContain(UNIVERSAL_CEREMONY_CHECK_LIMITS);
      expect(setup?.detail).not.toContain("phase-2");
    } finally {
      pinned.blake2b = "";
    }
  });

  it("has no phase 2 to contribute to", async () => {
    expect(isVerinferError(await errorOf(contributeSetup(pkg, { name: "alice" })), "UNSUPPORTED_MODE")).toBe(true);
  });

  it(
    "passes an audit that regenerates its zkey from the r1cs and the ptau",
    async () => {
      const audit = await verifyPackage(pkg, { persist: false });
      expect(audit.checks.filter((c) => !c.ok)).toEqual([]);
      expect(audit.checks.find((c) => c.name === "zkey")?.detail).toMatch(/regenerated/);
    },
    SLOW,
  );

  it.runIf(system === "plonk")(
    "fails the audit of a package whose zkey (and key) came from another ptau than the one it names",
    async () => {
      // The same circuit set up from a larger dev ptau (other secrets): a valid zkey with its own key, not the
      // named ptau's.
      const other = (await ensureDevPtau({ power: pkg.manifest.setup.ptauPower + 1, cacheDir: SYSTEMS_CACHE })).file;
      const r1cs = new Uint8Array(await pkg.artifact("r1cs"));
      const { zkey, vkey } = await setupPlonk({ r1cs, ptauFile: other });
      const store = new ArtifactStore(SYSTEMS_CACHE);
      const manifest = clone(pkg.manifest);
      manifest.artifacts.zkey = await store.put(zkey);
      manifest.artifacts.vkey = await store.put(JSON.stringify(vkey));
      manifest.vkey = vkeyCid(vkey);
      const swapped = await PackageClass.fromManifest(manifest, store);
      const audit = await verifyPackage(swapped, { persist: false });
      expect(audit.ok).toBe(false);
      expect(audit.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["zkey"]);
    },
    SLOW,
  );
});

describe("plonk and fflonk on chain (anvil)", () => {
  let anvil: AnvilNode;
  let provider: JsonRpcProvider;
  let owner: Wallet;
  let registry: InferenceRegistryContract;

  beforeAll(async () => {
    anvil = await startAnvil();
    provider = new JsonRpcProvider(anvil.rpcUrl, undefined, {
      staticNetwork: true,
      pollingInterval: 100,
      cacheTimeout: -1,
    });
    owner = new Wallet(anvil.accounts[0] as string, provider);
    registry = (await deployRegistry(owner)).registry;
  });

  afterAll(async () => {
    provider?.destroy();
    await anvil?.stop();
  });

  it.each(SYSTEMS)(
    "%s: calldata is snarkjs's, the exported verifier accepts it, the registry records it once (a duplicate is a no-op)",
    async (system) => {
      const pkg = await demoPackageOf(system);
      const receipt = asAnyZk(await receiptOf(system));

      // Our calldata is the numbers snarkjs's own exportSolidityCallData prints.
      const ours =
        receipt.proof.system === "plonk"
          ? plonkCalldata(receipt.proof)
          : receipt.proof.system === "fflonk"
            ? fflonkCalldata(receipt.proof)
            : undefined;
      if (!ours) throw new Error("expected a universal proof");
      const theirs =
        system === "plonk"
          ? await snarkjs.plonk.exportSolidityCallData(receipt.proof.proof, receipt.proof.publicSignals)
          : await snarkjs.fflonk.exportSolidityCallData(receipt.proof.publicSignals, receipt.proof.proof);
      expect(ours.proof).toHaveLength(24);
      expect([...ours.proof, ...ours.publicSignals]).toEqual(calldataNumbers(theirs));

      // The exported verifier (snarkjs's template) accepts it, and is the one verifierMatchesVkey rebuilds.
      expect(await exportSolidityVerifier(pkg)).toMatch(
        system === "plonk" ? /contract PlonkVerifier/ : /contract FflonkVerifier/,
      );
      const verifier = (await deployVerifier(owner, pkg)).address;
      expect((await verifierMatchesVkey({ provider, verifier, vkey: pkg.vkey })).matches).toBe(true);
      const n = ours.publicSignals.length;
      const word = system === "plonk" ? "uint256" : "bytes32";
      const bare = new Contract(
        verifier,
        [`function verifyProof(${word}[24],uint256[${n}]) view returns (bool)`],
        provider,
      );
      const verifyProof = bare.getFunction("verifyProof");
      const asWords = (p: bigint[]) => (system === "plonk" ? p : p.map((v) => `0x${v.toString(16).padStart(64, "0")}`));
      expect(await verifyProof.staticCall(asWords(ours.proof), ours.publicSignals)).toBe(true);

      const { modelKey } = await registerModel(registry, {
        modelCommitment: pkg.manifest.commitments.model,
        verifier,
        proofSystem: system,
      });
      expect((await getModel(registry, modelKey))?.proofSystem).toBe(system);

      // Tampered: a changed public signal, a changed proof evaluation.
      const reason = async (r: Receipt) =>
        ((await errorOf(submitReceipt(registry, { modelKey, receipt: r }))) as { meta?: { reason?: unknown } }).meta
          ?.reason;
      expect(await reason(withOtherOutputCommitment(receipt))).toBe("ProofRejected");
      expect(await reason(withBadEvaluation(receipt))).toBe("ProofRejected");
      // A Groth16 receipt of the same model goes to another entry point, which this key refuses.
      expect(await reason(await receiptOf("groth16"))).toBe("WrongProofSystem");

      const recorded = await submitReceipt(registry, { modelKey, receipt });
      expect(recorded.kind).toBe("verified");
      const isVerified = registry.getFunction("isVerified");
      expect(await isVerified(modelKey, receipt.input.commitment, receipt.output.commitment)).toBe(true);
      // Once recorded, the same receipt again is the AlreadyVerified no-op on the universal path too.
      const before = await getInference(registry, {
        modelKey,
        inputCommitment: receipt.input.commitment,
        outputCommitment: receipt.output.commitment,
      });
      expect(await submitReceipt(registry, { modelKey, receipt })).toMatchObject({
        kind: "verified",
        alreadyRecorded: true,
        key: recorded.key,
      });
      expect(
        await getInference(registry, {
          modelKey,
          inputCommitment: receipt.input.commitment,
          outputCommitment: receipt.output.commitment,
        }),
      ).toEqual(before);
      expect(vkeyCid(pkg.vkey)).toBe(pkg.vkeyCid);
    },
    SLOW,
  );
});
