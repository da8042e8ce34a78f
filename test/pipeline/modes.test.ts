import { Wallet } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { attestData } from "../../src/attest/attest-data.js";
import { signOffchainAttestation } from "../../src/attest/eas-offchain.js";
import { encodeInferenceData, INFERENCE_SCHEMA_UID } from "../../src/attest/eas-schemas.js";
import type { Receipt, Salts } from "../../src/attest/receipt.js";
import { isVerinferError } from "../../src/errors.js";
import type { ModelPackage } from "../../src/package/model-package.js";
import { reexecute } from "../../src/pipeline/reexecute.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { DEMO_MODEL_DIR, demoPackage, demoSamples, errorOf } from "../fixtures.js";

const inferenceNode = new Wallet(`0x${"11".repeat(32)}`);
const dataNode = new Wallet(`0x${"22".repeat(32)}`);
const stranger = new Wallet(`0x${"33".repeat(32)}`);
const trusted = { trustedSigners: [inferenceNode.address] };

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

describe("receipt modes", () => {
  let pkg: ModelPackage;
  const input = demoSamples.inputs[2] as number[];
  const inputSalt = 123456789n;
  const outputSalt = 987654321n;
  const receipts: Partial<Record<"zk" | "attest" | "none", { receipt: Receipt; salts: Salts }>> = {};

  beforeAll(async () => {
    pkg = await demoPackage();
    for (const mode of ["zk", "attest", "none"] as const) {
      receipts[mode] = await verifiableInfer(pkg, input, { mode, signer: inferenceNode, inputSalt, outputSalt });
    }
  });

  it("gives the same commitments and outputs in all three modes for the same model, input and salts", () => {
    const { zk, attest, none } = receipts;
    for (const r of [attest, none]) {
      expect(r?.receipt.input.commitment).toBe(zk?.receipt.input.commitment);
      expect(r?.receipt.output.commitment).toBe(zk?.receipt.output.commitment);
      expect(r?.receipt.output.quantized).toEqual(zk?.receipt.output.quantized);
    }
    expect(attest?.receipt.proof).toBeUndefined();
    expect(none?.receipt.proof).toBeUndefined();
    expect(none?.receipt.attestation).toBeUndefined();
  });

  it("accepts an attest receipt signed by a trusted signer, listing every check", async () => {
    const result = await verifyReceipt(receipts.attest?.receipt, trusted);
    expect(result.valid).toBe(true);
    expect(result.checks.map((c) => c.name)).toContain("attested fields");
    expect(result.checks.every((c) => c.ok)).toBe(true);
  });

  it("rejects an attest receipt whose signer is not trusted", async () => {
    const result = await verifyReceipt(receipts.attest?.receipt, { trustedSigners: [stranger.address] });
    expect(result.valid).toBe(false);
    expect(result.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["attestation: trusted-signer"]);
  });

  it("rejects an attest receipt whose signer field names someone else", async () => {
    const r = clone(receipts.attest?.receipt) as Receipt;
    (r.attestation as { signer: string }).signer = stranger.address;
    expect((await verifyReceipt(r, { trustedSigners: [stranger.address] })).valid).toBe(false);
  });

  it("rejects an attest receipt whose attestation message or data was changed", async () => {
    const timeChanged = clone(receipts.attest?.receipt) as Receipt;
    const message = timeChanged.attestation?.sig.message as Record<string, unknown>;
    message.time = (BigInt(String(message.time)) + 1n).toString();
    expect((await verifyReceipt(timeChanged, trusted)).valid).toBe(false);
    const dataChanged = clone(receipts.attest?.receipt) as Receipt;
    const m2 = dataChanged.attestation?.sig.message as { data: string };
    m2.data = `${m2.data.slice(0, -2)}${m2.data.endsWith("00") ? "01" : "00"}`;
    expect((await verifyReceipt(dataChanged, trusted)).valid).toBe(false);
  });

  it("rejects a receipt whose commitments differ from its (validly signed) attestation's", async () => {
    const r = clone(receipts.attest?.receipt) as Receipt;
    r.output.commitment = receipts.zk?.receipt.input.commitment as string;
    const result = await verifyReceipt(r, trusted);
    expect(result.valid).toBe(false);
    expect(result.checks.find((c) => c.name === "attested fields")?.ok).toBe(false);
  });

  it("rejects a receipt with a changed output even when it is re-signed with other commitments", async () => {
    const r = clone(receipts.attest?.receipt) as Receipt;
    r.output.quantized[0] = (BigInt(r.output.quantized[0] as string) + 1n).toString();
    r.output.values[0] = Number(BigInt(r.output.quantized[0] as string)) / 2 ** r.output.fracBits;
    r.output.maxAbsError = Math.max(...r.output.values.map((v, j) => Math.abs(v - (r.output.float[j] as number))));
    expect((await verifyReceipt(r, trusted)).valid).toBe(false);
  });

  it("rejects an attestation older than maxAge, and accepts it within maxAge", async () => {
    const later = new Date(Date.now() + 3_600_000);
    const old = await verifyReceipt(receipts.attest?.receipt, { ...trusted, maxAge: 60, now: later });
    expect(old.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["attestation: max-age"]);
    expect((await verifyReceipt(receipts.attest?.receipt, { ...trusted, maxAge: 7200, now: later })).valid).toBe(true);
  });

  it("rejects an expired attestation", async () => {
    const r = clone(receipts.attest?.receipt) as Receipt;
    const fields = {
      modelId: r.model.id,
      modelCommitment: BigInt(r.model.commitment),
      inputCommitment: BigInt(r.input.commitment),
      outputCommitment: BigInt(r.output.commitment),
      outputHash: (await import("../../src/attest/output-hash.js")).outputHash(r.output.quantized, r.output.fracBits),
      mode: "attest",
      backend: r.backend,
    };
    const now = BigInt(Math.floor(Date.now() / 1000));
    r.attestation = await signOffchainAttestation(
      { schema: INFERENCE_SCHEMA_UID, data: encodeInferenceData(fields), time: now - 100n, expirationTime: now - 10n },
      { signer: inferenceNode },
    );
    const result = await verifyReceipt(r, trusted);
    expect(result.valid).toBe(false);
    expect(result.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["attestation: not-expired"]);
  });

  it("needs trustedSigners to judge an attest receipt", async () => {
    const error = await errorOf(verifyReceipt(receipts.attest?.receipt, {}));
    expect(isVerinferError(error, "INVALID_OPTIONS")).toBe(true);
  });

  it("reports a none receipt as carrying no guarantee, and requireMode rejects other modes", async () => {
    const none = await verifyReceipt(receipts.none?.receipt, {});
    expect(none.valid).toBe(false);
    const zk = await verifyReceipt(receipts.zk?.receipt, { modelPackage: pkg, requireMode: "attest" });
    expect(zk.valid).toBe(false);
    expect(zk.checks.find((c) => c.name === "mode")?.ok).toBe(false);
  });

  it("re-executes honest receipts of all three modes bit-exactly", async () => {
    for (const mode of ["zk", "attest", "none"] as const) {
      const r = receipts[mode];
      expect(await reexecute(r?.receipt, { modelPackage: pkg, input, salts: r?.salts as Salts })).toEqual({
        valid: true,
      });
    }
  });

  it("re-executes from the model directory without a compiled package", async () => {
    const r = receipts.none;
    const result = await reexecute(r?.receipt, {
      model: DEMO_MODEL_DIR,
      quantization: { calibration: demoSamples.calibration },
      input,
      salts: r?.salts as Salts,
    });
    expect(result).toEqual({ valid: true });
  });

  it("rejects re-execution with a changed output, another input, or a wrong salt", async () => {
    const r = receipts.zk as { receipt: Receipt; salts: Salts };
    const changed = clone(r.receipt);
    changed.output.quantized[1] = (BigInt(changed.output.quantized[1] as string) - 1n).toString();
    expect((await reexecute(changed, { modelPackage: pkg, input, salts: r.salts })).valid).toBe(false);
    const other = demoSamples.inputs[3] as number[];
    expect((await reexecute(r.receipt, { modelPackage: pkg, input: other, salts: r.salts })).valid).toBe(false);
    const wrongSalt = { ...r.salts, output: "42" };
    expect((await reexecute(r.receipt, { modelPackage: pkg, input, salts: wrongSalt })).valid).toBe(false);
    await expect(
      reexecute(r.receipt, { modelPackage: pkg, input, salts: { input: "x", output: "1" } }),
    ).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
  });
});

describe("data node provenance", () => {
  let pkg: ModelPackage;
  const values = demoSamples.inputs[1] as number[];

  beforeAll(async () => {
    pkg = await demoPackage();
  });

  it("links an inference receipt to the data attestation of its input, and verifies the chain", async () => {
    const data = await attestData(
      { source: "https://feed.example/glyphs", values, shape: [16], fetchedAt: new Date() },
      { signer: dataNode, quantization: pkg },
    );
    const { receipt } = await verifiableInfer(pkg, values, {
      mode: "attest",
      signer: inferenceNode,
      inputSalt: data.salt,
      dataAttestation: data.attestation,
    });
    expect(receipt.input.commitment).toBe(data.commitment.toString());
    expect(receipt.input.dataAttestation).toBe(data.attestation.sig.uid);
    expect(String(receipt.attestation?.sig.message.refUID)).toBe(data.attestation.sig.uid);
    const chain = { ...trusted, trustedDataSigners: [dataNode.address], dataAttestation: data.attestation };
    expect(await verifyReceipt(receipt, chain)).toMatchObject({ valid: true });
    expect((await verifyReceipt(receipt, { ...chain, trustedDataSigners: [stranger.address] })).valid).toBe(false);
  });

  it("rejects a data attestation whose commitment differs from the receipt's input commitment", async () => {
    const data = await attestData(
      { source: "feed", values: demoSamples.inputs[0], shape: [16], fetchedAt: 1_700_000_000 },
      { signer: dataNode, quantization: pkg },
    );
    const { receipt } = await verifiableInfer(pkg, values, { mode: "attest", signer: inferenceNode });
    const result = await verifyReceipt(receipt, {
      ...trusted,
      trustedDataSigners: [dataNode.address],
      dataAttestation: data.attestation,
    });
    expect(result.valid).toBe(false);
    expect(result.checks.find((c) => c.name === "data commitment")?.ok).toBe(false);
  });

  it("refuses to infer with a data attestation that the input and salt do not open", async () => {
    const data = await attestData(
      { source: "feed", values, shape: [16], fetchedAt: 1_700_000_000 },
      { signer: dataNode, quantization: pkg },
    );
    const error = await errorOf(
      verifiableInfer(pkg, values, { inputSalt: data.salt + 1n, dataAttestation: data.attestation }),
    );
    expect(isVerinferError(error, "INVALID_OPTIONS")).toBe(true);
  });

  it("refuses a malformed data attestation option with INVALID_OPTIONS", async () => {
    for (const dataAttestation of [{}, { sig: {}, signer: "0x1" }]) {
      const error = await errorOf(
        verifiableInfer(pkg, values, { inputSalt: 1n, dataAttestation: dataAttestation as never }),
      );
      expect(isVerinferError(error, "INVALID_OPTIONS")).toBe(true);
    }
  });

  it("rejects a data attestation made for another input quantization", async () => {
    const other = { ...pkg.network, input: { ...pkg.network.input, fracBits: pkg.network.input.fracBits - 1 } };
    const data = await attestData(
      { source: "feed", values, shape: [16], fetchedAt: 1_700_000_000 },
      { signer: dataNode, quantization: other },
    );
    const refused = await errorOf(
      verifiableInfer(pkg, values, { inputSalt: data.salt, dataAttestation: data.attestation }),
    );
    expect(isVerinferError(refused, "INVALID_OPTIONS")).toBe(true);
    const { receipt } = await verifiableInfer(pkg, values, { mode: "attest", signer: inferenceNode });
    const result = await verifyReceipt(receipt, {
      ...trusted,
      modelPackage: pkg,
      trustedDataSigners: [dataNode.address],
      dataAttestation: data.attestation,
    });
    expect(result.checks.find((c) => c.name === "data quantization")?.ok).toBe(false);
  });

  it("refuses bad data payloads with INVALID_INPUT", async () => {
    for (const payload of [
      { source: "", values, shape: [16], fetchedAt: 1 },
      { source: "feed", values, shape: [4, 5], fetchedAt: 1 },
      { source: "feed", values: [...values.slice(0, 15), Number.NaN], shape: [16], fetchedAt: 1 },
      { source: "feed", values: values.map(() => 9), shape: [16], fetchedAt: 1 },
      { source: "feed", values, shape: [16], fetchedAt: -5 },
    ]) {
      const error = await errorOf(attestData(payload, { signer: dataNode, quantization: pkg }));
      expect(isVerinferError(error, "INVALID_INPUT")).toBe(true);
    }
  });
});
