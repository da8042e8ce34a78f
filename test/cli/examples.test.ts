import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { main as byom } from "../../examples/bring-your-own-model.js";
import { main as checkProof } from "../../examples/check-proof.js";
import { main as cnnExample } from "../../examples/cnn.js";
import { type DataNodeBundle, main as dataNodeFlow } from "../../examples/data-node-flow.js";
import { main as serviceCall } from "../../examples/service-call.js";
import { type VerifierConfig, main as verifierNode } from "../../examples/verifier-node.js";
import { decodeDataAttestationData } from "../../src/attest/eas-schemas.js";
import { attestData } from "../../src/index.js";
import { demoPackage, TEST_CACHE } from "../fixtures.js";

describe("examples", () => {
  let receiptDir = "";

  it("service-call answers valid inputs with receipts and a NaN input with a 400 and its code", async () => {
    const responses = await serviceCall(TEST_CACHE);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 400]);
    expect(responses[2]?.error?.code).toBe("INVALID_INPUT");
    receiptDir = await mkdtemp(path.join(os.tmpdir(), "verinfer-example-"));
    const { demoPackage } = await import("../fixtures.js");
    const pkg = await demoPackage();
    await writeFile(path.join(receiptDir, "receipt.json"), JSON.stringify(responses[0]?.receipt));
    await writeFile(path.join(receiptDir, "vkey.json"), JSON.stringify(pkg.vkey));
  });

  it("check-proof accepts the service's receipt with verinfer and raw snarkjs", async () => {
    expect(await checkProof(receiptDir)).toEqual({ verinfer: true, snarkjs: true });
  });

  it("check-proof rejects the receipt once its output is changed", async () => {
    const file = path.join(receiptDir, "receipt.json");
    const receipt = JSON.parse(await readFile(file, "utf8"));
    receipt.proof.publicSignals[3] = (BigInt(receipt.proof.publicSignals[3]) + 1n).toString();
    receipt.output.quantized[0] = (BigInt(receipt.output.quantized[0]) + 1n).toString();
    await writeFile(file, JSON.stringify(receipt));
    const result = await checkProof(receiptDir);
    expect(result.verinfer).toBe(false);
    expect(result.snarkjs).toBe(false);
  });
});

describe("examples: bring your own model", () => {
  it("trains, saves without tfjs-node, compiles, proves, exports, and a fresh cache verifies from the export", async () => {
    const result = await byom({ cacheDir: TEST_CACHE });
    expect(result.valid).toBe(true);
    expect(result.constraints).toBeGreaterThan(0);
    expect(result.argmaxAgreement).toBeGreaterThanOrEqual(0.95);
  });
});

describe("examples: a CNN with a softmax head", () => {
  it("trains a tiny CNN, proves one image and states its proven class, which verifies", async () => {
    const result = await cnnExample({ cacheDir: TEST_CACHE });
    expect(result.valid).toBe(true);
    // Seeded training on the cpu backend: the same model every run, and it classifies this image correctly.
    expect(result.provenClass).toBe(result.label);
    expect(result.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(result.constraints).toBeGreaterThan(0);
  }, 600_000);
});

describe("examples: data node → inference node → verifier node", () => {
  let bundle: DataNodeBundle;
  let config: VerifierConfig;

  beforeAll(async () => {
    // A private copy of the test cache: the flow persists a deferred proof job, and test/receipts/deferred.test.ts counts
    // the pending jobs of the cache it copies.
    const cacheDir = await mkdtemp(path.join(os.tmpdir(), "verinfer-data-node-"));
    for (const sub of ["objects", "models"]) {
      await cp(path.join(TEST_CACHE, sub), path.join(cacheDir, sub), { recursive: true });
    }
    bundle = await dataNodeFlow(cacheDir);
    config = {
      modelPackage: await demoPackage(),
      trustedSigners: [bundle.signers.inferenceNode],
      trustedDataSigners: [bundle.signers.dataNode],
    };
  });

  it("data-node-flow returns an attested receipt bound to the data attestation, and a zk receipt of it", () => {
    const data = decodeDataAttestationData(bundle.dataAttestation.sig.message.data);
    expect(bundle.attested.mode).toBe("attest");
    expect(bundle.attested.input.commitment).toBe(data.commitment.toString());
    expect(bundle.attested.attestation?.sig.message.refUID).toBe(bundle.dataAttestation.sig.uid);
    expect(bundle.attested.input.dataAttestation).toBe(bundle.dataAttestation.sig.uid);
    expect(bundle.dataAttestation.signer).toBe(bundle.signers.dataNode);
    expect(bundle.attested.attestation?.signer).toBe(bundle.signers.inferenceNode);
    expect(bundle.salts.input).toBe(bundle.dataSalt);
    expect(bundle.zk.mode).toBe("zk");
    expect(bundle.zk.output.commitment).toBe(bundle.attested.output.commitment);
  });

  it("verifier-node accepts the honest bundle by signature, proof, re-execution and matching commitments", async () => {
    const report = await verifierNode(bundle, config);
    expect(report.attested).toMatchObject({ valid: true });
    expect(report.attested.checks.map((c) => c.name)).toContain("data attestation: trusted-signer");
    expect(report.zk).toMatchObject({ valid: true });
    expect(report.zk.checks.map((c) => c.name)).toContain("groth16 proof");
    expect(report.reexecutedAttested).toEqual({ valid: true });
    expect(report.reexecutedZk).toEqual({ valid: true });
    expect(report.sameCommitments).toEqual({ valid: true });
    expect(report.valid).toBe(true);
  });

  it("rejects a bundle whose attested receipt output was changed", async () => {
    // Through JSON, as a verifier receives it: in memory the zk receipt shares its `output` object with the
    // attested receipt it was proven from, so an in-memory edit of one would change both.
    const tampered = JSON.parse(JSON.stringify(bundle)) as DataNodeBundle;
    const out = tampered.attested.output;
    // Changed consistently (values and error follow), so only the signature and re-execution can catch it.
    out.quantized[0] = (BigInt(out.quantized[0] as string) + 1n).toString();
    out.values[0] = Number(out.quantized[0]) / 2 ** out.fracBits;
    out.maxAbsError = Math.max(...out.values.map((v, j) => Math.abs(v - (out.float[j] as number))));
    const report = await verifierNode(tampered, config);
    expect(report.valid).toBe(false);
    expect(report.attested.valid).toBe(false);
    expect(report.attested.checks.find((c) => !c.ok)?.name).toBe("attested fields");
    expect(report.reexecutedAttested.valid).toBe(false);
    expect(report.sameCommitments.valid).toBe(false);
    expect(report.zk.valid).toBe(true);
  });

  it("rejects a bundle whose data attestation was swapped for one signed by an untrusted key", async () => {
    // Same values and salt, hence the same commitment: only the key differs.
    const rogue = await attestData(
      { source: bundle.source, values: bundle.input, shape: [16], fetchedAt: new Date() },
      { signer: Wallet.createRandom(), quantization: config.modelPackage, salt: BigInt(bundle.dataSalt) },
    );
    expect(decodeDataAttestationData(rogue.attestation.sig.message.data).commitment.toString()).toBe(
      bundle.attested.input.commitment,
    );
    const report = await verifierNode({ ...bundle, dataAttestation: rogue.attestation }, config);
    expect(report.valid).toBe(false);
    expect(report.attested.valid).toBe(false);
    expect(report.attested.checks.find((c) => !c.ok)?.name).toBe("data attestation: trusted-signer");
  });

  it("rejects re-execution with a wrong salt, though signature and proof still verify", async () => {
    const salts = { ...bundle.salts, input: (BigInt(bundle.salts.input) + 1n).toString() };
    const report = await verifierNode({ ...bundle, salts }, config);
    expect(report.valid).toBe(false);
    expect(report.reexecutedAttested.valid).toBe(false);
    expect(report.reexecutedZk.valid).toBe(false);
    expect(report.attested.valid).toBe(true);
    expect(report.zk.valid).toBe(true);
  });
});
